"""Safe reading of YAML and JSON documents, with YAML 1.1's traps removed.

* Only plain data: no tags that construct objects (``!!python/...`` is refused).
* Numbers as YAML 1.2 reads them: ``1e-3``, ``-.2`` and ``.5`` are floats, ``012`` is twelve;
  ``no``, ``on`` and ``yes`` stay strings (only true/false are booleans) and ``1:30`` is a
  string, not 90 — so a numeric field holding them is refused by validation.
* No anchors and aliases (``*name``): an alias bomb cannot expand; duplicate keys refused.
* Any failure becomes an :class:`~deltarule.errors.InputError` naming the file and line.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: fast on big files


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 core-schema scalars and no duplicate keys."""


StrictLoader.yaml_implicit_resolvers = {}
_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
]
for _tag, _regex, _first in _RESOLVERS:
    StrictLoader.add_implicit_resolver(_tag, re.compile(_regex), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0x", "0o")):
        return int(text, 16 if text[1] == "x" else 8)
    return int(text, 10)  # decimal always: 012 is twelve, not YAML 1.1's octal ten


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "a mapping key must be plain text",
                                                    key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


def _construct_map_deep(loader, node):
    _construct_mapping(loader, node)  # checks only
    data: dict = {}
    yield data
    data.update(loader.construct_mapping(node))


StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map_deep)

MAX_DEPTH = 64


def _check_plain(doc: Any) -> None:
    """Refuse aliases (a container met twice) and absurd nesting, without recursion."""
    seen: set[int] = set()
    stack = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (list, dict)):
            if depth > MAX_DEPTH:
                raise InputError(f"nested more than {MAX_DEPTH} levels deep")
            if id(node) in seen:
                raise InputError("anchors and aliases (&name, *name) are not allowed")
            seen.add(id(node))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children)


def parse_text(text: str, file: str, *, json_only: bool = False) -> Any:
    """Parse a YAML (or JSON) document held in ``text``; errors name ``file``."""
    try:
        if json_only:
            doc = json.loads(text)
        else:
            doc = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", f"line {e.lineno}, column {e.colno}", file) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = (e.problem or e.context or "unreadable").strip()
        if "constructor for the tag" in what:
            what = "tags that construct objects are not allowed"
        raise InputError(f"not valid YAML: {what}", where, file) from None
    except yaml.YAMLError as e:
        raise InputError(f"not valid YAML: {str(e).splitlines()[0]}", "", file) from None
    except RecursionError:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", "", file) from None
    try:
        _check_plain(doc)
    except InputError as e:
        raise e.in_file(file) from None
    return doc


MAX_FILE_BYTES = 64 * 1024 * 1024


def read_document(path: str | Path) -> Any:
    """Read a YAML or JSON file (by extension ``.json``, else YAML) safely."""
    path = Path(path)
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size / 2**20:.0f} MiB; problem files are limited to "
                             f"{MAX_FILE_BYTES // 2**20} MiB (put large data in a CSV or NPZ file)", "", file)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", "", file) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", "", file) from None
    except PermissionError:
        raise InputError("permission denied", "", file) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not a text file (invalid UTF-8 at byte {e.start})", "", file) from None
    if "\x00" in text:
        raise InputError("not a text file (contains NUL bytes)", "", file)
    return parse_text(text, file, json_only=path.suffix.lower() == ".json")

"""Safe reading of YAML and JSON documents, with YAML 1.1's traps removed.

* Only plain data: no tags that construct objects (``!!python/...`` is refused).
* Numbers as YAML 1.2 reads them: ``1e-3``, ``-.2`` and ``.5`` are floats, ``012`` is twelve;
  ``no``, ``on`` and ``yes`` stay strings (only true/false are booleans) and ``1:30`` is a
  string, not 90 — so a numeric field holding them is refused by validation. Hexadecimal and
  octal (``0x1F``, ``0o17``) are text too: a problem file means the same in YAML and JSON.
* Only the core tags (text, numbers, true/false, null, lists, mappings): ``!!binary``,
  ``!!set``, ``!!timestamp``, ``!!omap``, ``!!pairs`` and every ``!!python/...`` are refused.
* No anchors and aliases of lists or mappings (``*name``): an alias bomb cannot expand (an alias
  of a single scalar is harmless and passes); duplicate keys refused, in JSON too.
* Any failure becomes an :class:`~deltarule.errors.InputError` naming the file and line.
"""
from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError
from .limits import MAX_FILE_BYTES
from .reader import file_name, read_bytes

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: fast on big files


class StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader with YAML 1.2 core-schema scalars and no duplicate keys."""


StrictLoader.yaml_implicit_resolvers = {}
_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
     r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
]
for _tag, _regex, _first in _RESOLVERS:
    StrictLoader.add_implicit_resolver(_tag, re.compile(_regex), list(_first))


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node)
    if len(text) > 400:  # int() would refuse beyond 4300 digits; no number needs 400
        raise yaml.constructor.ConstructorError(None, None, f"a number of {len(text)} digits is too long",
                                                node.start_mark)
    try:
        return int(text, 10)  # decimal always: 012 is twelve, not YAML 1.1's octal ten
    except ValueError:  # an explicit !!int on something that is not a decimal integer
        raise yaml.constructor.ConstructorError(None, None, f"not a whole number: {text[:40]!r}",
                                                node.start_mark) from None


def _float(text: str) -> float:
    """YAML 1.2 float text: ``.5``, ``-1e-3``, ``.inf``, ``.nan`` (no ``_``, no ``1:30``)."""
    special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    if text.lower() in special:
        return special[text.lower()]
    if not re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", text):
        raise ValueError(text)
    return float(text)


def _construct_scalar_as(kind: str, convert):
    """An explicit ``!!float`` / ``!!bool`` on bad text is a YAML error, not a crash."""
    def construct(loader: yaml.SafeLoader, node: yaml.Node):
        text = loader.construct_scalar(node)
        try:
            return convert(text)
        except (ValueError, KeyError, TypeError):
            raise yaml.constructor.ConstructorError(None, None, f"not {kind}: {str(text)[:40]!r}",
                                                    node.start_mark) from None
    return construct


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    if not isinstance(node, yaml.MappingNode):
        raise yaml.constructor.ConstructorError(None, None, f"expected a mapping, but found {node.id}",
                                                node.start_mark)
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


_CORE_TAGS = ("null", "bool", "int", "float", "str", "seq", "map")
StrictLoader.yaml_constructors = {k: v for k, v in StrictLoader.yaml_constructors.items()
                                  if k is None or k.rsplit(":", 1)[-1] in _CORE_TAGS}
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_scalar_as("a number", _float))
StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_scalar_as(
    "true or false", lambda t: {"true": True, "false": False}[t.lower()]))
StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_map_deep)

MAX_DEPTH = 64


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_plain(doc: Any) -> None:
    """Refuse aliases (a container met twice), absurd nesting, and text holding a lone surrogate
    (JSON's ``"\\ud800"``: not a character, no encoder can write it), without recursion."""
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
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend([(c, depth + 1) for c in children if isinstance(c, (list, dict, str))])
        elif isinstance(node, str) and not node.isascii() and _SURROGATE.search(node):
            raise InputError("text holds a lone surrogate (such as \\ud800), which is not a character; "
                             "write the character itself")


class _JSONDuplicate(ValueError):
    pass


def _json_object(pairs: list) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _JSONDuplicate(f"duplicate key {key!r}")
        out[key] = value
    return out


class _JSONNumber(ValueError):
    pass


def _json_int(text: str) -> int:
    """A JSON integer, refused beyond 400 digits (as YAML's are): int() of 5,000 digits raises."""
    if len(text) > 400:
        raise _JSONNumber(f"a number of {len(text):,} digits is too long")
    return int(text)


def _json_constant(name: str) -> float:
    return float(name)  # NaN, Infinity: read, then refused by validation as not finite


# -- a fast path for big tables of numbers ------------------------------------------------------
# libyaml still builds a Python node for every scalar (tens of microseconds each), so a 1 MB table
# takes seconds. In a big file, lists of plain numbers are read directly instead: a flow list on one
# line (``[[0.1, 0.2], [0.3, 0.4]]``), or a run of block items that are each such a list or a number
# (``- [0.1, 0.2]`` line after line). Each becomes a placeholder of the same length (lines and
# columns of errors stay right), read with the same rules (YAML 1.2: ``012`` is twelve, ``.5`` and
# ``1e-3`` are floats) and put back after parsing. If any placeholder does not come back as a whole
# value, or anything goes wrong, the original text is parsed the ordinary way: the fast path can
# only give the same document sooner.
FAST_PATH_BYTES = 64 * 1024
_NUM = r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
_FLAT = rf"\[[ \t]*(?:{_NUM}(?:[ \t]*,[ \t]*{_NUM})*)?[ \t]*\]"
_FLOW = re.compile(rf"\[[ \t]*{_FLAT}(?:[ \t]*,[ \t]*{_FLAT})*[ \t]*\]|{_FLAT}")
_ITEM = re.compile(rf"([ \t]*)- [ \t]*({_FLAT}|{_NUM})[ \t]*")
_MARK = "__deltarule_table"


_RUN = re.compile(rf"(?:^([ \t]*)- [ \t]*(?:{_FLAT}|{_NUM})[ \t]*\n)(?:\1- [ \t]*(?:{_FLAT}|{_NUM})[ \t]*\n){{7,}}",
                  re.M)
_VALUE = re.compile(r"([ \t]*(?:- |[A-Za-z_][A-Za-z_0-9]*:[ \t]))[ \t]*(\[.*\])[ \t]*")


def _plain_numbers(value: Any) -> bool:
    """A list of numbers, or a list of lists of numbers (what a JSON reading may hand back)."""
    if not isinstance(value, list):
        return False
    kinds = set(map(type, value))
    if kinds == {list}:
        kinds = set(map(type, itertools.chain.from_iterable(value)))
    return kinds <= {int, float}


def _numbers(flow: str) -> list:
    """A one-line list (or list of lists) of plain numbers, as YAML 1.2 reads them."""
    try:  # most tables are also JSON, whose numbers read the same: 1 and -0 whole, 0.5 and 1e3 not
        return json.loads(flow)
    except ValueError:  # .5, 1., +1, 012 are YAML 1.2 numbers but not JSON ones
        pass
    if flow.strip()[1:].lstrip(" \t").startswith("["):
        return [_numbers(row) for row in re.findall(r"\[[^\[\]]*\]", flow[1:-1])]
    return [float(t) if "." in t or "e" in t or "E" in t else int(t, 10)
            for t in (t.strip() for t in flow.strip()[1:-1].split(",")) if t]


def _items(run: str) -> list:
    """The values of a run of block items ``- [..]`` / ``- 0.5``, one per line."""
    items = [line.split("-", 1)[1].strip() for line in run.splitlines()]
    try:
        return json.loads("[" + ",".join(items) + "]")
    except ValueError:
        return [_numbers(t) if t.startswith("[") else _numbers(f"[{t}]")[0] for t in items]


def _tables(text: str) -> tuple[str, list]:
    """The text with big numeric lists replaced by placeholders, and the lists."""
    tables: list = []

    def place(value: Any, width: int) -> str:
        tables.append(value)
        return f"{_MARK}{len(tables) - 1}__".ljust(width)

    def run(m: re.Match) -> str:  # a run of block items: one placeholder, then blank lines
        return m.group(1) + " " + place(_items(m.group()), 0) + "\n" * m.group().count("\n")

    def flow(m: re.Match) -> str:
        return place(_numbers(m.group()), len(m.group())) if len(m.group()) > 64 else m.group()

    lines = _RUN.sub(run, text).split("\n")
    for i, line in enumerate(lines):
        if len(line) > 64 and "[" in line:
            whole = _VALUE.fullmatch(line)  # the whole value at once, when it is JSON
            try:
                value = json.loads(whole.group(2)) if whole else None
            except ValueError:
                value = None
            if _plain_numbers(value):
                lines[i] = whole.group(1) + place(value, len(whole.group(2)))
            else:
                lines[i] = _FLOW.sub(flow, line)
    return "\n".join(lines), tables


def _put_back(doc: Any, tables: list) -> bool:
    """Replace the placeholders in ``doc`` by their lists; False if any is not a whole value."""
    found, stack = 0, [doc]
    while stack:
        node = stack.pop()
        keys = node.keys() if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else ()
        for k in keys:
            if isinstance(k, str) and k.startswith(_MARK):
                return False
            v = node[k]
            if isinstance(v, str) and v.startswith(_MARK):
                index = v[len(_MARK):-2]
                if not (v.endswith("__") and index.isdigit() and int(index) < len(tables)):
                    return False
                node[k], found = tables[int(index)], found + 1
            elif isinstance(v, (dict, list)):
                stack.append(v)
    return found == len(tables)


class _TableLoader(StrictLoader):
    """StrictLoader that refuses a placeholder anywhere but as a plain scalar (not in quotes,
    not in a ``|`` or ``>`` block of text): there it would not be a table of the file."""


def _construct_str(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    value = loader.construct_scalar(node)
    if value.startswith(_MARK) and node.style:  # plain: None (Python parser) or "" (libyaml)
        raise yaml.constructor.ConstructorError(None, None, "placeholder in text", node.start_mark)
    return value


_TableLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_TAG_OR_LONG = re.compile(r"(?:^|[\s\[{,:])!|[0-9]{400}")  # tags and over-long numbers: ordinary path


def _load_yaml(text: str) -> Any:
    if len(text) > FAST_PATH_BYTES and _MARK not in text and not _TAG_OR_LONG.search(text):
        try:
            fast, tables = _tables(text)
            if tables:
                doc = yaml.load(fast, Loader=_TableLoader)  # noqa: S506
                _check_plain(doc)  # before the tables go in: they are fresh lists, 2 levels deep
                if _put_back(doc, tables):
                    return doc
        except Exception:  # noqa: BLE001 - any trouble: the ordinary path decides
            pass
    doc = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    _check_plain(doc)
    return doc


def parse_text(text: str, file: str, *, json_only: bool = False) -> Any:
    """Parse a YAML (or JSON) document held in ``text``; errors name ``file``."""
    try:
        if json_only:
            doc = json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant,
                             parse_int=_json_int)
            _check_plain(doc)
        else:
            doc = _load_yaml(text)  # checked there
    except InputError as e:
        raise e.in_file(file) from None
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", f"line {e.lineno}, column {e.colno}", file) from None
    except (_JSONDuplicate, _JSONNumber) as e:
        raise InputError(f"not valid JSON: {e}", "", file) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = "not valid YAML: " + (e.problem or e.context or "unreadable").strip()
        if "constructor for the tag" in what:
            tag = what.split("tag", 1)[1].strip(" '\"").replace("tag:yaml.org,2002:", "!!")
            what = (f"the tag {tag[:60]} is not allowed (a problem file holds only numbers, text, "
                    f"true/false, lists and mappings; nothing is constructed or run)")
        raise InputError(what, where, file) from None
    except yaml.YAMLError as e:
        raise InputError(f"not valid YAML: {str(e).splitlines()[0]}", "", file) from None
    except RecursionError:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", "", file) from None
    return doc


def read_document(path: str | Path, what: str = "problem files") -> Any:
    """Read a YAML or JSON file (by extension ``.json``, else YAML) safely.

    Through :func:`deltarule.reader.read_bytes`: a regular file only, at most ``MAX_FILE_BYTES``
    (64 MiB, counted while reading); ``what`` names the kind of file in that refusal.
    """
    file = file_name(path, "a problem file" if what == "problem files" else "a file")
    hint = " (put large data in a CSV or NPZ file)" if what == "problem files" else ""
    raw = read_bytes(file, MAX_FILE_BYTES, what, hint)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"not a text file (invalid UTF-8 at byte {e.start})", "", file) from None
    if "\x00" in text:
        raise InputError("not a text file (contains NUL bytes)", "", file)
    return parse_text(text, file, json_only=Path(file).suffix.lower() == ".json")

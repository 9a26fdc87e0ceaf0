"""Answers files: reading them, the claim names, and each claim validated against the problem.

A claim's name is ``[stepK.]BASE[[i[,j]]]`` with BASE one of ``z{l} a{l} fprime{l} dL_da{l}
delta{l} dW{l} db{l} W{l}_new b{l}_new loss losses loss_after`` (layers and indices 1-based, ASCII digits
only), an optimizer's state after the update ``vW{l} vb{l} mW{l} mb{l} sW{l} sb{l}``, their
bias-corrected ``mW{l}_hat``, ... and the step count ``t`` (names the problem's optimizer has), or ``paths.dW{l}[i,j]`` / ``paths.db{l}[i]``: the value of each chain-rule path from that
parameter to the loss, in the order ``solve --chain`` prints them (per example, one number per path). A claim holds its entries in the checker's internal shape: per-example quantities
are (n examples, units) even where the file writes a vector for a one-example update.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..formatting import safe_text
from ..network import chain_paths, chain_routes
from ..fields import _kind, integer, mapping, matrix, number, vector
from ..problem import Problem

ANSWERS_FIELDS = ("problem", "decimals", "answers", "name", "description", "student", "exercise")
ENTRY_FIELDS = ("value", "decimals")
MAX_STEPS = 10_000
MAX_DECIMALS = 15
KINDS = ("z", "a", "dL_da", "delta", "dW", "db")
PER_EXAMPLE = ("z", "a", "fprime", "dL_da", "delta", "paths")
NAME_HELP = ("z{l}, a{l}, fprime{l}, dL_da{l}, delta{l}, dW{l}, db{l}, W{l}_new, b{l}_new, loss, losses, "
             "loss_after, paths.dW{l}[i,j], paths.db{l}[i], and an optimizer's vW{l}, vb{l}, mW{l}, mb{l}, "
             "sW{l}, sb{l}, mW{l}_hat, ..., t")
MAX_PATHS = 64  # chain-rule paths one claim may list
WHOLE = ("loss", "loss_after", "losses", "t")  # names of no layer
# [0-9], not \d: \d also matches other scripts' digits ('z١'), which int() reads but no name has
_NAME = re.compile(r"^(?:step(?P<step>[0-9]+)\.)?(?P<base>paths\.(?:dW[0-9]+\[[0-9]+,[0-9]+\]|db[0-9]+\[[0-9]+\])|loss_after|losses|loss|t|(?:z|a|fprime|dL_da|delta|dW|db)[0-9]+"
                   r"|[Wb][0-9]+_new|[vms][Wb][0-9]+(?:_hat)?)(?:\[(?P<i>[0-9]+)(?:,(?P<j>[0-9]+))?\])?$")
_BASE = re.compile(r"^(loss_after|losses|loss|t|z|a|fprime|dL_da|delta|dW|db|W|b|[vms][Wb])([0-9]*)(_new|_hat)?$")
_PATHS = re.compile(r"^paths\.d([Wb])([0-9]+)\[([0-9]+)(?:,([0-9]+))?\]$")
Node = tuple  # (step k, base name): (1, "dW1")


def field_of(key: Any) -> str:
    """``answers.KEY`` as an error's field, control characters shown as escapes (never obeyed)."""
    return f"answers.{safe_text(str(key))}"


def split(name: str) -> tuple[str, int]:
    """('dW', 1) for 'dW1', ('W_new', 2) for 'W2_new', ('loss', 0) for 'loss', ('paths', 1) for 'paths.dW1[1,2]',
    ('vW', 1) for 'vW1', ('mb_hat', 2) for 'mb2_hat', ('t', 0) for 't'."""
    if name.startswith("paths."):
        return "paths", int(_PATHS.match(name).group(2))
    m = _BASE.match(name)
    return (m.group(1) + (m.group(3) or "")), int(m.group(2) or 0)


def is_state(kind: str) -> bool:
    """True for an optimizer's state or its bias correction (``vW``, ``mb``, ``sW_hat``), not ``t``."""
    return len(kind) >= 2 and kind[0] in "vms" and kind[1] in "Wb"


def state_names(step) -> dict:
    """An optimizer step's state after the update, its ``_hat`` values and ``t`` (empty when plain)."""
    return {**(step.state or {}), **(step.hats or {})}


def _no_state(base: str, step, layers: int) -> str:
    """Why ``base`` is no number of this update: plain descent keeps no state, or the optimizer
    keeps other names (listed per layer)."""
    opt = step.optimizer
    if step.state is None:
        return (f"unknown name {base!r}: this problem's update is plain gradient descent, which keeps no "
                f"optimizer state (a problem with optimizer: has vW{{l}}, mW{{l}}, ..., t)")
    per_layer = [n.replace("1", "{l}") for n in opt.state_names(1)[:-1] + opt.hat_names(1)]
    return (f"unknown name {base!r}: the {opt.name} optimizer keeps "
            f"{', '.join(per_layer + ['t'])} (l = 1..{layers})")


def label(node: Node) -> str:
    """The name a student writes for ``node``: ``dW1``, or ``step2.dW1`` for later updates."""
    return f"step{node[0]}.{node[1]}" if node[0] > 1 else node[1]


def half_unit(decimals: int) -> float:
    """1/2 * 10^-d: how far a number stated to d decimals may be from the value and be right."""
    return 0.5 * 10.0 ** -decimals


def close(c: np.ndarray, v: np.ndarray, tol: Any) -> np.ndarray:
    """|c - v| <= tol, ties right, with a relative slack of 1e-9 for floating point."""
    c, v = np.asarray(c, float), np.asarray(v, float)
    with np.errstate(all="ignore"):  # a non-finite value (from absurd claims) matches nothing
        slack = 1e-9 * np.maximum(np.maximum(np.abs(c), np.abs(v)), tol)
        return np.isfinite(v) & np.isfinite(c) & (np.abs(c - v) <= tol + slack)


def read_decimals(v: Any, path: str) -> int:
    """A ``decimals:`` field: an integer 0..15."""
    d = integer(v, path, 0)
    if d > MAX_DECIMALS:
        raise InputError(f"at most {MAX_DECIMALS} decimals are meaningful, got {d}", path)
    return d


@dataclass(frozen=True)
class Claim:
    """One claimed name: ``node`` (step, base), ``mask`` of the entries it claims (internal
    shape), ``value`` (internal shape, NaN elsewhere), ``decimals``, and as written."""

    key: str
    node: Node
    mask: np.ndarray
    value: np.ndarray
    decimals: int
    given: Any
    display_shape: tuple
    index: tuple | None
    scale: float = 1.0  # value = as written x scale (1/n for the per-example delta convention)

    @property
    def tolerance(self) -> float:
        """Half a unit of the claim's decimals, in the units of ``value``."""
        return half_unit(self.decimals) * self.scale


def _depth(v: Any) -> int:
    return 1 + _depth(v[0]) if isinstance(v, list) and v else (1 if isinstance(v, list) else 0)


def read_value(v: Any, shape: tuple, path: str) -> np.ndarray:
    """A claimed number, vector or matrix of ``shape`` (as Step.values() gives it); a value
    whose squeezed shape matches (a 1x1 matrix as a number, a column as a list) is accepted."""
    readers = {0: lambda x: np.asarray(number(x, path)), 1: lambda x: vector(x, path),
               2: lambda x: matrix(x, path)}
    exact = {0: lambda x: np.asarray(number(x, path)),
             1: lambda x: vector(x, path, shape[0] if shape else None),
             2: lambda x: matrix(x, path, *shape)}
    depth = min(_depth(v), 2)
    if depth != len(shape) and depth in readers:
        arr = readers[depth](v)
        if arr.size == math.prod(shape) and arr.squeeze().shape == np.zeros(shape).squeeze().shape:
            return arr.reshape(shape)
    return exact[len(shape)](v)


def shape_text(shape: tuple) -> str:
    """'a number', '2 numbers', '2 rows of 3'."""
    if not shape:
        return "a number"
    if len(shape) == 1:
        return f"{shape[0]} numbers"
    return f"{shape[0]} rows of {shape[1]}"


def parse_name(key: Any, layers: int, path: str) -> tuple[int, str, tuple | None]:
    """(step, base name, 0-based index or None) of an answers key such as ``step2.dW1[1,2]``."""
    if not isinstance(key, str):
        raise InputError(f"a name must be text, got {_kind(key)}; names: {NAME_HELP}", path)
    m = _NAME.match(re.sub(r"\s+", "", key))
    if not m:
        raise InputError(f"unknown name {key!r}; names are {NAME_HELP} (l = 1..{layers}), "
                         f"'step2.' for a later update, '[i,j]' for one entry", path)
    base = m.group("base")
    kind, l = split(base)
    if kind not in WHOLE and not 1 <= l <= layers:
        raise InputError(f"unknown name {key!r}: there is no layer {l} (layers are 1..{layers})", path)
    k = int(m.group("step") or 1)
    if not 1 <= k <= MAX_STEPS:
        raise InputError(f"updates are numbered 1..{MAX_STEPS}, got step{k}", path)
    index = None
    if m.group("i") is not None:
        index = tuple(int(g) - 1 for g in (m.group("i"), m.group("j")) if g is not None)
    return k, base, index


def paths_param(base: str) -> tuple:
    """('W', l, i, j) or ('b', l, i, None), 1-based, of ``paths.dW{l}[i,j]`` / ``paths.db{l}[i]``."""
    kind, l, i, j = _PATHS.match(base).groups()
    return kind, int(l), int(i), None if j is None else int(j)


def check_paths(base: str, network, path: str) -> None:
    """A ``paths.`` claim names a parameter of the network, with at most MAX_PATHS paths."""
    _, l, i, j = paths_param(base)
    units, fan_in = network.layers[l - 1].W.shape
    if not 1 <= i <= units or (j is not None and not 1 <= j <= fan_in):
        raise InputError(f"{base} is outside layer {l}'s W ({units} x {fan_in}) and b ({units})", path)
    count = len(chain_routes(network, l, i))
    if count > MAX_PATHS:
        raise InputError(f"{base} has {count} paths to the loss; at most {MAX_PATHS} are checked", path)


def truth_of(step, base: str) -> np.ndarray:
    """The true value in the checker's shapes: per-example quantities (n, units), always;
    a ``paths.`` claim's (n, paths), each path's value from the core (network.chain_paths)."""
    kind, l = split(base)
    if kind == "paths":
        param = paths_param(base)
        return np.array([[p.value for p in chain_paths(step.trace, param, e)] for e in range(len(step.trace.x))])
    if kind == "t" or is_state(kind):
        return np.asarray(state_names(step)[base])
    if kind == "dW" and getattr(step, "dW_l2", None) is not None:  # under L2 the update's g = dW + λW
        return np.asarray(step.dW_l2[l - 1])
    if kind in WHOLE:
        return np.asarray({"loss": step.loss, "loss_after": step.loss_after,
                           "losses": step.trace.per_example_loss}[kind])
    if kind == "a" and l == 0:
        return np.asarray(step.trace.x)
    if kind in ("W_new", "b_new"):
        return np.asarray(getattr(step.after.layers[l - 1], kind[0]))
    return np.asarray(getattr(step.trace.layers[l - 1], kind))


def shown_truth(step, base: str) -> np.ndarray:
    """The true value as the answers file writes it (Step.values()'s shapes: a per-example
    quantity of a one-example update as a vector; ``losses`` one number per example)."""
    values = step.values()
    if base in values:
        return np.asarray(values[base])
    v = truth_of(step, base)
    return v[0] if split(base)[0] in ("fprime", "paths") and len(step.examples) == 1 else v


def require_answers(answers: Any) -> None:
    """The ``answers:`` field is a non-empty mapping."""
    if not isinstance(answers, dict) or not answers:
        got = _kind(answers) if answers != {} else "an empty mapping"
        raise InputError(f"expected a mapping of names to numbers, got {got}", "answers")


def _entry(raw: Any, path: str, decimals: int) -> tuple[Any, str, int]:
    """(value, its path, decimals) of one answers entry: a value, or ``{value, decimals}``."""
    if not isinstance(raw, dict):
        return raw, path, decimals
    mapping(raw, path, ENTRY_FIELDS)
    if "value" not in raw:
        raise InputError("missing field 'value'", path)
    if "decimals" in raw:
        decimals = read_decimals(raw["decimals"], f"{path}.decimals")
    return raw["value"], f"{path}.value", decimals


def _place(raw: Any, path: str, base: str, truth: np.ndarray, internal: tuple, index) -> tuple:
    """(mask, value) in the internal shape, for a whole claim or one entry ``index``."""
    mask, value = np.zeros(internal, bool), np.full(internal, np.nan)
    if index is None:
        # the value first: its reader refuses a ragged list in one line (rows of nulls and numbers
        # mixed, [[1, 2], None]) before the mask of present entries is built from the same nesting
        value[...] = read_value(_filled(raw), truth.shape, path).reshape(internal)
        present = np.asarray(_present(raw), bool)
        mask[...] = present.reshape(internal) if present.size == value.size else True
        value[~mask] = np.nan
        return mask, value
    if len(index) != truth.ndim:
        how = ("no index", "one index [i]", "two indices [i,j]")[truth.ndim]
        raise InputError(f"{base} is {shape_text(truth.shape)}: give {how}", path)
    if any(i < 0 or i >= n for i, n in zip(index, truth.shape)):
        raise InputError(f"index out of range: {base} is {shape_text(truth.shape)} "
                         f"(indices start at 1)", path)
    where = np.unravel_index(np.ravel_multi_index(index, truth.shape), internal)
    mask[where] = True
    value[where] = number(raw, path)
    return mask, value


def _present(raw: Any) -> Any:
    """The nested shape of ``raw`` with True where a number is given, False for null."""
    return [_present(x) for x in raw] if isinstance(raw, list) else raw is not None


def _filled(raw: Any) -> Any:
    """``raw`` with nulls (blanks not filled in) as 0, to be read for its shape."""
    return [_filled(x) for x in raw] if isinstance(raw, list) else (0.0 if raw is None else raw)


def parse_claims(answers: Any, steps: list, decimals: int) -> list[Claim]:
    """Validate the ``answers:`` mapping against the problem's shapes; one Claim per name.

    A null (a blank left from :func:`blank`) claims nothing: a name that is null, or null in
    every entry, is skipped; null entries of a vector or matrix are not judged."""
    require_answers(answers)
    claims = []
    for key, raw in answers.items():
        k, base, index = parse_name(key, len(steps[0].trace.layers), field_of(key))
        if base.startswith("paths."):
            check_paths(base, steps[0].before, field_of(key))
        kind = split(base)[0]
        if (kind == "t" or is_state(kind)) and base not in state_names(steps[k - 1]):
            raise InputError(_no_state(base, steps[k - 1], len(steps[0].trace.layers)), field_of(key))
        truth = shown_truth(steps[k - 1], base)
        internal = truth_of(steps[k - 1], base).shape
        # t counts updates: a whole number, stated and shown without decimals
        raw, path, d = _entry(raw, field_of(key), 0 if kind == "t" else decimals)
        if raw is None:
            continue
        mask, value = _place(raw, path, base, truth, internal, index)
        if mask.any():
            claims.append(Claim(str(key), (k, base), mask, value, d, raw, truth.shape, index))
    if not claims:
        raise InputError("every answer is null: fill in at least one number", "answers")
    return claims


def blank(step) -> dict:
    """Every name of one update (a :class:`~deltarule.trace.Step`) with None in each entry, in the
    order of the work: ``z1 a1 ... losses loss``, then back ``dL_da{L} fprime{L} delta{L} dW{L}
    db{L} ...``, then an optimizer's ``t``, state and ``_hat`` values per trained parameter
    (``vW1``, or ``mW1 sW1 mW1_hat sW1_hat``), then ``W1_new b1_new ... loss_after``. The answers
    of a blank answers file. Left out, as the worked solution leaves them out: f'(z) where delta is not dL_da * f'(z) (a
    fused output layer, whose delta is y-hat - y, and softmax), and the new values of frozen
    parameters (they are the given ones)."""
    net = step.trace.network
    L = len(net.layers)
    fused = net.layers[-1].activation.name in net.loss.fused

    def backward(l: int) -> list[str]:
        slope = net.layers[l - 1].activation.elementwise and not (fused and l == L)
        return [f"{q}{l}" for q in ("dL_da", "fprime", "delta", "dW", "db") if q != "fprime" or slope]

    names = [f"{q}{l}" for l in range(1, L + 1) for q in ("z", "a")] + ["losses", "loss"]
    names += [name for l in range(L, 0, -1) for name in backward(l)]
    names += optimizer_names(step)
    names += [f"{p}{l}_new" for l, lay in enumerate(net.layers, start=1)
              for p, trained in zip("Wb", (lay.train_weights, lay.train_biases)) if trained]
    return {name: np.full(np.shape(shown_truth(step, name)), None).tolist() for name in names + ["loss_after"]}


def optimizer_names(step) -> list[str]:
    """``t``, then per layer and trained parameter its state after the update and the ``_hat``
    values, in the order a student works them out (``vW1 vb1 ...``; ``mW1 sW1 mW1_hat sW1_hat``);
    empty for a plain step or an optimizer without state (plain sgd with a schedule or L2)."""
    have = state_names(step)
    if step.optimizer is None or set(have) <= {"t"}:
        return []
    opt, out = step.optimizer, ["t"]
    for l, lay in enumerate(step.before.layers, start=1):
        for p, trained in zip("Wb", (lay.train_weights, lay.train_biases)):
            names = [f"{k}{p}{l}" for k in opt.moments] + [f"{k}{p}{l}_hat" for k in opt.hats]
            out += [n for n in names if trained and n in have]
    return out


def blank_paths(step, chain: str) -> tuple[str, list]:
    """``('paths.dW1[1,1]', [None, ...])``: the blank claim of each chain-rule path's value of the
    parameter ``chain`` (``W1[1,1]``, ``b2[1]``), one null per path (per example)."""
    name = "paths.d" + re.sub(r"\s+", "", str(chain))
    try:
        _, base, index = parse_name(name, len(step.trace.layers), "name")
        if not base.startswith("paths.") or index is not None:
            raise InputError(f"expected a parameter such as W1[1,2] or b2[1] (1-based), got {chain!r}", "chain")
        check_paths(base, step.before, "chain")
    except InputError as e:
        raise InputError(e.message if e.field == "chain" else
                         f"expected a parameter such as W1[1,2] or b2[1] (1-based), got {chain!r}", "--chain") from None
    return base, np.full(np.shape(shown_truth(step, base)), None).tolist()


# -- the document --------------------------------------------------------------------------------------
def plain(v: Any) -> Any:
    """numpy arrays and scalars as the lists and floats a YAML file gives."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v.tolist() if isinstance(v, (np.ndarray, np.generic)) else v


def _type_only(v: Any) -> str:
    """What a value is, without showing it."""
    kinds = ((type(None), "nothing"), (bool, "a boolean"), (str, "a text"), ((int, float), "a number"),
             (list, "a list"))
    return next((word for t, word in kinds if isinstance(v, t)), f"a {type(v).__name__}")


def read_answers(path: str | Path) -> dict:
    """An answers file, read safely (YAML or JSON) through the one bounded reader."""
    from ..loader import read_document

    return read_document(path, "answers files")


def document(answers: Any) -> tuple[dict, str, Path]:
    """(the answers document, its file name or '', the folder its ``problem:`` is relative to).

    ``answers``: a file, a whole answers document, or just ``{name: value}``."""
    if isinstance(answers, (str, Path)):
        doc, file, base = read_answers(answers), str(answers), Path(answers).parent
    elif isinstance(answers, dict):
        doc, file, base = answers if "answers" in answers else {"answers": answers}, "", Path(".")
        if isinstance(doc.get("answers"), dict):  # numpy arrays from the API are lists in a file
            doc = {**doc, "answers": {k: plain(v) for k, v in doc["answers"].items()}}
    else:
        raise InputError(f"expected an answers file or a mapping, got {_kind(answers)}", "answers")
    if not isinstance(doc, dict):  # say what it is, never what it says: it may be any file
        raise InputError(f"expected an answers file (a mapping with {', '.join(ANSWERS_FIELDS[:3])}), "
                         f"got {_type_only(doc)}", "", file)
    try:
        doc = mapping(doc, "", ANSWERS_FIELDS)
        if "answers" not in doc:
            raise InputError("missing field 'answers' (a mapping of names to numbers)", "answers")
        if "decimals" in doc:
            read_decimals(doc["decimals"], "decimals")
        for field in ("student", "exercise"):
            if field in doc and (isinstance(doc[field], bool) or not isinstance(doc[field], (str, int))):
                raise InputError(f"expected a name or a number, got {_type_only(doc[field])}", field)
    except InputError as e:
        raise e.in_file(file) from None
    return doc, file, base


class OutsideError(InputError):
    """An answers file names a problem file outside its own folder (refused unless allowed)."""


def _inside(path: Path, folder: Path) -> bool:
    """``path`` (symlinks followed) lies in ``folder`` or below it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name the OS refuses
        return False


def _example(ref: str) -> str | None:
    """The built-in example ``ref`` names (``seed-002`` or ``seed-002.yaml``), if any."""
    from .. import examples

    stem = Path(ref).stem if Path(ref).suffix.lower() in (".yaml", ".yml", ".json") else ref
    return next((name for name in (ref, stem) if examples.exists(name)), None)


def resolve_problem(ref: Any, base: Path, file: str, allow_outside: bool = False) -> Problem:
    """The problem an answers file names: a file relative to it and inside its folder (unless
    ``allow_outside``), or a built-in example name. Nothing outside the folder is opened or
    even looked at, so an answers file cannot make the checker read or show another file."""
    from ..problem import load_problem

    if not isinstance(ref, str) or not ref.strip():
        raise InputError(f"expected a problem file or a built-in example name, got {_kind(ref)}", "problem", file)
    path = base / ref
    if not allow_outside and not _inside(path, base):
        raise OutsideError("the problem file must be in the answers file's folder (or one below it), "
                           "or a built-in example name", "problem", file)
    if path.exists():
        return load_problem(path)
    if _example(ref):
        return load_problem(_example(ref))
    raise InputError(f"no such file ({safe_text(str(path))}) and no built-in example of that name", "problem", file)

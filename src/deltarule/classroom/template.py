"""Exercise templates: a problem file in which any number may be a draw.

A template is a problem file (same schema) plus three fields of its own::

    layers:
      - weights: [[{draw: uniform, low: -1, high: 1, decimals: 1}, 0.2], ...]
    learning_rate: {draw: choice, from: [0.1, 0.5, 1.0]}
    asked: [z1, a1, delta2, dW1, W2_new, loss]    # canonical names; default: every number of one update
    marks: {dW1: 2}                                # weight of each asked name; default 1
    allow_zero: false                              # may an asked value show as zero? (true, or a list of names)

``{draw: uniform, low, high, decimals}`` is a number on the grid of ``decimals`` places
between low and high (both included); ``{draw: choice, from: [...]}`` one of the listed
numbers. A draw may stand for a weight, a bias, an input, a target or the learning rate.
A built-in example name is a template too: its weights, biases, inputs and targets are
redrawn at the example's own precision (see :func:`from_example`).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..fields import _kind, integer, mapping, number
from ..problem import TOP_FIELDS, Problem, parse_problem

TEMPLATE_FIELDS = ("asked", "marks", "allow_zero")
DRAW_FIELDS = {"uniform": ("draw", "low", "high", "decimals"), "choice": ("draw", "from")}
PER_LAYER = ("z", "a", "fprime", "dL_da", "delta", "dW", "db", "W_new", "b_new")
_NAME = re.compile(r"^(?:(z|a|fprime|dL_da|delta|dW|db)(\d+)|([Wb])(\d+)_new|(loss|loss_after|losses|t)"
                   r"|([vms][Wb])(\d+)(_hat)?)$")
OPTIMIZER_NAMES = ("vW", "vb", "mW", "mb", "sW", "sb", "mW_hat", "mb_hat", "sW_hat", "sb_hat")
MAX_GRID = 10**9


@dataclass(frozen=True)
class Draw:
    """One drawn number: ``uniform`` on the grid k·10^-decimals in [low, high], or ``choice``."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    decimals: int = 0
    options: tuple = ()

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent draws, (size,) float64, exactly on the decimal grid."""
        if self.kind == "choice":
            return np.asarray(self.options, dtype=np.float64)[rng.integers(0, len(self.options), size)]
        lo, hi = self.grid()
        return rng.integers(lo, hi + 1, size).astype(np.float64) / 10.0**self.decimals

    def grid(self) -> tuple[int, int]:
        """The integer range k of the values k / 10^decimals."""
        scale = 10**self.decimals
        return math.ceil(round(self.low * scale, 6)), math.floor(round(self.high * scale, 6))

    def placeholder(self) -> float:
        """A valid value for checking the template's shapes (the first option, or the middle)."""
        if self.kind == "choice":
            return float(self.options[0])
        lo, hi = self.grid()
        return ((lo + hi) // 2) / 10.0**self.decimals


@dataclass(frozen=True)
class Template:
    """A parsed template: the document, its draws (path -> Draw), what is asked and its marks."""

    doc: dict
    draws: tuple[tuple[tuple, Draw], ...]
    asked: tuple[str, ...]
    marks: dict = field(default_factory=dict)
    allow_zero: frozenset = frozenset()
    source: str = ""
    base_dir: str = "."
    base: Problem | None = None

    def concrete(self, values: dict[tuple, float], name: str = "") -> dict:
        """The problem document with every draw replaced by ``values[path]``."""
        doc = copy.deepcopy({k: v for k, v in self.doc.items() if k not in TEMPLATE_FIELDS})
        for path, _ in self.draws:
            _set(doc, path, float(values[path]))
        if name:
            doc["name"] = name
        return doc


def _set(doc: Any, path: tuple, value: float) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def path_text(path: tuple) -> str:
    """``("layers", 0, "weights", 1, 0)`` -> ``layers[1].weights[2][1]``: 1-based, as the problem
    reader's errors (and the notes) name layers, rows and columns."""
    out = ""
    for key in path:
        out += f"[{key + 1}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def parse_draw(spec: dict, path: str) -> Draw:
    """``{draw: uniform, low, high, decimals}`` or ``{draw: choice, from: [...]}`` -> Draw."""
    kind = spec.get("draw")
    if kind not in DRAW_FIELDS:
        raise InputError(f"unknown draw {_kind(kind) if not isinstance(kind, str) else repr(kind)}; "
                         f"expected uniform or choice", f"{path}.draw")
    mapping(spec, path, DRAW_FIELDS[kind])
    if kind == "choice":
        options = spec.get("from")
        if not isinstance(options, list) or not options:
            raise InputError(f"expected a non-empty list of numbers, got {_kind(options)}", f"{path}.from")
        return Draw("choice", options=tuple(number(v, f"{path}.from[{i}]") for i, v in enumerate(options, start=1)))
    for f in ("low", "high", "decimals"):
        if f not in spec:
            raise InputError(f"missing field '{f}' (uniform needs low, high and decimals)", path)
    low, high = number(spec["low"], f"{path}.low"), number(spec["high"], f"{path}.high")
    decimals = integer(spec["decimals"], f"{path}.decimals", 0)
    if decimals > 6:
        raise InputError(f"at most 6 decimals for a drawn number, got {decimals}", f"{path}.decimals")
    draw = Draw("uniform", low, high, decimals)
    lo, hi = draw.grid()
    if hi < lo:
        raise InputError(f"no number with {decimals} decimals lies between {low:g} and {high:g}", path)
    if hi - lo > MAX_GRID:
        raise InputError(f"too fine a grid ({hi - lo + 1:.3g} values); use fewer decimals", path)
    return draw


def find_draws(doc: Any, path: tuple = ()) -> list[tuple[tuple, Draw]]:
    """Every ``{draw: ...}`` in the document, with its path, in document order."""
    if isinstance(doc, dict) and "draw" in doc:
        return [(path, parse_draw(doc, path_text(path)))]
    if isinstance(doc, dict):
        return [d for k, v in doc.items() if k not in TEMPLATE_FIELDS for d in find_draws(v, path + (k,))]
    if isinstance(doc, list):
        return [d for i, v in enumerate(doc) for d in find_draws(v, path + (i,))]
    return []


def slot(path: tuple) -> tuple[str, int, tuple] | None:
    """Where a draw lands in the arrays: ('W', l, (i, j)), ('b', l, (i,)), ('x', 0, (e, j)),
    ('y', 0, (e, k)), ('lr', 0, ()); None when the number is not one that may be drawn."""
    p = list(path)
    if p == ["learning_rate"]:
        return "lr", 0, ()
    if len(p) == 5 and p[0] == "layers" and p[2] == "weights":
        return "W", p[1], (p[3], p[4])
    if len(p) == 4 and p[0] == "layers" and p[2] == "biases":
        return "b", p[1], (p[3],)
    if p[:1] == ["data"] and len(p) in (3, 4) and p[1] in ("inputs", "targets"):
        return ("x" if p[1] == "inputs" else "y"), 0, (p[2], p[3] if len(p) == 4 else 0)
    return None


def default_asked(network, state: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every number of one update, in the order of the work (as ``check --template`` lists them):
    z, a of each layer, losses, loss; then back from the last layer dL_da, fprime, delta, dW, db;
    then an optimizer's ``state`` (``check.answers.optimizer_names``: t, vW1, ...), the new
    parameters and loss_after. Left out: what the worked solution does not show
    (f'(z) of a fused output layer, whose delta is y-hat - y, and of softmax) and the new values
    of frozen parameters (they are the given ones)."""
    layers = network.layers
    names = [f"{q}{l}" for l in range(1, len(layers) + 1) for q in ("z", "a")] + ["losses", "loss"]
    fused = layers[-1].activation.name in (network.loss.fused or {})
    for l in range(len(layers), 0, -1):
        shows_slope = layers[l - 1].activation.elementwise and not (fused and l == len(layers))
        names += [f"{q}{l}" for q in ("dL_da", "fprime", "delta", "dW", "db") if q != "fprime" or shows_slope]
    names += list(state)
    for l, lay in enumerate(layers, start=1):
        names += [f"{p}{l}_new" for p, kept in zip("Wb", (lay.train_weights, lay.train_biases)) if kept]
    return tuple(names + ["loss_after"])


def _asked_name(name: Any, layers: int, path: str) -> str:
    m = _NAME.match(name) if isinstance(name, str) else None
    if not m:
        raise InputError(f"unknown name {_kind(name) if not isinstance(name, str) else repr(name)}; "
                         f"names: {', '.join(n + '{l}' for n in PER_LAYER)}, loss, loss_after, losses, and an "
                         f"optimizer's {', '.join(n[:2] + '{l}' + n[2:] for n in OPTIMIZER_NAMES)}, t", path)
    l = m.group(2) or m.group(4) or m.group(7)
    if l is not None and not 1 <= int(l) <= layers:
        raise InputError(f"there is no layer {l} (layers are 1..{layers})", path)
    return name


def parse_asked(doc: dict, network, step=None) -> tuple[str, ...]:
    """The asked names (validated), or every number of one update by default; an optimizer's
    names (``vW1``, ``mW1_hat``, ``t``) only where ``step`` (the first update) has them."""
    from ..check.answers import optimizer_names, state_names

    layers = len(network.layers)
    state = optimizer_names(step) if step is not None else []
    if "asked" not in doc:
        return default_asked(network, tuple(n for n in state if n != "t"))
    asked = doc["asked"]
    if not isinstance(asked, list) or not asked:
        raise InputError(f"expected a list of names (z1, dW2, W1_new, loss, ...), got {_kind(asked)}", "asked")
    out: list[str] = []
    for i, name in enumerate(asked, start=1):  # 1-based, as every field path
        if _asked_name(name, layers, f"asked[{i}]") in out:
            raise InputError(f"{name} is asked twice", f"asked[{i}]")
        m = _NAME.match(name)
        if (m.group(6) or m.group(5) == "t") and (step is None or name not in state_names(step)):
            raise InputError(f"{name} is no number of this update (its optimizer's: "
                             f"{', '.join(state) or 'none, plain gradient descent keeps no state'})", f"asked[{i}]")
        out.append(name)
    return tuple(out)


def parse_marks(doc: dict, asked: tuple[str, ...]) -> dict[str, float]:
    """``marks: {name: weight}`` for asked names (positive numbers); 1 for the others."""
    spec = doc.get("marks", {})
    if not isinstance(spec, dict):
        raise InputError(f"expected a mapping of asked names to weights, got {_kind(spec)}", "marks")
    marks = {name: 1.0 for name in asked}
    for key, v in spec.items():
        if key not in asked:
            raise InputError(f"{key!r} is not asked (asked: {', '.join(asked)})", f"marks.{key}")
        w = number(v, f"marks.{key}")
        if w <= 0:
            raise InputError(f"a weight must be positive, got {v}", f"marks.{key}")
        marks[key] = w
    return marks


def parse_allow_zero(doc: dict, asked: tuple[str, ...]) -> frozenset:
    """``allow_zero: true`` (every asked name), ``false`` (default) or a list of asked names."""
    spec = doc.get("allow_zero", False)
    if isinstance(spec, bool):
        return frozenset(asked) if spec else frozenset()
    if not isinstance(spec, list):
        raise InputError(f"expected true, false or a list of asked names, got {_kind(spec)}", "allow_zero")
    for i, name in enumerate(spec, start=1):
        if name not in asked:
            raise InputError(f"{name!r} is not asked", f"allow_zero[{i}]")
    return frozenset(spec)


def parse_template(doc: Any, file: str = "", base_dir: str | Path = ".") -> Template:
    """Validate a template document: its draws, the problem it makes, asked, marks, allow_zero."""
    try:
        doc = mapping(doc, "", TOP_FIELDS + TEMPLATE_FIELDS)
        draws = find_draws(doc)
        for path, _ in draws:
            if slot(path) is None:
                raise InputError("a draw may stand only for a weight, a bias, an input, a target or "
                                 "the learning rate", path_text(path))
        template = Template(doc, tuple(draws), (), source=file, base_dir=str(base_dir))
        placeholders = template.concrete({p: d.placeholder() for p, d in draws})
        base = parse_problem(placeholders, file, base_dir)
        plain = "the round-safety check works one update of an optimizer at a constant rate without L2"
        for key, why in (("validation", "an exercise updates with every example it gives"),
                         ("dtype", "an exercise is worked in float64"),
                         ("regularization", plain), ("learning_rate_schedule", plain)):
            if key in doc and not (key == "dtype" and doc[key] == "float64"):
                raise InputError(f"not in a template ({why})", key)
        if base.x is None or base.learning_rate is None:
            raise InputError("missing (an exercise needs data and a learning rate)",
                             "data" if base.x is None else "learning_rate")
        asked = parse_asked(doc, base.network, base.steps(1)[0])
        marks = parse_marks(doc, asked)
        allow_zero = parse_allow_zero(doc, asked)
    except InputError as e:
        raise e.in_file(file) from None
    return Template(doc, tuple(draws), asked, marks, allow_zero, file, str(base_dir), base)


# -- built-in examples as templates --------------------------------------------------------------
def _places(values) -> int:
    """The decimals the numbers are written with (at least 1, at most 3): 0.15 -> 2, 0.5 -> 1."""
    best = 1
    for v in values:
        text = repr(float(v))
        if "e" not in text and "." in text:
            best = max(best, len(text.split(".")[1].rstrip("0")))
    return min(best, 3)


def _uniform(values, low=None, high=None) -> dict:
    d = _places(values)
    bound = max(1.0, math.ceil(max(abs(float(v)) for v in values) * 10**d) / 10**d)
    return {"draw": "uniform", "low": -bound if low is None else low, "high": bound if high is None else high,
            "decimals": d}


def _redraw(rows, spec: dict) -> list:
    return [[dict(spec) for _ in r] if isinstance(r, list) else dict(spec) for r in rows]


def _flat(rows) -> list:
    return [v for r in rows for v in (r if isinstance(r, list) else [r])]


def _output_range(activation_name: str, bound: float) -> tuple[float, float]:
    """The output layer's range, read off the activation itself (f at z = -30 and 30, rounded),
    within [-bound, bound]: sigmoid and softmax [0, 1], tanh [-1, 1], identity [-bound, bound]."""
    from ..activations import get

    ends = get(activation_name).value(np.array([[-30.0, 30.0]]))[0]
    return max(float(np.round(ends.min())), -bound), min(float(np.round(ends.max())), bound)


def _targets_fit(template: Template, samples: int = 256) -> bool:
    """Whether redrawn targets are always ones the loss accepts (bce needs [0, 1], cross_entropy
    probability rows): ``samples`` draws of the targets, each checked as a problem file's would be."""
    from ..data import check_targets

    rng = np.random.default_rng(0)
    drawn = [(slot(p)[2], d.sample(rng, samples)) for p, d in template.draws if slot(p)[0] == "y"]
    for k in range(samples):
        y = np.array(template.base.y, dtype=np.float64)
        for index, values in drawn:
            y[index] = values[k]
        try:
            check_targets(y, template.base.network, "data.targets")
        except InputError:
            return False
    return True


def from_example(name: str) -> Template:
    """A built-in example as a template: its weights and biases (per layer), inputs and targets
    redrawn uniformly at the precision they are written with, in [-R, R] with R = max(1, the
    largest |value|); targets within the output activation's range (sigmoid: [0, 1], tanh:
    [-1, 1]). Targets that redrawn number by number could break the loss's rule (cross_entropy's
    probability rows), the learning rate and everything else are kept."""
    from importlib import resources

    from .. import examples
    from ..loader import parse_text

    doc = parse_text(examples.text(name), name)
    data = doc.get("data")
    if not isinstance(data, dict) or "inputs" not in data:
        raise InputError("this example reads its data from a file; write a template with draws instead",
                         "data", name)
    for layer in doc["layers"]:
        if "weights" not in layer:
            raise InputError("this example initialises its weights; write a template with draws instead",
                             "layers", name)
        layer["weights"] = _redraw(layer["weights"], _uniform(_flat(layer["weights"])))
        layer["biases"] = _redraw(layer["biases"], _uniform(layer["biases"]))
    data["inputs"] = _redraw(data["inputs"], _uniform(_flat(data["inputs"])))
    fixed_targets = data["targets"]
    spec = _uniform(_flat(fixed_targets))
    spec["low"], spec["high"] = _output_range(doc["layers"][-1]["activation"], spec["high"])
    data["targets"] = _redraw(fixed_targets, spec)
    with resources.as_file(resources.files(examples.__name__)) as folder:
        template = parse_template(doc, name, folder)
        if not _targets_fit(template):
            data["targets"] = fixed_targets
            template = parse_template(doc, name, folder)
    return template


def load_template(ref: str | Path) -> Template:
    """A template file, or a built-in example name (see :func:`from_example`)."""
    from .. import examples
    from ..loader import read_document

    p = Path(ref)
    if not p.exists() and examples.exists(str(ref)):
        return from_example(str(ref))
    return parse_template(read_document(p), str(ref), p.parent)

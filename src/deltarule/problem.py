"""Problem files: parse, validate, and refuse anything malformed with one clear line.

A problem file (YAML or JSON, one schema) gives a network, a loss, data and a learning
rate; see the README for the schema. Every error is an :class:`InputError` whose text is
``FILE: field.path: what is wrong`` — e.g.
``problem.yaml: layers[1].weights: expected 1 row of 2 numbers, got 2 rows``.

Limits (refused before anything is allocated, with the estimate in the message):

* at most ``MAX_PARAMETERS`` (2·10^8) weights per layer and in the whole network (1.6 GB);
* training at most ``MAX_UPDATES`` (10^9) updates (epochs × updates per epoch) and at most
  ``MAX_WORK`` (10^14) multiply-adds, estimated as epochs × 4 × examples × weights (forward,
  backward, weight gradient, and the journal's loss over all examples) — hours of work on
  one machine; 10^12 epochs of even a single neuron is refused;
* one batch's forward and backward values (4 arrays of batch × units per layer, float64)
  at most ``MAX_BATCH_BYTES`` (8 GiB); ``solve``'s recorded steps at most ``MAX_STEPS_BYTES``;
* data files: see :mod:`deltarule.data`; problem files: see :mod:`deltarule.loader`.
"""
from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import activations as _act
from . import losses as _loss
from .errors import InputError
from .loader import read_document
from .network import DTYPES, Layer, Network
from .training import METHODS, Schedule

TOP_FIELDS = ("name", "description", "layers", "loss", "reduction", "data", "learning_rate",
              "decimals", "training", "dtype", "seed", "validation")
LAYER_FIELDS = ("weights", "biases", "activation", "units", "init", "inputs",
                "train_weights", "train_biases")
DATA_FIELDS = ("inputs", "targets", "file", "one_hot")
TRAINING_FIELDS = ("method", "batch_size", "epochs", "shuffle", "seed")
INITS = ("xavier", "he", "uniform", "zeros")
MAX_PARAMETERS = 200_000_000  # 1.6 GB of float64 parameters: refuse before allocating
MAX_UPDATES = 10**9
MAX_WORK = 10**14
MAX_BATCH_BYTES = 8 * 2**30
MAX_STEPS_BYTES = 2 * 2**30


# -- small typed readers; each raises InputError(message, path) ----------------------------
def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, str):
        return f"the text {v[:40]!r}" + _hint(v)
    if v is None:
        return "nothing"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, (int, float)):
        return _show(v)
    return f"a {type(v).__name__}"


def _show(v: Any) -> str:
    """A number as a short text: huge integers are not printed digit by digit."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**15:
        return f"{float(v):.3g}" if abs(v) < 10**300 else f"{'-' if v < 0 else ''}a number of over 300 digits"
    return repr(v) if isinstance(v, float) else str(v)


def gib(nbytes: int) -> str:
    """A size in GiB for a message, however absurd the size."""
    return f"{nbytes / 2**30:.3g} GiB" if nbytes < 2**1000 else "over 1e+292 GiB"


def _hint(text: str) -> str:
    """Why a text is not a number, for the YAML 1.1 habits that make it look like one."""
    t = text.strip().lower()
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)(e[-+]?[0-9]+)?", t):
        return " (remove the quotes to make it a number)"
    if t in ("yes", "no", "on", "off", "y", "n"):
        return " (only true and false are booleans, and neither is a number)"
    if t.startswith(("0x", "0o", "-0x", "+0x")):
        return " (write numbers in decimal)"
    if ":" in t:
        return " (not a time or a base-60 number; write it in decimal)"
    return ""


def number(v: Any, path: str) -> float:
    """A finite real number (not a boolean, not text)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"expected a number, got {_kind(v)}", path)
    f = float(v) if isinstance(v, float) or abs(v) < 10**308 else math.inf
    if not math.isfinite(f):
        raise InputError(f"expected a finite number, got {_show(v)}", path)
    return f


def integer(v: Any, path: str, minimum: int | None = None) -> int:
    """A whole number (a float such as 3.0 is accepted), at least ``minimum`` when given."""
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer() and math.isfinite(v):
            v = int(v)
        else:
            raise InputError(f"expected a whole number, got {_kind(v)}", path)
    if minimum is not None and v < minimum:
        raise InputError(f"must be at least {minimum}, got {_show(v)}", path)
    return v


def boolean(v: Any, path: str) -> bool:
    """``true`` or ``false`` (never yes/no, never 0/1)."""
    if not isinstance(v, bool):
        raise InputError(f"expected true or false, got {_kind(v)}", path)
    return v


def choice(v: Any, path: str, options: tuple[str, ...] | list[str]) -> str:
    """One of ``options``; a near miss is named in the error (``did you mean 'sse'?``)."""
    if not isinstance(v, str) or v not in options:
        hint = difflib.get_close_matches(str(v), options, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise InputError(f"unknown {_kind(v) if not isinstance(v, str) else repr(v)}{did}; "
                         f"expected one of {', '.join(options)}", path)
    return v


def mapping(v: Any, path: str, allowed: tuple[str, ...]) -> dict:
    """A mapping whose keys are all in ``allowed`` (an unknown key is an error at its path)."""
    if not isinstance(v, dict):
        raise InputError(f"expected a mapping of fields, got {_kind(v)}", path)
    for key in v:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InputError(f"unknown field{did}; allowed: {', '.join(allowed)}", _join(path, str(key)))
    return v


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def vector(v: Any, path: str, length: int | None = None) -> np.ndarray:
    """A list of finite numbers, optionally of a given length."""
    if not isinstance(v, list):
        raise InputError(f"expected a list of numbers, got {_kind(v)}", path)
    if length is not None and len(v) != length:
        raise InputError(f"expected {_plural(length, 'number')}, got {len(v)}", path)
    fast = _finite_array(v, v)
    if fast is not None:
        return fast
    return np.array([number(x, f"{path}[{i}]") for i, x in enumerate(v)], dtype=np.float64)


def _finite_array(v: list, items: Any) -> np.ndarray | None:
    """``v`` as float64 when ``items`` are all ints and floats and finite; else None (then the
    element-by-element reading finds the first bad one and names it). Big tables read fast."""
    if not set(map(type, items)) <= {int, float}:
        return None
    try:
        a = np.array(v, dtype=np.float64)
    except OverflowError:  # an integer beyond float64
        return None
    return a if np.isfinite(a).all() else None


def matrix(v: Any, path: str, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """A list of equally long rows of finite numbers, optionally of a given shape."""
    shape = f"{_plural(rows, 'row') if rows is not None else 'rows'} of " \
            f"{_plural(cols, 'number') if cols is not None else 'numbers'}"
    if not isinstance(v, list) or not v:
        raise InputError(f"expected {shape}, got {_kind(v) if v != [] else 'an empty list'}", path)
    if not all(isinstance(r, list) for r in v):
        raise InputError(f"expected {shape} (a list of lists), got a flat list", path)
    if rows is not None and len(v) != rows:
        raise InputError(f"expected {shape}, got {_plural(len(v), 'row')}", path)
    width = cols if cols is not None else len(v[0])
    for i, r in enumerate(v):
        if len(r) != width:
            raise InputError(f"expected {shape}, got {len(r)} in row {i + 1}" if cols is not None
                             else f"rows differ in length: row 1 has {width}, row {i + 1} has {len(r)}", path)
    if width == 0:
        raise InputError("rows are empty", path)
    fast = _finite_array(v, itertools.chain.from_iterable(v))
    if fast is not None:
        return fast
    return np.array([[number(x, f"{path}[{i}][{j}]") for j, x in enumerate(r)] for i, r in enumerate(v)],
                    dtype=np.float64)


# -- the problem ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """A parsed, validated problem: network, data, learning rate, schedule, rounding.

    ``validation`` is (fraction, seed) from the file's ``validation: {fraction: 0.2, seed: 0}``
    (or ``validation: 0.2``; the seed defaults to the top-level ``seed``): ``x``, ``y`` keep
    every example, :meth:`split` holds out round(fraction × n) of them, and :meth:`train` and
    :meth:`steps` use only the rest; training journals ``val_loss`` on the held-out ones.
    """

    network: Network
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    learning_rate: float | None = None
    decimals: int = 3
    schedule: Schedule = field(default_factory=Schedule)
    name: str = ""
    description: str = ""
    source: str = ""
    seed: int = 0
    one_hot: bool = False
    validation: tuple[float, int] | None = None

    def split(self) -> tuple:
        """(x, y, x_val, y_val): training and held-out examples (x_val, y_val None without
        ``validation``); see :func:`deltarule.metrics.split`."""
        if self.validation is None or self.x is None:
            return self.x, self.y, None, None
        from .metrics import split

        return split(self.x, self.y, *self.validation)

    def with_loss(self, loss: str, reduction: str | None = None) -> "Problem":
        """The same problem under another loss convention (validated as a file's would be).

        >>> import deltarule as dr
        >>> p = dr.load_problem("seed-003").with_loss("half_sse")   # the loss seed 003's numbers use
        >>> [round(float(v), 2) for v in p.steps(1)[0].values()["dL_da2"]]
        [0.68, -0.17]
        """
        from dataclasses import replace as _replace

        new = _loss.get(choice(loss, "loss", tuple(_loss.LOSSES)))
        check_output_loss(self.network.layers, new)
        if self.y is not None:
            from .data import _check_targets

            _check_targets(self.y, _replace(self.network, loss=new), "data.targets")
        changes = {"loss": new} if reduction is None else {
            "loss": new, "reduction": choice(reduction, "reduction", _loss.REDUCTIONS)}
        return _replace(self, network=_replace(self.network, **changes))

    def with_parameter(self, name: str, value: float) -> "Problem":
        """The same problem with one parameter (a journal name: ``W2[1,1]``, ``b1[2]``, ``w``) set.

        >>> import deltarule as dr
        >>> dr.load_problem("seed-002").with_parameter("W2[1,1]", 0.5).network.layers[1].W.tolist()
        [[0.5, 0.45]]
        """
        from dataclasses import replace as _replace

        return _replace(self, network=self.network.with_parameter(name, value))

    def require(self, *fields: str) -> "Problem":
        """Refuse (InputError) if a field that a command needs is missing from the file."""
        for f in fields:
            missing = (self.x is None) if f == "data" else getattr(self, f) is None
            if missing:
                raise InputError(f"missing (the file gives no {f.replace('_', ' ')})", f, self.source)
        return self

    def steps(self, count: int = 1, schedule: Schedule | None = None):
        """The first ``count`` updates as :class:`~deltarule.trace.Step` records."""
        from .training import steps

        self.require("data", "learning_rate")
        schedule = schedule or self.schedule
        size = schedule.size(len(self.x))
        per_step = 8 * (3 * len(self.network.parameters()) + 4 * size * sum(self.network.sizes)) + 4096
        if count * per_step > MAX_STEPS_BYTES:
            raise InputError(f"{_show(count)} steps of about {per_step:,} bytes each would need "
                             f"{gib(count * per_step)}; the limit is "
                             f"{MAX_STEPS_BYTES / 2**30:.0f} GiB (ask for fewer steps)", "--steps", self.source)
        x, y = self.split()[:2]
        return steps(self.network, x, y, self.learning_rate, schedule, count)

    def train(self, schedule: Schedule | None = None, learning_rate: float | None = None,
              backend: str = "numpy", **kwargs):
        """Train with the problem's (or the given) schedule; see :func:`deltarule.training.train`
        (``backend="torch"``: :func:`deltarule.torch_bridge.train_torch`). With ``validation``
        the held-out examples are left out of training and journalled as ``val_loss``."""
        if backend == "torch":
            from .torch_bridge import train_torch as train
        else:
            from .training import train

        self.require("data")
        lr = learning_rate if learning_rate is not None else self.require("learning_rate").learning_rate
        schedule = schedule or self.schedule
        try:  # options may have changed the file's schedule: check the sizes again
            check_size(self.network, len(self.x), schedule,
                       "training.epochs" if schedule.epochs == self.schedule.epochs else "--epochs")
        except InputError as e:
            raise e.in_file(self.source) from None
        x, y, x_val, y_val = self.split()
        if x_val is not None:
            kwargs.setdefault("validation", (x_val, y_val))
        return train(self.network, x, y, lr, schedule, **kwargs)


def _layer(spec: Any, l: int, fan_in: int | None, rng_seed: int, rng: list, room: int) -> Layer:
    path = f"layers[{l}]"
    spec = mapping(spec, path, LAYER_FIELDS)
    if "activation" not in spec:
        raise InputError("missing field 'activation' (sigmoid, tanh, relu, leaky_relu, identity, softmax)", path)
    act_names = (*_act.ACTIVATIONS, *_act.ALIASES)
    activation = _act.get(choice(spec["activation"], f"{path}.activation", act_names))
    if "weights" in spec:
        for bad in ("units", "init"):
            if bad in spec:
                raise InputError(f"give either weights and biases, or units and init, not both", f"{path}.{bad}")
        if "biases" not in spec:
            raise InputError("missing field 'biases' (one per row of weights)", path)
        b = vector(spec["biases"], f"{path}.biases")
        if len(b) == 0:
            raise InputError("expected at least one bias (one per neuron)", f"{path}.biases")
        W = matrix(spec["weights"], f"{path}.weights", rows=len(b), cols=fan_in)
        if "inputs" in spec and integer(spec["inputs"], f"{path}.inputs", 1) != W.shape[1]:
            raise InputError(f"says {spec['inputs']} inputs but the weights have {W.shape[1]} columns",
                             f"{path}.inputs")
    elif "units" in spec:
        units = integer(spec["units"], f"{path}.units", 1)
        if "biases" in spec:
            raise InputError("biases without weights; give both, or units and init", f"{path}.biases")
        if fan_in is None:
            if "inputs" not in spec:
                raise InputError("the first layer needs 'inputs:' (how many inputs) when it gives units",
                                 path)
            fan_in = integer(spec["inputs"], f"{path}.inputs", 1)
        if units * fan_in > MAX_PARAMETERS:
            raise InputError(f"{_show(units)} x {_show(fan_in)} weights would need "
                             f"{gib(units * fan_in * 8)}; the limit is {MAX_PARAMETERS:,} "
                             f"parameters per layer", f"{path}.units")
        if units * (fan_in + 1) > room:
            raise InputError(f"{_show(units)} x {_show(fan_in)} more weights make the network larger "
                             f"than {MAX_PARAMETERS:,} parameters in all", f"{path}.units")
        init = choice(spec.get("init", "xavier"), f"{path}.init", INITS)
        if not rng:
            rng.append(np.random.default_rng(rng_seed))
        W, b = _initial_weights(init, units, fan_in, rng[0]), np.zeros(units)
    else:
        raise InputError("missing field 'weights' (or 'units' with 'init')", path)
    flags = {k: boolean(spec[k], f"{path}.{k}") for k in ("train_weights", "train_biases") if k in spec}
    return Layer(W, b, activation, **flags)


def _initial_weights(init: str, units: int, fan_in: int, rng: np.random.Generator) -> np.ndarray:
    """xavier: U(±sqrt(6/(fan_in+units))); he: N(0, 2/fan_in); uniform: U(-1, 1); zeros."""
    if init == "xavier":
        limit = math.sqrt(6.0 / (fan_in + units))
        return rng.uniform(-limit, limit, size=(units, fan_in))
    if init == "he":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(units, fan_in))
    if init == "uniform":
        return rng.uniform(-1.0, 1.0, size=(units, fan_in))
    return np.zeros((units, fan_in))


def parse_network(doc: dict, seed: int = 0) -> Network:
    """The network part of a problem document (layers, loss, reduction, dtype)."""
    layers_spec = doc.get("layers")
    if layers_spec is None:
        raise InputError("missing field 'layers' (a list of layers)", "layers")
    if not isinstance(layers_spec, list) or not layers_spec:
        raise InputError(f"expected a non-empty list of layers, got {_kind(layers_spec)}", "layers")
    layers, fan_in, rng, total = [], None, [], 0
    for l, spec in enumerate(layers_spec):
        layer = _layer(spec, l, fan_in, seed, rng, MAX_PARAMETERS - total)
        layers.append(layer)
        fan_in = layer.units
        total += layer.W.size + layer.units
    if "loss" not in doc:
        raise InputError(f"missing field 'loss' ({', '.join(_loss.LOSSES)})", "loss")
    loss = _loss.get(choice(doc["loss"], "loss", tuple(_loss.LOSSES)))
    reduction = choice(doc.get("reduction", "mean"), "reduction", _loss.REDUCTIONS)
    dtype = choice(doc.get("dtype", "float64"), "dtype", tuple(DTYPES))
    check_output_loss(layers, loss)
    return Network(tuple(layers), loss, reduction).astype(dtype)


def check_output_loss(layers, loss) -> None:
    """Refuse a loss that the output layer cannot feed (InputError on field ``loss``)."""
    out = layers[-1].activation.name
    if loss.name == "cross_entropy" and out != "softmax":
        raise InputError(f"cross_entropy needs a softmax output layer, but layers[{len(layers) - 1}] "
                         f"is {out}", "loss")
    if loss.name == "bce" and out not in ("sigmoid", "softmax"):
        # ln(yhat) and ln(1 - yhat) need outputs in (0, 1): anything else gives a meaningless loss
        raise InputError(f"bce needs outputs between 0 and 1 (a sigmoid or softmax output layer), "
                         f"but layers[{len(layers) - 1}] is {out}", "loss")


def parse_problem(doc: Any, file: str = "", base_dir: str | Path = ".") -> Problem:
    """Validate a problem document (already parsed YAML/JSON) and build the Problem.

    ``file`` names the document in error messages; ``base_dir`` resolves ``data: {file: ...}``.
    Anything malformed raises :class:`InputError` with one line, ``FILE: field: problem``.

    >>> import deltarule as dr
    >>> doc = {"layers": [{"weights": [[2.0]], "biases": [1.0], "activation": "sigmoid"}],
    ...        "loss": "sse", "data": {"inputs": [3.5, 0.35], "targets": [0.5, 0.5]},
    ...        "learning_rate": 0.9}
    >>> p = dr.parse_problem(doc, "mine.yaml")
    >>> p.network, p.x.shape, p.y.shape
    (Network(1-1, sigmoid, loss=sse, reduction=mean), (2, 1), (2, 1))
    >>> dr.parse_problem(dict(doc, loss="sse2"), "mine.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    deltarule.errors.InputError: mine.yaml: loss: unknown 'sse2' (did you mean 'sse'?); expected one of ...
    """
    try:
        doc = mapping(doc, "", TOP_FIELDS)
        seed = integer(doc.get("seed", 0), "seed", 0)
        network = parse_network(doc, seed)
        name = doc.get("name", Path(file).stem if file else "")
        if not isinstance(name, (str, int, float)) or isinstance(name, bool):
            raise InputError(f"expected text, got {_kind(name)}", "name")
        description = doc.get("description", "")
        if not isinstance(description, str):
            raise InputError(f"expected text, got {_kind(description)}", "description")
        lr = None
        if "learning_rate" in doc:
            lr = number(doc["learning_rate"], "learning_rate")
            if lr <= 0:
                raise InputError(f"must be positive, got {doc['learning_rate']}", "learning_rate")
        decimals = integer(doc.get("decimals", 3), "decimals", 0)
        if decimals > 15:
            raise InputError(f"at most 15 decimals are meaningful in float64, got {decimals}", "decimals")
        schedule = parse_training(doc.get("training", {}), seed)
        x = y = None
        one_hot = False
        if "data" in doc:
            from .data import parse_data

            x, y, one_hot = parse_data(doc["data"], network, Path(base_dir))
            check_size(network, len(x), schedule)
        validation = parse_validation(doc["validation"], seed, x) if "validation" in doc else None
        return Problem(network, x, y, lr, decimals, schedule, str(name), description, file, seed, one_hot,
                       validation)
    except InputError as e:
        raise e.in_file(file) from None


def check_size(network: Network, n: int, schedule: Schedule, field: str = "training.epochs") -> None:
    """Refuse training that could not finish or fit (see the module's limits), before it starts.

    updates = epochs × ceil(n / batch); work = epochs × 4 × n × weights multiply-adds;
    batch memory = 4 arrays × batch × (inputs + all units) × 8 bytes.
    """
    size = schedule.size(n) if n else 1
    per_epoch = -(-n // size) if n else 0
    updates, weights = schedule.epochs * per_epoch, sum(lay.W.size for lay in network.layers)
    work = schedule.epochs * 4 * n * max(weights, 1)
    if updates > MAX_UPDATES:
        raise InputError(f"{_show(schedule.epochs)} epochs of {_plural(per_epoch, 'update')} = {_show(updates)} "
                         f"updates; the limit is {MAX_UPDATES:.0e} updates", field)
    if work > MAX_WORK:
        raise InputError(f"{_show(schedule.epochs)} epochs x {n:,} examples x {weights:,} weights is about "
                         f"{_show(work)} multiply-adds; the limit is {MAX_WORK:.0e}", field)
    batch_bytes = 4 * size * sum(network.sizes) * 8
    if batch_bytes > MAX_BATCH_BYTES:
        raise InputError(f"a batch of {size:,} examples through {sum(network.sizes):,} units needs about "
                         f"{gib(batch_bytes)}; the limit is {MAX_BATCH_BYTES / 2**30:.0f} GiB "
                         f"(use minibatch with a smaller batch_size)", "training.batch_size")


def parse_validation(spec: Any, seed: int = 0, x: np.ndarray | None = None) -> tuple[float, int]:
    """``validation: 0.2`` or ``validation: {fraction: 0.2, seed: 0}`` -> (fraction, seed)."""
    path = "validation"
    if isinstance(spec, dict):
        spec = mapping(spec, path, ("fraction", "seed"))
        if "fraction" not in spec:
            raise InputError("missing field 'fraction' (the share of examples held out, e.g. 0.2)", path)
        seed = integer(spec.get("seed", seed), "validation.seed", 0)
        spec, path = spec["fraction"], "validation.fraction"
    fraction = number(spec, path)
    if not 0 < fraction < 1:
        raise InputError(f"the share of examples held out must be between 0 and 1, got {spec}", path)
    if x is not None and len(x) < 2:
        raise InputError(f"a held-out split needs at least 2 examples, the data has {len(x)}", path)
    return fraction, seed


def parse_training(spec: Any, seed: int = 0) -> Schedule:
    """The ``training:`` mapping -> :class:`Schedule` (batch, 1 epoch, file order by default)."""
    spec = mapping(spec, "training", TRAINING_FIELDS)
    method = choice(spec.get("method", "batch"), "training.method", METHODS)
    batch_size = None
    if "batch_size" in spec:
        batch_size = integer(spec["batch_size"], "training.batch_size", 1)
    elif method == "minibatch":
        raise InputError("minibatch needs batch_size", "training.batch_size")
    epochs = integer(spec.get("epochs", 1), "training.epochs", 1)
    shuffle = boolean(spec.get("shuffle", False), "training.shuffle")
    tseed = integer(spec.get("seed", seed), "training.seed", 0)
    return Schedule(method, batch_size, epochs, shuffle, tseed)


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file, or a built-in example by name.

    >>> import deltarule as dr
    >>> p = dr.load_problem("seed-003")      # a path, or a name that 'deltarule examples' lists
    >>> p.network, p.x.shape, p.y.shape, p.learning_rate, p.decimals
    (Network(2-2-2, sigmoid,sigmoid, loss=half_mse, reduction=mean), (1, 2), (1, 2), 0.6, 2)
    """
    from . import examples

    p = Path(path)
    if not p.exists() and examples.exists(str(path)):
        return examples.load(str(path))
    doc = read_document(p)
    return parse_problem(doc, str(path), p.parent)


def load_network(path: str | Path) -> Network:
    """A saved model (or any problem file's network)."""
    return load_problem(path).network


def replace_schedule(problem: Problem, **changes: Any) -> Problem:
    """The problem with some training fields changed (validated like the file's)."""
    return replace(problem, schedule=replace(problem.schedule, **changes))

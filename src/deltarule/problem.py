"""Problem files: parse, validate, and refuse anything malformed with one clear line.

A problem file (YAML or JSON, one schema) gives a network, a loss, data and a learning
rate; see the README for the schema. Every error is an :class:`InputError` whose text is
``FILE: field.path: what is wrong`` — e.g.
``problem.yaml: layers[1].weights: expected 1 row of 2 numbers, got 2 rows``.

The typed field readers live in :mod:`deltarule.fields`, the limits (what is refused before
anything is allocated: ``MAX_PARAMETERS``, ``MAX_UPDATES``, ``MAX_WORK``, ``MAX_BATCH_BYTES``,
``MAX_STEPS_BYTES``) in :mod:`deltarule.limits`, the ``data:`` field in :mod:`deltarule.data`,
safe YAML/JSON reading in :mod:`deltarule.loader`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import examples
from . import losses as _loss
from .data import DATA_FIELDS, check_class_names, check_targets, parse_data
from .early_stopping import EarlyStopping
from .early_stopping import parse as parse_early_stopping
from .errors import InputError
from .fields import boolean, choice, integer, mapping, number, text
from .limits import MAX_BATCH_BYTES, MAX_PARAMETERS, MAX_STEPS_BYTES, MAX_UPDATES, MAX_WORK, check_size, check_steps
from .loader import read_document
from .netfile import INITS, LAYER_FIELDS, check_output_loss, fits, parse_network
from .network import Network
from .optimization import FIELDS as OPTIMIZATION_FIELDS
from .optimization import Optimization
from .optimization import parse as parse_optimization
from .reader import file_name
from .schedule import METHODS, Schedule

TOP_FIELDS = ("name", "description", "layers", "loss", "reduction", "data", "learning_rate",
              "decimals", "training", "dtype", "seed", "validation", *OPTIMIZATION_FIELDS, "early_stopping",
              "classes", "preprocess", "columns", "trained_on")
TRAINING_FIELDS = ("method", "batch_size", "epochs", "shuffle", "seed")
__all__ = ["Problem", "parse_problem", "parse_network", "parse_training", "parse_validation", "load_problem",
           "load_network", "replace_schedule", "check_output_loss", "check_size", "TOP_FIELDS", "LAYER_FIELDS",
           "DATA_FIELDS", "TRAINING_FIELDS", "INITS", "MAX_PARAMETERS", "MAX_UPDATES", "MAX_WORK",
           "MAX_BATCH_BYTES", "MAX_STEPS_BYTES"]


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
    optimization: Optimization = field(default_factory=Optimization)
    classes: tuple[str, ...] | None = None
    scaler: Any = None
    columns: dict | None = None
    early_stopping: EarlyStopping | None = None
    trained_on: dict | None = None  # the rows it trains on (or a model was trained on): metrics.fingerprint

    def model_dict(self, network: Network | None = None) -> dict[str, Any]:
        """The trained model as a problem-file dict: the network's layers and loss, then what reading
        new data needs (``classes``, the fitted ``preprocess``, the CSV ``columns``), and the
        ``optimizer``/``learning_rate_schedule``/``regularization`` it was trained with (when set)."""
        out = (network or self.network).to_dict()
        if self.classes:
            out["classes"] = list(self.classes)
        if self.scaler is not None:
            out["preprocess"] = self.scaler.to_dict()
        if self.columns:
            out["columns"] = dict(self.columns)
        if self.trained_on:  # the data's hash; held_out as the split that trained it (--validation too)
            held_out = 0 if self.validation is None or self.x is None else len(self.split()[2])
            out["trained_on"] = {**self.trained_on, "held_out": held_out} if self.x is not None else \
                dict(self.trained_on)
        out.update(self.optimization.settings())  # the training settings: still a valid problem file
        return out

    def scale(self, x: np.ndarray) -> np.ndarray:
        """New raw inputs (n, d) as the network takes them: the model's fitted scaling, if any."""
        if self.scaler is None:
            return x
        try:
            return self.scaler.apply(x)
        except InputError as e:
            raise e.in_file(self.source) from None

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
            check_targets(self.y, _replace(self.network, loss=new), "data.targets")
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

        field = text(name, "parameter")
        value = number(value, field)
        fits(value, self.network.dtype, field)
        return _replace(self, network=self.network.with_parameter(field, value))

    def require(self, *fields: str) -> "Problem":
        """Refuse (InputError) if a field that a command needs is missing from the file."""
        for f in fields:
            missing = (self.x is None) if f == "data" else getattr(self, f) is None
            if missing:
                raise InputError(f"missing (the file gives no {f.replace('_', ' ')})", f, self.source)
        return self

    def steps(self, count: int = 1, schedule: Schedule | None = None):
        """The first ``count`` updates as :class:`~deltarule.trace.Step` records, with the
        problem's optimizer, learning-rate schedule and L2 (each step carries their state)."""
        from .training import steps

        self.require("data", "learning_rate")
        schedule = schedule or self.schedule
        size = schedule.size(len(self.x))
        P = len(self.network.parameters())  # a Step: W, b, dW, db before and after, the new network;
        # z, a, f', dL_da, delta of both passes; each example's gradient (kept up to 65536 numbers)
        per_step = 8 * (6 * P + 10 * size * sum(self.network.sizes) + min(size * P, 65536)) + 4096
        per_step += 0 if self.optimization.plain else 8 * 7 * P  # state before/after, hats, dW + λW
        check_steps(count, per_step, self.source)
        x, y = self.split()[:2]
        return steps(self.network, x, y, self.learning_rate, schedule, count, self.optimization)

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
        lr = self.require("learning_rate").learning_rate if learning_rate is None else \
            _api_learning_rate(learning_rate, self.network, self.source)
        schedule = schedule or self.schedule
        try:  # options may have changed the file's schedule: check the sizes again
            check_size(self.network, len(self.x), schedule,
                       "training.epochs" if schedule.epochs == self.schedule.epochs else "--epochs")
        except InputError as e:
            raise e.in_file(self.source) from None
        x, y, x_val, y_val = self.split()
        if x_val is not None:
            kwargs.setdefault("validation", (x_val, y_val))
        for key, value in self.optimization.kwargs().items():  # the file's optimizer, schedule, L2
            kwargs.setdefault(key, value)
        if self.early_stopping is not None and x_val is not None:
            kwargs.setdefault("early_stopping", self.early_stopping)
        return train(self.network, x, y, lr, schedule, **kwargs)


def parse_problem(doc: Any, file: str = "", base_dir: str | Path = ".", *, allow_outside: bool = False) -> Problem:
    """Validate a problem document (already parsed YAML/JSON) and build the Problem.

    ``file`` names the document in error messages; ``base_dir`` resolves ``data: {file: ...}``,
    which must lie inside it (``..`` and symbolic links resolved) unless ``allow_outside``.
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
    file = file_name(file, "a problem file") if file else ""
    base_dir = file_name(base_dir, "a folder")
    try:
        doc = mapping(doc, "", TOP_FIELDS)
        seed = integer(doc.get("seed", 0), "seed", 0)
        network = parse_network(doc, seed)
        name = text(doc.get("name", Path(file).stem if file else ""), "name", numbers=True)
        description = text(doc.get("description", ""), "description")
        lr = None
        if "learning_rate" in doc:
            lr = learning_rate(doc["learning_rate"], network)
        decimals = integer(doc.get("decimals", 3), "decimals", 0)
        if decimals > 15:
            raise InputError(f"at most 15 decimals are meaningful in float64, got {decimals}", "decimals")
        schedule = parse_training(doc.get("training", {}), seed)
        x = y = None
        one_hot, info = False, {}
        classes = parse_classes(doc["classes"], network) if "classes" in doc else None
        if "data" in doc:
            x, y, one_hot, info = parse_data(doc["data"], network, Path(base_dir), allow_outside, classes)
            fits(x, network.dtype, "data.inputs")
            fits(y, network.dtype, "data.targets")
            check_size(network, len(x), schedule)
        validation = parse_validation(doc["validation"], seed, x) if "validation" in doc else None
        trained_on = _trained_on(doc, x)
        x, scaler = _scaled(doc, network, x, y, validation)
        columns = _columns(doc, info, network)
        return Problem(network, x, y, lr, decimals, schedule, name, description, file, seed, one_hot,
                       validation, parse_optimization(doc), tuple(info.get("classes") or classes or ()) or None,
                       scaler, columns, early_stopping=_early_stopping(doc, validation), trained_on=trained_on)
    except InputError as e:
        raise e.in_file(file) from None


def parse_classes(spec: Any, network: Network) -> list[str]:
    """``classes: [setosa, versicolor, virginica]``: the class names in output order (distinct, one per
    output unit; two for one sigmoid output)."""
    from .fields import _kind, plain

    spec = plain(spec)
    if not isinstance(spec, list) or not spec:
        raise InputError(f"expected a list of class names, got {_kind(spec)}", "classes")
    names = [text(c, f"classes[{i}]", numbers=True) for i, c in enumerate(spec, start=1)]
    check_class_names(names, "classes")
    if len(set(names)) != len(names):
        raise InputError("class names must be distinct", "classes")
    k = network.sizes[-1]
    if len(names) != k and not (k == 1 and len(names) == 2):
        raise InputError(f"{len(names)} class names, but the output layer has {k} units", "classes")
    return names


def _scaled(doc: dict, network: Network, x, y, validation) -> tuple:
    """(x as the network takes it, Scaler or None): ``preprocess:`` fitted on the training split
    only (unless the file gives its numbers), then applied to every example."""
    from .preprocess import parse_preprocess

    if "preprocess" not in doc:
        return x, None
    scaler = parse_preprocess(doc["preprocess"], network.sizes[0])
    if scaler.offset is None:
        if x is None:
            raise InputError("no data to fit the scaling on (a model file gives offset and divisor)", "preprocess")
        train_x = x if validation is None else Problem(network, x, y, validation=validation).split()[0]
        scaler = scaler.fit(train_x)
    return (None if x is None else scaler.apply(x)), scaler


def _columns(doc: dict, info: dict, network: Network) -> dict | None:
    """The CSV column names a model was trained on: ``columns: {inputs: [...], targets: [...]}``."""
    given = _given_columns(doc, network) if "columns" in doc else None  # checked even when data decides
    if info.get("inputs") is not None:
        return {"inputs": list(info["inputs"]), "targets": list(info["targets"])}
    return given


def _given_columns(doc: dict, network: Network) -> dict:
    """A file's ``columns: {inputs: [...], targets: [...]}``: lists of distinct names, d inputs."""
    from .fields import plain

    spec = mapping(doc["columns"], "columns", ("inputs", "targets"))
    out = {}
    for f in ("inputs", "targets"):
        names = plain(spec.get(f, []))
        if not isinstance(names, list) or not all(isinstance(c, str) for c in names):
            raise InputError("expected a list of column names", f"columns.{f}")
        out[f] = names
    _distinct_columns(out)
    if len(out["inputs"]) != network.sizes[0]:
        raise InputError(f"{len(out['inputs'])} names, but the first layer takes {network.sizes[0]} inputs",
                         "columns.inputs")
    return out


def _distinct_columns(columns: dict) -> None:
    """Each input and each target column named once (one named twice would be read twice), and no
    empty name. A column may be both an input and a target (an autoencoder's data)."""
    for f in ("inputs", "targets"):
        seen: set[str] = set()
        for i, name in enumerate(columns[f]):
            if not name or name in seen:
                problem = "an empty name" if not name else f"{name[:40]!r} named twice"
                raise InputError(problem, f"columns.{f}[{i + 1}]")
            seen.add(name)


def _trained_on(doc: dict, x) -> dict | None:
    """The raw rows' fingerprint (:func:`deltarule.metrics.fingerprint`, before scaling) when the
    problem has data, else a model file's ``trained_on:`` record of the data it was trained on."""
    from .metrics import fingerprint, parse_fingerprint

    record = parse_fingerprint(doc["trained_on"]) if "trained_on" in doc else None  # checked either way
    return fingerprint(x) if x is not None else record


def _early_stopping(doc: dict, validation) -> EarlyStopping | None:
    """``early_stopping:`` (it watches the held-out loss, so it needs ``validation``)."""
    if "early_stopping" not in doc:
        return None
    rule = parse_early_stopping(doc["early_stopping"])
    if validation is None:
        raise InputError("watches the validation loss: add validation: {fraction: ...}", "early_stopping")
    return rule


def learning_rate(v: Any, network: Network | None = None) -> float:
    """A positive finite learning rate (that the network's dtype can hold)."""
    lr = number(v, "learning_rate")
    if lr <= 0:
        raise InputError(f"must be positive, got {lr:g}", "learning_rate")
    if network is not None:
        fits(lr, network.dtype, "learning_rate")
    return lr


def _api_learning_rate(v: Any, network: Network, source: str) -> float:
    try:
        return learning_rate(v, network)
    except InputError as e:
        raise e.in_file(source) from None


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


def load_problem(path: str | Path, *, allow_outside: bool = False, validation: float | None = None) -> Problem:
    """Read and validate a problem file, or a built-in example by name.

    A data file the problem names must lie in the problem file's folder (or below it) unless
    ``allow_outside`` (the command line's ``--allow-outside``). ``validation`` (``train --validation``)
    replaces the file's held-out fraction before anything is fitted on the split (``preprocess``).

    >>> import deltarule as dr
    >>> p = dr.load_problem("seed-003")      # a path, or a name that 'deltarule examples' lists
    >>> p.network, p.x.shape, p.y.shape, p.learning_rate, p.decimals
    (Network(2-2-2, sigmoid,sigmoid, loss=half_mse, reduction=mean), (1, 2), (1, 2), 0.6, 2)
    """
    file = file_name(path, "a problem file or a built-in example")
    p = Path(file)
    if not p.exists() and examples.exists(file):
        return load_example(file, validation)
    if not p.exists() and not p.is_symlink():
        near = examples.nearest(file) if not p.suffix and len(p.parts) == 1 else None
        raise InputError(f"no such file or built-in example (did you mean {near!r}? see 'deltarule examples')"
                         if near else "no such file", "", file)
    return parse_problem(_held_out(read_document(p), validation), file, p.parent, allow_outside=allow_outside)


def load_example(name: str, validation: float | None = None) -> Problem:
    """The parsed built-in example ``name`` (its data files are read from beside it)."""
    with examples.path(name) as path:
        return parse_problem(_held_out(examples.parse(name), validation), name, path.parent)


def _held_out(doc: Any, fraction: float | None) -> Any:
    """The document with ``validation``'s fraction replaced, its seed kept (``validation.seed``, else
    ``seed``), so the split and what is fitted on it (``preprocess``) are the run's."""
    if fraction is None or not isinstance(doc, dict):
        return doc
    old = doc.get("validation")
    seed = old.get("seed", doc.get("seed", 0)) if isinstance(old, dict) else doc.get("seed", 0)
    return {**doc, "validation": {"fraction": fraction, "seed": seed}}


def load_network(path: str | Path, *, allow_outside: bool = False) -> Network:
    """A saved model (or any problem file's network)."""
    return load_problem(path, allow_outside=allow_outside).network


def replace_schedule(problem: Problem, **changes: Any) -> Problem:
    """The problem with some training fields changed (validated like the file's)."""
    return replace(problem, schedule=replace(problem.schedule, **changes))

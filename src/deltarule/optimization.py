"""A problem's optimization settings: ``optimizer:``, ``learning_rate_schedule:``, ``regularization:``.

    optimizer: {name: adam, beta1: 0.9}          -> deltarule.optimizers (absent: plain descent)
    learning_rate_schedule: {name: step, step_size: 10, gamma: 0.5}   -> deltarule.schedules
    regularization: {l2: 0.001}                  -> (λ/2)·Σ_l ‖W_l‖² added to the loss

Absent fields mean plain gradient descent at a constant rate without penalty, exactly as
before these fields existed (``Optimization().plain``). Errors are one line at the field's
path (``optimizer.beta1: must be in [0, 1), got 1.5``): the optimizer and schedule modules
validate, this reader prefixes the path. :meth:`Optimization.settings` writes the fields back
(model files keep them, so a model file stays a valid problem file).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from . import optimizers as _opt
from . import schedules as _sched
from .errors import InputError
from .fields import boolean, choice, mapping, number

FIELDS = ("optimizer", "learning_rate_schedule", "regularization")
REGULARIZATION_FIELDS = ("l2",)


@dataclass(frozen=True)
class Optimization:
    """The update rule (None: plain descent), the rate schedule (None: constant) and L2's λ."""

    optimizer: _opt.Optimizer | None = None
    lr_schedule: _sched.LearningRateSchedule | None = None
    l2: float = 0.0

    @property
    def plain(self) -> bool:
        """True when training is today's plain gradient descent (P ← P − η g, constant η, no L2)."""
        return is_plain(self.optimizer, self.lr_schedule, self.l2)

    def kwargs(self) -> dict[str, Any]:
        """``train``'s keyword arguments for these settings (empty when plain)."""
        if self.plain:
            return {}
        return {"optimizer": self.optimizer, "lr_schedule": self.lr_schedule, "l2": self.l2}

    def settings(self) -> dict[str, Any]:
        """The problem-file fields that give these settings back (only those that are set)."""
        out: dict[str, Any] = {}
        if self.optimizer is not None:
            out["optimizer"] = self.optimizer.settings()
        if self.lr_schedule is not None:
            out["learning_rate_schedule"] = self.lr_schedule.settings()
        if self.l2:
            out["regularization"] = {"l2": self.l2}
        return out


def is_plain(optimizer, lr_schedule, l2: float) -> bool:
    """Plain gradient descent: no optimizer or SGD without momentum, a constant rate, λ = 0."""
    plain_opt = optimizer is None or (isinstance(optimizer, _opt.SGD) and not optimizer.momentum)
    plain_rate = lr_schedule is None or isinstance(lr_schedule, _sched.Constant)
    return plain_opt and plain_rate and not l2


def parse(doc: dict) -> Optimization:
    """The three fields of a problem document (a mapping already checked for unknown keys)."""
    opt = _registered(doc["optimizer"], "optimizer", _opt) if "optimizer" in doc else None
    sched = None
    if "learning_rate_schedule" in doc:
        sched = _registered(doc["learning_rate_schedule"], "learning_rate_schedule", _sched)
    l2 = 0.0
    if "regularization" in doc:
        spec = mapping(doc["regularization"], "regularization", REGULARIZATION_FIELDS)
        if "l2" in spec:
            l2 = number(spec["l2"], "regularization.l2")
            if l2 < 0:
                raise InputError(f"must be >= 0, got {l2:g}", "regularization.l2")
    return Optimization(opt, sched, l2)


def _registered(spec: Any, path: str, registry) -> Any:
    """``{name: ..., setting: value}`` -> the registry's object; errors at ``path.setting``."""
    if not isinstance(spec, dict):
        raise InputError("expected a mapping like {name: ...}", path)
    typed = dict(spec)
    name = typed.get("name")
    try:
        if isinstance(name, str) and name in _names(registry):
            for f in fields(registry.get_class(name)):
                if f.name in typed and isinstance(f.default, str):  # a word: the class checks it
                    typed[f.name] = choice(typed[f.name], f.name, _opt.EPS_PLACEMENTS)
                elif f.name in typed:  # booleans stay booleans, numbers must be finite numbers
                    check = boolean if isinstance(f.default, bool) else number
                    typed[f.name] = check(typed[f.name], f.name)
        return registry.from_settings(typed)
    except InputError as e:
        raise InputError(e.message, f"{path}.{e.field}" if e.field else path) from None
    except (TypeError, ValueError) as e:
        raise InputError(str(e), path) from None


def _names(registry) -> tuple[str, ...]:
    return tuple(getattr(registry, "OPTIMIZERS", None) or registry.SCHEDULES)

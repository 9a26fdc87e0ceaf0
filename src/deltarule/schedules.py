"""Learning-rate schedules: the rate η_e of epoch e (0-based) from the base rate η, once per epoch.

    constant          η_e = η
    step              η_e = η · γ^⌊e / step_size⌋                 (PyTorch's StepLR)
    exponential       η_e = η · γ^e                               (ExponentialLR)
    cosine            η_e = η_min + (η − η_min)(1 + cos(π e / T_max)) / 2   (CosineAnnealingLR)
    inverse_scaling   η_e = η / (e·n + 1)^power_t                 (scikit-learn's invscaling)

Every rate changes between epochs only, as PyTorch's schedulers stepped once per epoch; the
whole of epoch e runs at η_e. scikit-learn's ``invscaling`` sets η / (t + 1)^power_t at the end
of each epoch, t being the samples seen so far: with n examples per epoch t = e·n, so
``rate(e, η, samples_per_epoch=n)`` is its rate; the other schedules ignore n.

Each schedule is an immutable object with ``rate(epoch, base_lr, samples_per_epoch=1)``, its
settings for files, and its PyTorch twin by name (``torch.optim.lr_scheduler.<torch_name>``
with ``torch_kwargs(samples_per_epoch)``). Imports only the standard library.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, ClassVar

from .errors import InputError
from .fields import named_settings


@dataclass(frozen=True)
class LearningRateSchedule:
    """A schedule: ``rate(epoch, base_lr, samples_per_epoch=1) -> float`` for 0-based epochs."""

    name: ClassVar[str] = ""
    torch_name: ClassVar[str] = ""   # a class of torch.optim.lr_scheduler

    def rate(self, epoch: int, base_lr: float, samples_per_epoch: int = 1) -> float:
        """The learning rate of every update of epoch ``epoch`` (0-based)."""
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The settings as a problem file writes them: ``{name: ..., <field>: value}``."""
        return {"name": self.name, **asdict(self)}

    def torch_kwargs(self, samples_per_epoch: int = 1) -> dict[str, Any]:
        """Keyword arguments of the PyTorch scheduler (besides the optimizer)."""
        return asdict(self)

    def latex(self) -> str:
        """η_e as LaTeX, for the worked solution."""
        raise NotImplementedError

    def text(self) -> str:
        """η_e as plain text."""
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(LearningRateSchedule):
    """η_e = η (the default).

    >>> Constant().rate(7, 0.5)
    0.5
    """

    name: ClassVar[str] = "constant"
    torch_name: ClassVar[str] = "LambdaLR"

    def rate(self, epoch: int, base_lr: float, samples_per_epoch: int = 1) -> float:
        return float(base_lr)

    def torch_kwargs(self, samples_per_epoch: int = 1) -> dict[str, Any]:
        return {"lr_lambda": _one}

    def latex(self) -> str:
        return r"\eta_e = \eta"

    def text(self) -> str:
        return "η_e = η"


@dataclass(frozen=True)
class Step(LearningRateSchedule):
    """η_e = η·γ^⌊e/step_size⌋ (StepLR; γ defaults to 0.1 as there).

    >>> [Step(step_size=2, gamma=0.5).rate(e, 1.0) for e in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    step_size: int
    gamma: float = 0.1

    name: ClassVar[str] = "step"
    torch_name: ClassVar[str] = "StepLR"

    def __post_init__(self) -> None:
        if int(self.step_size) != self.step_size or self.step_size < 1:
            raise InputError(f"must be a whole number >= 1, got {self.step_size}", "step_size")
        _positive("gamma", self.gamma)

    def rate(self, epoch: int, base_lr: float, samples_per_epoch: int = 1) -> float:
        return float(base_lr) * _power(self.gamma, epoch // int(self.step_size))

    def latex(self) -> str:
        return r"\eta_e = \eta\, \gamma^{\lfloor e / \mathrm{step\_size} \rfloor}"

    def text(self) -> str:
        return "η_e = η·γ^floor(e / step_size)"


@dataclass(frozen=True)
class Exponential(LearningRateSchedule):
    """η_e = η·γ^e (ExponentialLR).

    >>> Exponential(gamma=0.5).rate(3, 1.0)
    0.125
    """

    gamma: float

    name: ClassVar[str] = "exponential"
    torch_name: ClassVar[str] = "ExponentialLR"

    def __post_init__(self) -> None:
        _positive("gamma", self.gamma)

    def rate(self, epoch: int, base_lr: float, samples_per_epoch: int = 1) -> float:
        return float(base_lr) * _power(self.gamma, epoch)

    def latex(self) -> str:
        return r"\eta_e = \eta\, \gamma^{e}"

    def text(self) -> str:
        return "η_e = η·γ^e"


@dataclass(frozen=True)
class Cosine(LearningRateSchedule):
    """η_e = η_min + (η − η_min)(1 + cos(π e/T_max))/2 (CosineAnnealingLR; past T_max it rises again, as there).

    >>> [round(Cosine(t_max=2).rate(e, 1.0), 12) for e in range(3)]
    [1.0, 0.5, 0.0]
    """

    t_max: int
    eta_min: float = 0.0

    name: ClassVar[str] = "cosine"
    torch_name: ClassVar[str] = "CosineAnnealingLR"

    def __post_init__(self) -> None:
        if int(self.t_max) != self.t_max or self.t_max < 1:
            raise InputError(f"must be a whole number >= 1, got {self.t_max}", "t_max")
        if self.eta_min < 0:
            raise InputError(f"must be >= 0, got {self.eta_min}", "eta_min")

    def rate(self, epoch: int, base_lr: float, samples_per_epoch: int = 1) -> float:
        return self.eta_min + (float(base_lr) - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.t_max)) / 2.0

    def torch_kwargs(self, samples_per_epoch: int = 1) -> dict[str, Any]:
        return {"T_max": self.t_max, "eta_min": self.eta_min}

    def latex(self) -> str:
        return (r"\eta_e = \eta_{min} + \tfrac{1}{2}(\eta - \eta_{min})"
                r"\left(1 + \cos\frac{\pi e}{T_{max}}\right)")

    def text(self) -> str:
        return "η_e = η_min + (η - η_min)·(1 + cos(π·e / T_max)) / 2"


@dataclass(frozen=True)
class InverseScaling(LearningRateSchedule):
    """η_e = η/(e·n + 1)^power_t, n examples per epoch (scikit-learn's invscaling, power_t 0.5).

    >>> InverseScaling().rate(0, 0.1, 8), InverseScaling().rate(1, 0.1, 8)
    (0.1, 0.03333333333333333)
    """

    power_t: float = 0.5

    name: ClassVar[str] = "inverse_scaling"
    torch_name: ClassVar[str] = "LambdaLR"

    def __post_init__(self) -> None:
        if self.power_t < 0:
            raise InputError(f"must be >= 0, got {self.power_t}", "power_t")

    def rate(self, epoch: int, base_lr: float, samples_per_epoch: int = 1) -> float:
        return float(base_lr) / _power(epoch * samples_per_epoch + 1, self.power_t)

    def torch_kwargs(self, samples_per_epoch: int = 1) -> dict[str, Any]:
        return {"lr_lambda": _inverse_factor(self.power_t, samples_per_epoch)}

    def latex(self) -> str:
        return r"\eta_e = \frac{\eta}{(e\, n + 1)^{\mathrm{power\_t}}}"

    def text(self) -> str:
        return "η_e = η / (e·n + 1)^power_t"


def _one(epoch: int) -> float:
    return 1.0


def _inverse_factor(power_t: float, n: int) -> Callable[[int], float]:
    def factor(epoch: int) -> float:
        return 1.0 / _power(epoch * n + 1, power_t)
    return factor


def _power(x: float, p: float) -> float:
    """x**p for x > 0, inf where it overflows (a finite but huge gamma or power_t from a file: the
    rate becomes inf and training stops as diverged, or 0 when divided by; Python's float power
    raises OverflowError instead)."""
    try:
        return float(x) ** p
    except OverflowError:
        return math.inf


def _positive(field: str, value: float) -> None:
    if not value > 0:
        raise InputError(f"must be > 0, got {value}", field)


SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.name: cls for cls in (Constant, Step, Exponential, Cosine, InverseScaling)
}


def get(name: str, **settings: Any) -> LearningRateSchedule:
    """The schedule called ``name`` with ``settings``. KeyError: unknown name; TypeError: unknown
    or missing setting; ValueError: a bad value."""
    return SCHEDULES[name](**settings)


def from_settings(settings: dict[str, Any]) -> LearningRateSchedule:
    """The inverse of :meth:`LearningRateSchedule.settings`, for readers: ``{name: ..., <setting>: value}``.

    Raises :class:`~deltarule.errors.InputError` whose field is the setting at fault (``name``,
    ``beta1``, ...): a reader prefixes its own path (``learning_rate_schedule.gamma``) and the file.
    """
    return named_settings(SCHEDULES, settings)


def get_class(name: str):
    """The class registered as ``name`` (KeyError when none is)."""
    return SCHEDULES[name]


def setting_names(name: str) -> list[str]:
    """The settings a schedule takes: ``["step_size", "gamma"]`` for ``step``."""
    return [f.name for f in fields(SCHEDULES[name])]

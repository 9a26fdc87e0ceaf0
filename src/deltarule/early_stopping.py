"""Early stopping on the validation loss (``early_stopping: {patience, min_delta, restore_best}``).

After each completed epoch e ≥ 1 the journal's ``val_loss`` v_e is compared with the best so far:
v_e < best − min_delta is an improvement (best ← v_e, wait ← 0), anything else adds one to
wait; when wait reaches ``patience`` training stops after epoch e. The journal holds every
completed epoch (up to e); with ``restore_best`` the returned network has the best epoch's
parameters (the journal's row of that epoch), else epoch e's. The watch reads only journal rows,
so a resumed run rebuilds it from its checkpoint's journal and stops where a straight run would.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError
from .fields import boolean, integer, mapping, number

FIELDS = ("patience", "min_delta", "restore_best")


@dataclass(frozen=True)
class EarlyStopping:
    """Stop after ``patience`` epochs without a val_loss below best − ``min_delta``."""

    patience: int = 10
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        if int(self.patience) != self.patience or self.patience < 1:
            raise InputError(f"must be a whole number >= 1, got {self.patience!r}", "patience")
        if not self.min_delta >= 0:
            raise InputError(f"must be >= 0, got {self.min_delta!r}", "min_delta")

    def settings(self) -> dict[str, Any]:
        return {"patience": self.patience, "min_delta": self.min_delta, "restore_best": self.restore_best}


def parse(spec: Any) -> EarlyStopping:
    """The ``early_stopping:`` mapping (errors at ``early_stopping.<field>``)."""
    spec = mapping(spec, "early_stopping", FIELDS)
    patience = integer(spec.get("patience", 10), "early_stopping.patience", 1)
    min_delta = number(spec.get("min_delta", 0.0), "early_stopping.min_delta")
    if min_delta < 0:
        raise InputError(f"must be >= 0, got {min_delta:g}", "early_stopping.min_delta")
    return EarlyStopping(patience, min_delta, boolean(spec.get("restore_best", True), "early_stopping.restore_best"))


class Watch:
    """The running best of one training run; ``scan(rows)`` says where to stop (or None)."""

    def __init__(self, rule: EarlyStopping, columns: tuple[str, ...], P: int):
        if "val_loss" not in columns:
            raise ValueError("early stopping watches the validation loss: give validation=(x_val, y_val) "
                             "(a problem file: validation: {fraction: ...})")
        self.rule, self.col, self.P = rule, columns.index("val_loss"), P
        self.best, self.best_epoch, self.best_params, self.wait = np.inf, 0, None, 0
        self.stopped = ""

    def scan(self, rows: np.ndarray) -> int | None:
        """Feed journal rows in order (row 0, epoch 0, is skipped); the index of the row after
        which training stops, or None."""
        for i, row in enumerate(rows):
            if row[0] < 1:
                continue
            v = float(row[self.col])
            if v < self.best - self.rule.min_delta:
                self.best, self.best_epoch, self.best_params, self.wait = v, int(row[0]), row[2:2 + self.P].copy(), 0
            else:
                self.wait += 1
            if self.wait >= self.rule.patience:
                self.stopped = (f"stopped early after epoch {int(row[0])}: val_loss did not improve by more than "
                                f"{self.rule.min_delta:g} for {self.rule.patience} epochs (best {self.best:.6g} "
                                f"at epoch {self.best_epoch}" +
                                ("; its parameters kept)" if self.rule.restore_best else ")"))
                return i
        return None

    @property
    def kept_epoch(self) -> int | None:
        """The epoch whose parameters :meth:`final` returns when they are not the last ones."""
        return self.best_epoch if self.stopped and self.rule.restore_best and self.best_params is not None else None

    def final(self, params: np.ndarray) -> np.ndarray:
        """The parameters to return: the best epoch's when stopped with ``restore_best``."""
        return params if self.kept_epoch is None else self.best_params

"""L2 regularization (``regularization: {l2: λ}``): weights only, never biases.

The batch loss gains (λ/2)·Σ_l ‖W_l‖² (‖·‖ the Frobenius norm: every weight squared), so each
weight gradient gains λ W_l: dW_l ← dW_l + λ W_l, db_l unchanged. The penalty is added once
per batch, whatever the reduction, so with ``mean`` it weighs against the mean of the batch's
per-example losses.

scikit-learn's ``alpha`` is the same penalty over the *sum* of squared errors' half: its
gradient is (Σ_i g_i + alpha·W) / B for a batch of B, i.e. λ = alpha / B with ``mean`` — for
each batch, the last shorter one included (there λ is larger). PyTorch's ``weight_decay`` is
λ on the gradient exactly (SGD, RMSprop, Adam), but decays biases too unless the biases are a
parameter group of their own with weight_decay 0 (``Optimizer.torch_param_groups``); AdamW's
weight_decay is a different, decoupled decay. Imports only numpy.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

Array = np.ndarray


def penalty(Ws: Sequence[Array], lam: float) -> float:
    """(λ/2)·Σ_l Σ_ij W_l[i,j]², for weights W_l (units_l, fan_in_l); 0.0 when λ is 0.

    >>> import numpy as np
    >>> penalty([np.array([[1.0, 2.0]]), np.array([[3.0]])], 0.1)   # 0.05 * (1 + 4 + 9)
    0.7000000000000001
    """
    if not lam:
        return 0.0
    return 0.5 * lam * float(sum(np.sum(W * W) for W in Ws))


def add_l2(dWs: Sequence[Array], Ws: Sequence[Array], lam: float) -> list[Array]:
    """dW_l + λ W_l for every layer (new arrays, same shapes (units_l, fan_in_l)); biases untouched."""
    if not lam:
        return list(dWs)
    return [dW + lam * W for dW, W in zip(dWs, Ws)]

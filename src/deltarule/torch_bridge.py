"""The exit to PyTorch: a Network as torch modules and back, and training through PyTorch.

``to_torch(network) -> torch.nn.Sequential``
    ``Linear(fan_in, units)`` then the layer's activation module, layer by layer: the one its
    registry entry names (``Activation.torch``, e.g. ``Sigmoid``, ``LeakyReLU(negative_slope)``,
    ``Softmax(dim=-1)``); an activation without one is refused with an InputError.
    ``Linear.weight`` is W exactly (units × fan_in, one row per neuron), ``Linear.bias`` is b,
    copied with their dtype (float64 stays float64). Frozen parameters (``train_weights`` /
    ``train_biases`` false) get ``requires_grad=False``.
    When the loss is *fused* with the output activation (sigmoid + ``bce``, softmax +
    ``cross_entropy``) the Sequential ends with the last Linear and returns the logits z_L —
    PyTorch's own idiom (``BCEWithLogitsLoss``, ``CrossEntropyLoss``) and the stable way;
    ``loss_fn.output(model(x))`` gives the probabilities. Otherwise the output activation is
    in the model and ``model(x)`` equals ``network.predict(x)``.

``torch_loss(network) -> DeltaRuleLoss`` (an ``nn.Module``: ``loss_fn(model(x), y)``)
    The per-example loss of the contract (sse, half_sse, mse, half_mse summed or averaged over
    the K outputs; bce summed over the outputs, from the logits when fused; cross_entropy from
    the logits), then ``mean`` or ``sum`` over the n examples, as the network's ``reduction`` says.
    One gradient-descent update in PyTorch with it equals ``Network.step`` to rounding.

``from_torch(model, loss=..., reduction=...) -> Network`` comes back: a Sequential of Linear
    layers, each followed by at most one activation module. A last Linear with no activation
    after it is the logits of a fused pair when the loss is ``bce`` (sigmoid) or
    ``cross_entropy`` (softmax), else identity. ``requires_grad=False`` means frozen;
    ``bias=None`` means zero biases, frozen.

``train_torch(network, x, y, learning_rate, schedule, ...) -> TrainResult``
    The same gradient descent as :func:`deltarule.training.train` (same batches, same seeded
    order from :meth:`Schedule.epoch_batches`, same journal), run by PyTorch on a GPU when one
    is present. Under ``torchrun`` (``WORLD_SIZE`` > 1) or inside an initialised process group
    it trains data-parallel with ``DistributedDataParallel`` (gloo on CPU, nccl on GPUs): every
    rank holds the data, walks the same global batches, and takes its shard of each
    (``numpy.array_split`` of the batch's indices into world-size contiguous pieces).
    Shards need not be equal — the last batch of an epoch, or a batch smaller than the world
    size, splits unevenly, and a rank may get none: each rank's loss is the *sum* of its
    shard's per-example losses times ``world / B`` (``mean`` over a global batch of B) or
    ``world`` (``sum``), so DDP's average over ranks is exactly the gradient of the global
    batch, whatever the split.

Also ``dr.to_torch(net)``, ``dr.torch_loss(net)``, ``dr.from_torch(model, loss)``, and the same
as ``net.to_torch()``, ``net.torch_loss()``, ``dr.Network.from_torch(...)``: this module attaches
them to :class:`Network` when ``deltarule`` is imported (the core never imports the bridge).
torch is imported inside functions only; ``import deltarule`` never loads it.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from . import activations as _act
from . import losses as _loss
from .errors import InputError
from .metrics import classifier, extra_values
from .network import Layer, Network
from .results import TrainResult
from .schedule import Schedule


def _torch():
    try:
        import torch
    except ModuleNotFoundError:  # pragma: no cover - depends on the installation
        raise ModuleNotFoundError("the PyTorch exit needs torch: pip install torch==2.13.0") from None
    return torch


def _fused(network: Network) -> bool:
    return network.layers[-1].activation.name in network.loss.fused


def supported(network: Network) -> InputError | None:
    """None when PyTorch can run this network, else the one-line reason (an InputError)."""
    for l, lay in enumerate(network.layers, start=1):
        if lay.activation.torch is None:
            return InputError(f"the activation {lay.activation.name!r} has no PyTorch counterpart "
                              f"(activations.{lay.activation.name}.torch)", f"layers[{l}].activation")
    if network.loss.torch_value is None:
        return InputError(f"the loss {network.loss.name!r} has no PyTorch formula", "loss")
    return None


def _check(network: Network) -> None:
    error = supported(network)
    if error is not None:
        raise error


def to_torch(network: Network, device: Any = None):
    """The network as a ``torch.nn.Sequential`` with the same weights and dtype (see module doc)."""
    _check(network)
    torch = _torch()
    dtype = getattr(torch, network.dtype.name)
    modules = []
    for l, lay in enumerate(network.layers):
        lin = torch.nn.Linear(lay.fan_in, lay.units, dtype=dtype, device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(lay.W.copy()))  # network arrays are read-only
            lin.bias.copy_(torch.from_numpy(lay.b.copy()))
        lin.weight.requires_grad_(lay.train_weights)
        lin.bias.requires_grad_(lay.train_biases)
        modules.append(lin)
        if not (l == len(network.layers) - 1 and _fused(network)):
            modules.append(lay.activation.torch_module(torch.nn))
    return torch.nn.Sequential(*modules)


def torch_loss(network: Network):
    """The network's loss convention and reduction as a :class:`DeltaRuleLoss` module."""
    _check(network)
    return _loss_class()(network.loss.name, network.reduction, _fused(network),
                         network.layers[-1].activation.name)


def _loss_class():
    torch = _torch()

    class DeltaRuleLoss(torch.nn.Module):
        """``loss_fn(output, y)``: the contract's loss, reduced over examples by mean or sum.

        ``from_logits`` (the fused pairs) means ``output`` is z_L; ``output(out)`` gives a_L.
        The formulas are the registry's (``Loss.torch_value``, ``Fused.torch_value``).
        """

        def __init__(self, name: str, reduction: str = "mean", from_logits: bool = False,
                     activation: str = _act.identity.name):
            super().__init__()
            self.name, self.reduction, self.from_logits, self.activation = name, reduction, from_logits, activation
            self._loss, self._act = _loss.get(name), _act.get(activation)
            self._out = self._act.torch_module(torch.nn) if from_logits else None

        def extra_repr(self) -> str:
            return f"{self.name!r}, reduction={self.reduction!r}, from_logits={self.from_logits}"

        def output(self, out):
            """The network output a_L from the model's output."""
            return self._out(out) if self.from_logits else out

        def per_example(self, out, y):
            """The loss of each example, (n,)."""
            if self.from_logits:
                return self._loss.fused[self._act.name].torch_value(torch, out, y)
            return self._loss.torch_value(torch, out, y)

        def forward(self, out, y):
            v = self.per_example(out, y)
            return v.mean() if self.reduction == "mean" else v.sum()

    return DeltaRuleLoss


def _from_module(module) -> str:
    """The registry's activation whose torch twin ``module`` is (its arguments checked)."""
    for act in _act.ACTIVATIONS.values():
        if act.torch is None or type(module).__name__ != act.torch[0]:
            continue
        for attr, accepted in act.torch_accepts.items():
            if getattr(module, attr) not in accepted:
                raise ValueError(f"{act.torch[0]} must have {attr} in {list(accepted)} to be "
                                 f"{act.name}, got {getattr(module, attr)}")
        return act.name
    known = ", ".join(a.torch[0] for a in _act.ACTIVATIONS.values() if a.torch)
    raise ValueError(f"cannot translate {type(module).__name__}: expected Linear, {known}")


def _fused_activation(loss_name: str) -> str:
    """The output activation of a model that ends with logits: the loss's fused one, else identity."""
    fused = _loss.LOSSES[loss_name].fused if loss_name in _loss.LOSSES else {}
    return next(iter(fused), _act.identity.name)


def from_torch(model, loss: Any = _loss.half_sse, reduction: str | None = None) -> Network:
    """A :class:`Network` from a Sequential of Linear + activation modules (see module doc).

    ``loss`` is a loss name, a :class:`~deltarule.losses.Loss` or a ``DeltaRuleLoss`` (whose
    reduction is used unless ``reduction`` is given; default ``mean``).
    """
    torch = _torch()
    model = getattr(model, "module", model)  # a DistributedDataParallel wrapper
    name = getattr(loss, "name", loss)
    reduction = reduction or getattr(loss, "reduction", None) or "mean"
    specs: list[list] = []  # [Linear, activation name or None]
    for module in model.children() if isinstance(model, torch.nn.Sequential) else [model]:
        if isinstance(module, torch.nn.Linear):
            specs.append([module, None])
        elif not specs or specs[-1][1] is not None:
            raise ValueError(f"{type(module).__name__} must follow a Linear layer")
        else:
            specs[-1][1] = _from_module(module)
    if not specs:
        raise ValueError("the model has no Linear layer")
    if specs[-1][1] is None:
        specs[-1][1] = _fused_activation(name)
    layers = []
    for lin, act in specs:
        W = lin.weight.detach().cpu().numpy().copy()
        if lin.bias is None:
            b, train_b = np.zeros(W.shape[0], dtype=W.dtype), False
        else:
            b, train_b = lin.bias.detach().cpu().numpy().copy(), lin.bias.requires_grad
        layers.append(Layer(W, b, act or _act.identity.name, lin.weight.requires_grad, train_b))
    return Network(tuple(layers), name, reduction)


def _attach() -> None:
    """The PyTorch exit as methods of Network (``net.to_torch()``, ``net.torch_loss()``,
    ``Network.from_torch(model, loss_fn)``): attached here, so the core never imports the bridge."""
    def to_torch_method(self, device: Any = None):
        """A ``torch.nn.Sequential`` with these weights and dtype (see :func:`deltarule.torch_bridge.to_torch`)."""
        return to_torch(self, device)

    def torch_loss_method(self):
        """This loss convention and reduction as a torch module: ``loss_fn(model(x), y)``."""
        return torch_loss(self)

    def from_torch_method(model: Any, loss: Any = _loss.half_sse, reduction: str | None = None) -> Network:
        """The Network of a Sequential of Linear + activation modules (:func:`deltarule.torch_bridge.from_torch`)."""
        return from_torch(model, loss, reduction)

    Network.to_torch = to_torch_method
    Network.torch_loss = torch_loss_method
    Network.from_torch = staticmethod(from_torch_method)


_attach()


# -- training through PyTorch ------------------------------------------------------------------
def _process_group(distributed: bool | None, device_type: str):
    """(world, rank, created): join torchrun's process group when there is one to join."""
    dist = _torch().distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank(), False
    if distributed is None:
        distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if not distributed:
        return 1, 0, False
    dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return dist.get_world_size(), dist.get_rank(), True


def _device(device: Any):
    torch = _torch()
    if device is not None:
        dev = torch.device(device)
        if dev.type == "cuda" and dev.index is None:  # DDP and set_device want a numbered GPU
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
    return torch.device("cpu")


def train_torch(network: Network, x: Any, y: Any, learning_rate: float, schedule: Schedule = Schedule(), *,
                journal_loss: str = "epoch", initial_row: bool = True,
                callback: Callable[[int, float], None] | None = None,
                validation: tuple[Any, Any] | None = None, device: Any = None,
                distributed: bool | None = None, optimizer: Any = None, lr_schedule: Any = None,
                l2: float = 0.0, early_stopping: Any = None) -> TrainResult:
    """:func:`deltarule.training.train`, run by PyTorch (data-parallel under torchrun).

    Same arguments, same journal (columns and meaning), same :class:`Diverged` — checked at
    the end of each epoch, on every rank alike, keeping the last finite epoch's parameters.
    ``device``: default a GPU when present (``cuda:LOCAL_RANK``), else the CPU.
    ``distributed``: default when ``WORLD_SIZE`` > 1 or a process group is initialised.
    ``optimizer``, ``lr_schedule``, ``l2``: as :func:`deltarule.training.train`, run by
    ``torch.optim.<optimizer.torch_name>`` (weights and biases in two parameter groups, L2 as the
    weights' ``weight_decay``, or in the loss for AdamW) and ``lr_scheduler.<torch_name>`` stepped
    once per epoch.
    """
    _check(network)  # before torch is loaded: an activation without a twin is one clear line
    torch = _torch()
    dev = _device(device)
    world, rank, created = _process_group(distributed, dev.type)
    try:
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        from .optimization import Optimization

        return _train(torch, network, x, y, learning_rate, schedule, journal_loss, initial_row, callback,
                      validation, dev, world, rank, Optimization(optimizer, lr_schedule, float(l2)), early_stopping)
    finally:
        if created:
            torch.distributed.barrier()  # no rank leaves while another still talks to it
            torch.distributed.destroy_process_group()


def _train(torch, network, x, y, learning_rate, schedule, journal_loss, initial_row, callback, validation,
           dev, world, rank, optimization, early_stopping=None) -> TrainResult:
    from .training.driver import Driver
    from .training.threads import torch_policy

    x = np.ascontiguousarray(x, dtype=network.dtype)
    y = np.ascontiguousarray(y, dtype=network.dtype)

    def make(first: Network) -> "_TorchRun":
        run = _TorchRun(torch, first, x, y, learning_rate, schedule, journal_loss, validation, dev, world, rank)
        return run if optimization.plain else run.with_optimizer(optimization)

    driver = Driver(network, x, y, learning_rate, schedule, journal_loss, validation, make, "torch",
                    optimization=optimization, early_stopping=early_stopping)
    with torch_policy(torch, network.sizes, schedule.size(len(x)), len(x)):  # small products: one thread
        if initial_row:
            driver.initial_row()
        return driver.run(callback)


class _TorchRun:
    """The driver's engine protocol (:mod:`deltarule.training.driver`) on PyTorch, one epoch a call.

    Rows hold their own extra columns (computed by torch on the device); divergence is checked
    at the end of each epoch, on every rank alike, keeping the last finite epoch's parameters.
    """

    name, own_extras = "torch", True

    def __init__(self, torch, network, x, y, learning_rate, schedule, journal_loss, validation, dev, world, rank):
        def tensor(a):  # torch wants writable memory; copy only when it is not
            return torch.as_tensor(np.require(a, dtype=network.dtype, requirements=["C", "W"]), device=dev)

        self.torch, self.net, self.y, self.lr, self.mode = torch, network, y, learning_rate, journal_loss
        self.world, self.rank, self.size = world, rank, schedule.size(len(x))
        self.X, self.Y = tensor(x), tensor(y)
        self.validation = validation
        self.val = None if validation is None else (tensor(validation[0]), tensor(validation[1]))
        self.model, self.loss_fn = to_torch(network, device=dev), torch_loss(network)
        self.trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.ddp = self.model
        if world > 1 and self.trainable:
            from torch.nn.parallel import DistributedDataParallel

            self.ddp = DistributedDataParallel(self.model, device_ids=[dev.index] if dev.type == "cuda" else None)
        self.kind, self.updates, self.last = classifier(network), 0, network.parameters()
        self.topt = self.tsched = None
        self.l2 = self.l2_in_loss = 0.0

    def with_optimizer(self, optimization) -> "_TorchRun":
        """Run ``optimization`` (not plain) by torch.optim and its scheduler; returns self."""
        torch = self.torch
        opt = optimization.optimizer
        if opt is None:
            from .optimizers import SGD

            opt = SGD()
        linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.weights = [m.weight for m in linears]
        groups, self.l2_in_loss = opt.torch_param_groups([w for w in self.weights if w.requires_grad],
                                                         [m.bias for m in linears if m.bias is not None
                                                          and m.bias.requires_grad], optimization.l2)
        self.l2 = optimization.l2
        self.topt = getattr(torch.optim, opt.torch_name)(groups, lr=self.lr, **opt.torch_kwargs())
        sched = optimization.lr_schedule
        if sched is not None:
            self.rate_of = lambda e: sched.rate(max(e - 1, 0), self.lr, len(self.X))
            self.tsched = getattr(torch.optim.lr_scheduler, sched.torch_name)(self.topt, **sched.torch_kwargs(len(self.X)))
            self.rated = sched.name != "constant"
        return self

    def penalty(self):
        """(λ/2)·Σ_l ‖W_l‖² as a tensor (weights only)."""
        return 0.5 * sum((w * w).sum() for w in self.weights)

    def chunk_epochs(self) -> int:
        return 1

    def params(self) -> np.ndarray:
        return self.last.copy()

    def flat(self) -> np.ndarray:
        return np.concatenate([t.detach().cpu().numpy().ravel() for t in self.model.parameters()])

    def row(self, epoch: int, loss: float | None = None) -> np.ndarray:
        """[epoch, loss, parameters, extras]: the loss over all of x unless ``loss`` is given."""
        model, loss_fn, val = self.model, self.loss_fn, self.val
        with self.torch.no_grad():
            out = model(self.X)
            full = float(loss_fn(out, self.Y)) if loss is None else loss
            if self.l2 and loss is None:
                full += self.l2 * float(self.penalty())
            a = loss_fn.output(out).cpu().numpy() if self.kind else None
            v = None
            if val is not None:
                vout = model(val[0])
                v = (float(loss_fn(vout, val[1])), loss_fn.output(vout).cpu().numpy(), self.validation[1])
        rate = [self.rate_of(epoch)] if getattr(self, "rated", False) else []
        return np.concatenate([[epoch, full], self.flat(), extra_values(self.kind, a, self.y, v), rate])

    def initial(self):
        return self.row(0), None

    def epochs(self, e0: int, e1: int, orders):
        rows, P = [], self.last.size
        for e in range(e0, e1):
            r = self.row(e, self.epoch(None if orders is None else orders[e - e0]))
            if not np.isfinite(r[1:2 + P]).all():
                return np.array(rows), [None] * len(rows), (e, self.updates, "the loss or a parameter is not finite")
            self.last = r[2:2 + P].copy()
            rows.append(r)
        return np.array(rows), [None] * len(rows), None

    def running_penalty(self, m: int):
        """This rank's share of the batch's penalty in the running sum (see GenericRun.weighted):
        m·penalty with ``mean`` (the sum is divided by n), penalty / ranks with ``sum``."""
        if not self.l2:
            return 0.0
        return self.l2 * self.penalty() * (m if self.net.reduction == "mean" else 1.0 / self.world)

    def descend(self) -> None:
        """One step: P ← P − η g (plain), or torch.optim's."""
        if self.topt is not None:
            self.topt.step()
            return
        for p in self.trainable:
            p.sub_(self.lr * p.grad)

    def epoch(self, order) -> float | None:
        """One epoch of updates; the running loss (``running`` mode) or None."""
        torch, n = self.torch, len(self.X)
        running = torch.zeros((), dtype=getattr(torch, self.net.dtype.name), device=self.X.device)
        for s in range(0, n, self.size):
            idx = slice(s, min(s + self.size, n)) if order is None else order[s:s + self.size]
            xb, yb, scale = _shard(torch, self.X, self.Y, idx, n, self.world, self.rank, self.net.reduction)
            for p in self.trainable:
                p.grad = None
            loss = self.loss_fn.per_example(self.ddp(xb), yb).sum() * scale
            if self.l2_in_loss:  # AdamW: L2 cannot be its weight_decay (that is the decoupled decay)
                loss = loss + self.l2_in_loss * self.penalty()
            loss.backward()
            with torch.no_grad():
                self.descend()
                if self.mode == "running":
                    running += self.loss_fn.per_example(self.model(xb), yb).sum() + self.running_penalty(len(yb))
            self.updates += 1
        if self.tsched is not None:
            self.tsched.step()
        if self.mode != "running":
            return None
        if self.world > 1:
            torch.distributed.all_reduce(running)
        return float(running) / n if self.net.reduction == "mean" else float(running)


def _shard(torch, X, Y, idx, n: int, world: int, rank: int, reduction: str):
    """This rank's examples of a global batch, and the factor on the sum of their losses.

    DDP averages gradients over ranks, so scaling each rank's summed loss by world/B (mean)
    or world (sum) makes the average the gradient of the whole global batch of B examples.
    """
    if world == 1:
        size = (idx.stop - idx.start) if isinstance(idx, slice) else len(idx)
        ix = idx if isinstance(idx, slice) else torch.as_tensor(idx, device=X.device)
        return X[ix], Y[ix], (1.0 / size if reduction == "mean" else 1.0)
    ix = np.arange(n)[idx]
    mine = torch.as_tensor(np.array_split(ix, world)[rank], device=X.device)
    return X[mine], Y[mine], (world / len(ix) if reduction == "mean" else float(world))

"""Trace -> worked-solution Document (compute once, render many).

The builder reads every number from the :class:`~deltarule.trace.Step` records: the
local slopes f'(z) (``LayerTrace.fprime``), each example's loss, each example's own
gradient (``Step.example_gradients``) and the pass with the new parameters
(``Step.after_trace``) were all computed by the core when the step was taken. Nothing
here adds or multiplies model values, and nothing here imports training or problem code.
"""
from __future__ import annotations

import re

from ..errors import InputError
from ..network import chain_paths, chain_routes
from . import notation as N
from . import optimization as O
from .builder import CDOT, HADAMARD, MAX_EXAMPLES, MAX_ROWS, MAX_TERMS, MAX_UNITS, Builder, exact
from .document import Diagram, Document, Heading, Math, Note, Paragraph, Table, join
from ..formatting import fmt, is_tiny, policy

STYLES = ("neuron", "matrix")
MAX_CHAIN_PATHS = 8


# -- the givens ----------------------------------------------------------------------------------
def _givens(B: Builder, problem, steps) -> None:
    """The problem's conventions (network, loss, learning rate, rounding, activations), then what is given."""
    net, loss = problem.network, problem.network.loss
    B.add(Heading("Problem and conventions", 2))
    if problem.description.strip():
        B.add(Note((" ".join(problem.description.split()),), "remark"))
    sizes = "-".join(map(str, net.sizes))
    acts = ", ".join(f"layer {l}: {lay.activation.name}" for l, lay in enumerate(net.layers, 1))
    B.add(Paragraph((f"Network {sizes} ({acts}); z = W a + b and a = f(z) in every layer, "
                     f"W with one row per neuron; x is the input, ŷ the output of the last layer.",)))
    red = ("the mean of the examples' losses" if net.reduction == "mean" else "the sum of the examples' losses")
    B.add(Paragraph(("Loss (", loss.name, f", {loss.description}): ", Math(loss.latex, loss.text or loss.name),
                     f"; over a batch, {red}.")))
    B.add(Paragraph(("Learning rate ", Math(r"\eta = " + exact(problem.learning_rate), "η = " + exact(problem.learning_rate)),
                     f"; gradient descent: {problem.schedule.method}; updates shown: {len(steps)}.")))
    O.rule(B, steps[0])
    B.add(Paragraph(("Rounding: " + policy(B.decimals),)))
    if loss.remark and net.sizes[-1] > 1:
        K = net.sizes[-1]
        B.add(Note((loss.remark[0].format(K=K), Math(loss.latex_grad, loss.text_grad),
                    loss.remark[1].format(K=K)), "remark"))
    seen = []
    for lay in net.layers:
        f = lay.activation
        if f.name in seen:
            continue
        seen.append(f.name)
        B.add(Paragraph((f"Activation {f.name}: ", Math(f.latex, f.text or f.name), ", with ",
                         Math(f.latex_derivative, f.text_derivative or ""), ".")))
    if net.layers[-1].activation.name in (loss.fused or {}):
        fz = loss.fused[net.layers[-1].activation.name]
        B.add(Paragraph(("With this output activation and loss the output delta is simply ",
                         Math(fz.latex_delta, "δ = ŷ - y"), " (computed stably from z).")))
    _given(B, problem, steps)
    _given_data(B, problem, steps)


def _given(B: Builder, problem, steps) -> None:
    """The given W and b of every layer (and which are frozen), a note when the problem is too big to write out."""
    net = problem.network
    B.add(Heading("Given", 3))
    for l, lay in enumerate(net.layers, start=1):
        B.eq(N.vec("W", l), result=B.matrix(lay.W))
        B.eq(N.vec("b", l), result=B.vector(lay.b))
        frozen = [w for w, t in (("weights", lay.train_weights), ("biases", lay.train_biases)) if not t]
        if frozen:
            B.add(Note((f"Layer {l}'s {' and '.join(frozen)} are frozen: they are not updated.",)))
    big = (max(net.sizes) > MAX_UNITS or max(net.sizes[:-1]) > MAX_TERMS
           or max(len(s.examples) for s in steps) > MAX_EXAMPLES or len(problem.x) > MAX_ROWS)
    if big:
        B.add(Note((f"A large problem: at most {MAX_EXAMPLES} examples per update, {MAX_UNITS} neurons per "
                    f"layer, {MAX_TERMS} terms per sum and {MAX_ROWS} rows of data are written out; "
                    "the rest are worked alike. Every number is in `deltarule solve --format json`.",)))


def _given_data(B: Builder, problem, steps) -> None:
    """The data as a table (the first rows), how many examples, inputs and targets, and the network's diagram."""
    net = problem.network
    if problem.x.shape[1] + problem.y.shape[1] <= 2 * MAX_TERMS:
        header = tuple(["example"] + [N.x(j + 1) for j in range(problem.x.shape[1])]
                       + [N.y(k + 1) for k in range(problem.y.shape[1])])
        rows = tuple(tuple([str(i + 1)] + [B.num(v) for v in problem.x[i]] + [B.num(v) for v in problem.y[i]])
                     for i in range(min(len(problem.x), MAX_ROWS)))
        B.add(Table(header, rows))
    B.add(Paragraph((f"{len(problem.x)} example{'s' if len(problem.x) != 1 else ''}, "
                     f"{problem.x.shape[1]} input{'s' if problem.x.shape[1] != 1 else ''} and "
                     f"{problem.y.shape[1]} target{'s' if problem.y.shape[1] != 1 else ''} each.",)))
    if max(net.sizes) <= 2 * MAX_UNITS:
        B.add(Diagram(steps[0], 0, B.decimals))


def _which(examples) -> str:
    """1-based example numbers, the first few of a long batch."""
    every = ", ".join(str(i + 1) for i in examples)
    if len(every) <= 40:
        return every
    shown = ", ".join(str(i + 1) for i in examples[:4])
    return shown + (f", ... ({len(examples)} in all)" if len(examples) > 4 else "")


def _dash(m: Math) -> Math:
    """m' (after the update); braced so that LaTeX takes it as one superscript."""
    return Math("{" + m.tex + "}'", m.text + "'")


# -- one update ------------------------------------------------------------------------------------
def _update(B: Builder, problem, step, k: int, count: int, chain) -> None:
    n = len(step.examples)
    which = _which(step.examples)
    B.add(Heading(f"Update {k} of {count}: {problem.schedule.method}, example{'s' if n > 1 else ''} {which}", 2))
    if n > 1 and problem.network.reduction == "mean":
        B.add(Note((f"The batch loss is the mean over its {n} examples, so every per-example "
                    f"derivative below (dL/da, δ) carries the factor 1/{n}; the gradients add them up.",)))
    tr = step.trace
    slopes = [lt.fprime for lt in tr.layers]  # f'(z) of each layer, from the core
    for e in range(min(n, MAX_EXAMPLES)):
        if n > 1:
            data = (f": x = {B.vector(tr.x[e], column=False).text}, y = {B.vector(tr.y[e], column=False).text}"
                    if tr.x.shape[1] + tr.y.shape[1] <= 6 else "")
            B.add(Heading(f"Example {step.examples[e] + 1}{data}", 3))
        else:
            B.add(Heading("Forward pass", 3))
        _forward(B, step, e)
        _loss_example(B, step, e, n)
        if n == 1:
            B.add(Heading("Backward pass (the delta rule)", 3))
        _backward(B, step, e, n, slopes)
    if n > MAX_EXAMPLES:
        B.add(Paragraph((f"The other {n - MAX_EXAMPLES} examples of this batch are worked alike.",)))
    if n > 1:
        _batch_loss(B, step)
    B.add(Heading("Gradients", 3))
    _gradients(B, step)
    if 1 < n <= MAX_EXAMPLES and step.before.parameters().size <= 5 * MAX_UNITS:
        _per_example_gradients(B, step)
    if chain is not None and k == 1:
        _chain(B, step, chain, slopes)
    B.add(Heading("Update", 3))
    O.rate(B, step)
    _parameters(B, step)
    _after(B, step)
    B.flush_tiny()


def _forward(B: Builder, step, e: int) -> None:
    tr = step.trace
    for l, (lay, lt) in enumerate(zip(step.before.layers, tr.layers), start=1):
        prev = tr.x[e] if l == 1 else tr.layers[l - 2].a[e]
        f = lay.activation
        if B.style == "matrix":
            B.eq(N.vec("z", l), N.vec("W", l) + " " + N.vec("a", l - 1) + " + " + N.vec("b", l),
                 B.matrix(lt.W) + B.vector(prev) + " + " + B.vector(lt.b), B.vector(lt.z[e], N.vec("z", l)))
            sym = N.act_symbol(f) + "(" + N.vec("z", l) + ")"
            B.eq(N.vec("a", l), sym, N.act_symbol(f) + "(" + B.vector(lt.z[e]) + ")", B.vector(lt.a[e], N.vec("a", l)))
            continue
        for i in range(min(lay.units, MAX_UNITS)):
            if lay.fan_in <= MAX_TERMS:
                sym = join([N.W(l, i + 1, j + 1) + " " + N.a(l - 1, j + 1) for j in range(lay.fan_in)], " + ") + " + " + N.b(l, i + 1)
                sub = join([B.opnd(lt.W[i, j]) + "(" + B.s(prev[j]) + ")" for j in range(lay.fan_in)], " + ") + " + " + B.opnd(lt.b[i])
            else:
                sym = Math(rf"\sum_j W^{{({l})}}_{{{i + 1},j}} {N.a(l - 1, 0).tex.split('_')[0]}_j + ", f"Σ_j W{l}[{i + 1},j] {'x' if l == 1 else f'a{l - 1}'}[j] + ") + N.b(l, i + 1)
                sub = None
            B.eq(N.z(l, i + 1), sym, sub, B.result(lt.z[e, i], N.z(l, i + 1)))
            if not f.elementwise:  # a_k depends on the whole z
                k = Math(f")_{{{i + 1}}}", f")[{i + 1}]")
                sym = N.act_symbol(f) + "(" + N.vec("z", l) + k
                sub = N.act_symbol(f) + "(" + B.vector(lt.z[e], column=False) + k
            else:
                sym = N.act_symbol(f) + "(" + N.z(l, i + 1) + ")"
                sub = N.act_symbol(f) + "(" + B.s(lt.z[e, i]) + ")"
            B.eq(N.a(l, i + 1), sym, sub, B.result(lt.a[e, i], N.a(l, i + 1)))


def _loss_example(B: Builder, step, e: int, n: int) -> None:
    loss = step.before.loss
    tr = step.trace
    yh, ys = [B.s(v) for v in tr.yhat[e]], [B.opnd(v) for v in tr.y[e]]
    lhs = O.data_loss_name(step, Math("L", "L")) if n == 1 else \
        Math(f"L_{{{step.examples[e] + 1}}}", f"L[{step.examples[e] + 1}]")
    sym = Math(N.rhs(loss.latex), N.rhs(loss.text or loss.name))
    B.eq(lhs, sym, N.loss_substituted(loss, yh, ys), B.result(tr.per_example_loss[e], lhs))
    if n == 1:
        O.penalty(B, step)


def _batch_loss(B: Builder, step) -> None:
    tr, n = step.trace, len(step.examples)
    parts = [B.s(v) for v in tr.per_example_loss]
    names = [Math(f"L_{{{i + 1}}}", f"L[{i + 1}]") for i in step.examples]
    if step.before.reduction == "mean":
        sym = Math(f"\\frac{{1}}{{{n}}}(", f"1/{n} (") + join(names, " + ") + ")"
        sub = Math(f"\\frac{{1}}{{{n}}}(", f"1/{n} (") + join(parts, " + ") + ")"
    else:
        sym, sub = join(names, " + "), join(parts, " + ")
    B.add(Heading("Batch loss", 3))
    lhs = O.data_loss_name(step, Math("L", "L"))
    B.eq(lhs, sym, sub, B.result(tr.loss, lhs))
    O.penalty(B, step)


def _backward(B: Builder, step, e: int, n: int, slopes) -> None:
    net, tr = step.before, step.trace
    L = len(net.layers)
    loss, out = net.loss, net.layers[-1].activation
    fused = out.name in (loss.fused or {})
    for l in range(L, 0, -1):
        lay, lt = net.layers[l - 1], tr.layers[l - 1]
        if B.style == "matrix":
            _backward_matrix(B, step, e, n, l, slopes, fused)
            continue
        for i in range(min(lay.units, MAX_UNITS)):
            if l == L:
                p, t = B.s(lt.a[e, i]), B.opnd(tr.y[e, i])
                sym = Math(N.rhs(loss.latex_grad).replace("_k", f"_{{{i + 1}}}"),
                           N.rhs(loss.text_grad or "").replace("_k", f"[{i + 1}]"))
                if n > 1 and net.reduction == "mean":
                    sym = Math(f"\\frac{{1}}{{{n}}} \\cdot ", f"1/{n} · ") + sym
                B.eq(N.dL_da(l, i + 1), sym, N.grad_substituted(loss, p, t, lay.units, n if net.reduction == "mean" else 1),
                     B.result(lt.dL_da[e, i], N.dL_da(l, i + 1)))
            else:
                nxt = tr.layers[l]
                if nxt.W.shape[0] <= MAX_TERMS:
                    sym = join([N.W(l + 1, k + 1, i + 1) + " " + N.delta(l + 1, k + 1) for k in range(nxt.W.shape[0])], " + ")
                    sub = join([B.opnd(nxt.W[k, i]) + "(" + B.s(nxt.delta[e, k]) + ")" for k in range(nxt.W.shape[0])], " + ")
                else:
                    sym = Math(rf"\sum_k W^{{({l + 1})}}_{{k,{i + 1}}} \delta^{{({l + 1})}}_k", f"Σ_k W{l + 1}[k,{i + 1}] δ{l + 1}[k]")
                    sub = None
                B.eq(N.dL_da(l, i + 1), sym, sub, B.result(lt.dL_da[e, i], N.dL_da(l, i + 1)))
        _backward_delta(B, step, e, n, l, slopes, fused)


def _backward_delta(B: Builder, step, e: int, n: int, l: int, slopes, fused: bool) -> None:
    """Layer l's δ of each neuron: ŷ - y (fused output), dL/da · f'(z) (elementwise f), or the softmax Jacobian's."""
    net, tr = step.before, step.trace
    L, lay, lt = len(net.layers), net.layers[l - 1], tr.layers[l - 1]
    f = lay.activation
    for i in range(min(lay.units, MAX_UNITS)):
        if l == L and fused:
            sub = N.fused_substituted(B.s(lt.a[e, i]), B.opnd(tr.y[e, i]), n if net.reduction == "mean" else 1)
            sym = Math(N.yhat(i + 1).tex + " - " + N.y(i + 1).tex, N.yhat(i + 1).text + " - " + N.y(i + 1).text)
            if n > 1 and net.reduction == "mean":
                sym = Math(f"\\frac{{1}}{{{n}}}(", f"1/{n} (") + sym + ")"
            B.eq(N.delta(l, i + 1), sym, sub, B.result(lt.delta[e, i], N.delta(l, i + 1)))
        elif f.elementwise:
            fp = N.prime(f, N.z(l, i + 1))
            B.eq(fp, N.derivative_in_a(f, N.a(l, i + 1)),
                 N.derivative_substituted(f, B.s(lt.a[e, i])), B.result(slopes[l - 1][e, i], fp))
            B.eq(N.delta(l, i + 1), N.dL_da(l, i + 1) + CDOT + fp,
                 B.opnd(lt.dL_da[e, i]) + CDOT + B.opnd(slopes[l - 1][e, i]), B.result(lt.delta[e, i], N.delta(l, i + 1)))
        else:
            B.eq(N.delta(l, i + 1), Math(r"a_{%d}\left(\frac{\partial L}{\partial a_{%d}} - \sum_j \frac{\partial L}{\partial a_j} a_j\right)" % (i + 1, i + 1),
                                         f"a[{i + 1}] (dL/da[{i + 1}] - Σ_j dL/da[j] a[j])  (softmax Jacobian)"),
                 None, B.result(lt.delta[e, i], N.delta(l, i + 1)))


def _backward_matrix(B: Builder, step, e: int, n: int, l: int, slopes, fused: bool) -> None:
    net, tr = step.before, step.trace
    L = len(net.layers)
    lay, lt = net.layers[l - 1], tr.layers[l - 1]
    f, loss = lay.activation, net.loss
    mean_n = n if net.reduction == "mean" else 1
    if l == L:
        sym = Math(N.rhs(loss.latex_grad).replace("_k", ""), N.rhs(loss.text_grad or "").replace("_k", ""))
        if mean_n > 1:
            sym = Math(f"\\frac{{1}}{{{n}}} \\cdot ", f"1/{n} · ") + sym
        yh, ys = B.vector(lt.a[e]), B.vector(tr.y[e])
        sub = None
        if loss.squared:  # the same formula on whole vectors
            sub = Math(N.grad_substituted(loss, yh.tex, ys.tex, lay.units, mean_n).tex,
                       N.grad_substituted(loss, yh.text, ys.text, lay.units, mean_n).text)
        B.eq(N.grad_vec("a", l), sym, sub, B.vector(lt.dL_da[e], N.grad_vec("a", l)))
    else:
        nxt = tr.layers[l]
        B.eq(N.grad_vec("a", l), Math(f"(W^{{({l + 1})}})^T \\delta^{{({l + 1})}}", f"W{l + 1}^T δ{l + 1}"),
             B.matrix(nxt.W.T) + B.vector(nxt.delta[e]), B.vector(lt.dL_da[e], N.grad_vec("a", l)))
    if l == L and fused:
        B.eq(N.vec("delta", l), Math(r"\hat{y} - y", "ŷ - y") if mean_n == 1 else Math(f"\\frac{{1}}{{{n}}}(\\hat{{y}} - y)", f"1/{n} (ŷ - y)"),
             None, B.vector(lt.delta[e], N.vec("delta", l)))
    elif f.elementwise:
        fp = N.prime(f, N.vec("z", l))
        sub = N.derivative_vector(f, B.vector(lt.a[e])) if f.a_form_vector else None
        B.eq(fp, Math(N.rhs(f.latex_derivative).replace("a(1 - a)", r"a \odot (1 - a)"), N.rhs(f.text_derivative)),
             sub, B.vector(slopes[l - 1][e], fp))
        B.eq(N.vec("delta", l), N.grad_vec("a", l) + HADAMARD + fp,
             B.vector(lt.dL_da[e]) + HADAMARD + B.vector(slopes[l - 1][e]), B.vector(lt.delta[e], N.vec("delta", l)))
    else:
        B.eq(N.vec("delta", l), Math(r"J_{\mathrm{softmax}}^T \frac{\partial L}{\partial a}", "J^T dL/da  (softmax Jacobian)"),
             None, B.vector(lt.delta[e], N.vec("delta", l)))


def _gradients(B: Builder, step) -> None:
    tr = step.trace
    n = len(step.examples)
    for l in range(len(tr.layers), 0, -1):
        lt, dW = tr.layers[l - 1], step.gradients()[l - 1][0]   # dW with λW under L2
        prev = tr.x if l == 1 else tr.layers[l - 2].a
        if B.style == "matrix":
            _gradients_matrix(B, step, l)
            continue
        units, fan_in = lt.W.shape
        for i in range(min(units, MAX_UNITS)):
            for j in range(min(fan_in, MAX_TERMS)):
                sym = N.delta(l, i + 1) + " " + N.a(l - 1, j + 1)
                if n > 1:
                    sym = Math(r"\sum_{\mathrm{examples}} ", "Σ ") + sym
                sub = None if n > MAX_EXAMPLES else \
                    join([B.opnd(lt.delta[e, i]) + "(" + B.s(prev[e, j]) + ")" for e in range(n)], " + ")
                sym, sub = O.with_l2(B, step, l, (i + 1, j + 1), sym, sub)
                B.eq(N.dW(l, i + 1, j + 1), sym, sub, B.result(dW[i, j], N.dW(l, i + 1, j + 1)))
            sym = N.delta(l, i + 1) if n == 1 else Math(r"\sum_{\mathrm{examples}} ", "Σ ") + N.delta(l, i + 1)
            sub = None if n == 1 or n > MAX_EXAMPLES else join([B.opnd(lt.delta[e, i]) for e in range(n)], " + ")
            B.eq(N.db(l, i + 1), sym, sub, B.result(lt.db[i], N.db(l, i + 1)))


def _gradients_matrix(B: Builder, step, l: int) -> None:
    """Layer l's gradients as whole matrices: dW(l) = δ(l) a(l-1)^T and db(l) = δ(l), summed over a batch."""
    tr, n = step.trace, len(step.examples)
    lt, prev = tr.layers[l - 1], tr.x if l == 1 else tr.layers[l - 2].a
    dW = step.gradients()[l - 1][0]   # with λW under L2
    if n == 1:
        sym, sub = O.with_l2(B, step, l, None, Math(f"\\delta^{{({l})}} ({N.vec('a', l - 1).tex})^T",
                                                   f"δ{l} {N.vec('a', l - 1).text}^T"),
                             B.vector(lt.delta[0]) + B.vector(prev[0], column=False))
        B.eq(N.grad_vec("W", l), sym, sub, B.matrix(dW, N.grad_vec("W", l)))
        B.eq(N.grad_vec("b", l), N.vec("delta", l), None, B.vector(lt.db, N.grad_vec("b", l)))
        return
    sym, _ = O.with_l2(B, step, l, None, Math(f"\\sum_i \\delta^{{({l})}}_{{[i]}} ({N.vec('a', l - 1).tex}_{{[i]}})^T",
                                             f"Σ_i δ{l}[i] {N.vec('a', l - 1).text}[i]^T"), None)
    B.eq(N.grad_vec("W", l), sym, None, B.matrix(dW, N.grad_vec("W", l)))
    B.eq(N.grad_vec("b", l), Math(f"\\sum_i \\delta^{{({l})}}_{{[i]}}", f"Σ_i δ{l}[i]"),
         join([B.vector(lt.delta[e]) for e in range(n)], " + ") if n <= MAX_EXAMPLES else None,
         B.vector(lt.db, N.grad_vec("b", l)))


def _per_example_gradients(B: Builder, step) -> None:
    """Each example's own gradient (its loss alone, kept by the core), beside the batch's."""
    net, tr = step.before, step.trace
    if step.example_gradients is None:  # not kept for this step
        return
    names = []
    for l, lay in enumerate(net.layers, start=1):  # the order of the vectors below
        names += [N.W(l, i + 1, j + 1).text for i in range(lay.units) for j in range(lay.fan_in)]
        names += [N.b(l, i + 1).text for i in range(lay.units)]
    vecs = step.example_gradients
    batch = tr.gradient()
    how = "their mean" if net.reduction == "mean" else "their sum"
    how += " (of the data's loss: L2's λW is added above)" if step.l2 else ""
    B.add(Paragraph((f"Each example's own gradient (its loss alone, at the same parameters), and the batch "
                     f"gradient, {how}:",)))
    header = tuple(["parameter"] + [f"g{i + 1}" for i in step.examples] + ["batch"])
    rows = tuple(tuple([nm] + [B.num(v[p]) for v in vecs] + [B.num(batch[p])]) for p, nm in enumerate(names))
    B.add(Table(header, rows))


def _parameters(B: Builder, step) -> None:
    eta = exact(step.learning_rate)
    for l, old in enumerate(step.before.layers, start=1):
        for what, trained in (("weights", old.train_weights), ("biases", old.train_biases)):
            if not trained:
                B.add(Note((f"Layer {l}'s {what} are frozen: they stay as they are.",)))
    if not step.plain:  # the optimizer's lines (its state, the epoch's rate, dW with λW)
        O.parameters(B, step)
        return
    for l, (old, new, lt) in enumerate(zip(step.before.layers, step.after.layers, step.trace.layers), start=1):
        if B.style == "matrix":
            if old.train_weights:
                B.eq(N.vec_new("W", l), N.vec("W", l) + Math(r" - \eta ", " - η ") + N.grad_vec("W", l),
                     B.matrix(old.W) + f" - {eta}" + B.matrix(lt.dW), B.matrix(new.W, N.vec_new("W", l)))
            if old.train_biases:
                B.eq(N.vec_new("b", l), N.vec("b", l) + Math(r" - \eta ", " - η ") + N.grad_vec("b", l),
                     B.vector(old.b) + f" - {eta}" + B.vector(lt.db), B.vector(new.b, N.vec_new("b", l)))
            continue
        units, fan_in = old.W.shape
        for i in range(min(units, MAX_UNITS)):
            if old.train_weights:
                for j in range(min(fan_in, MAX_TERMS)):
                    B.eq(N.W(l, i + 1, j + 1, True), N.W(l, i + 1, j + 1) + Math(r" - \eta ", " - η ") + N.dW(l, i + 1, j + 1),
                         B.s(old.W[i, j]) + f" - {eta}(" + B.s(lt.dW[i, j]) + ")",
                         B.result(new.W[i, j], N.W(l, i + 1, j + 1, True)))
            if old.train_biases:
                B.eq(N.b(l, i + 1, True), N.b(l, i + 1) + Math(r" - \eta ", " - η ") + N.db(l, i + 1),
                     B.s(old.b[i]) + f" - {eta}(" + B.s(lt.db[i]) + ")", B.result(new.b[i], N.b(l, i + 1, True)))


def _after(B: Builder, step) -> None:
    again = step.after_trace  # the core's pass with the new parameters
    B.add(Heading("After the update", 3))
    n = len(step.examples)
    for e in range(min(n, MAX_EXAMPLES) if again is not None else 0):
        if n > 1:
            B.add(Paragraph((f"Example {step.examples[e] + 1}:",)))
        for l, lt in enumerate(again.layers, start=1):
            B.eq(_dash(N.vec("z", l)), result=B.vector(lt.z[e]))
            B.eq(_dash(N.vec("a", l)), result=B.vector(lt.a[e]))
    B.eq(Math("L'", "L'"), result=B.result(step.loss_after, Math("L'", "L'")))
    O.penalty_after(B, step)
    before, after = step.loss, step.loss_after
    d = B.decimals + 2  # two more places than the policy, as seed 002 states the change
    while fmt(before, d) == fmt(after, d) and d < B.decimals + 8 and before != after:
        d += 1
    verdict = "fell" if after < before else ("rose" if after > before else "stayed the same")
    B.add(Paragraph((f"The loss on {'this example' if n == 1 else 'these examples'} {verdict}: "
                     f"{fmt(before, d)} before the update, {fmt(after, d)} after.",)))


# -- the fully expanded chain ----------------------------------------------------------------------
_CHAIN = re.compile(r"^\s*([Wb])(\d+)\[(\d+)(?:,\s*(\d+))?\]\s*$")


def parse_chain(spec: str, network) -> tuple[str, int, int, int | None]:
    """``W1[1,2]`` / ``b2[1]`` (1-based) -> ('W', l, i, j); ``w`` / ``b`` for one neuron."""
    if network.sizes == (1, 1) and spec.strip() in ("w", "b"):
        return ("W", 1, 1, 1) if spec.strip() == "w" else ("b", 1, 1, None)
    m = _CHAIN.match(spec)
    if not m or (m.group(1) == "W") != (m.group(4) is not None):
        raise InputError(f"expected a parameter such as W1[1,2] or b2[1] (1-based), got {spec!r}", "chain")
    kind, l, i = m.group(1), int(m.group(2)), int(m.group(3))
    j = int(m.group(4)) if m.group(4) else None
    if not 1 <= l <= len(network.layers):
        raise InputError(f"layer {l} does not exist (the network has {len(network.layers)})", "chain")
    units, fan_in = network.layers[l - 1].W.shape
    if not 1 <= i <= units or (j is not None and not 1 <= j <= fan_in):
        raise InputError(f"{spec.strip()} is outside layer {l}'s W ({units} x {fan_in}) and b ({units})", "chain")
    return kind, l, i, j


def _chain(B: Builder, step, chain: str, slopes) -> None:
    """Each path's factors, their product (the path's value, from the core) and the sum, dW."""
    net, tr = step.before, step.trace
    kind, l, i, j = parse_chain(chain, net)
    target, wrt = (N.dW(l, i, j), N.W(l, i, j)) if kind == "W" else (N.db(l, i), N.b(l, i))
    B.add(Heading(f"The fully expanded chain for {target.text}", 3))
    routes = chain_routes(net, l, i)
    if len(routes) > MAX_CHAIN_PATHS:
        B.add(Note((f"{len(routes)} paths lead from {wrt.text} to the loss; the chain is the sum over "
                    f"them, which the deltas above add up layer by layer.",)))
        return
    B.add(Paragraph((f"Every path from {wrt.text} to the loss, one factor per link; "
                     f"{'the sum over the paths' if len(routes) > 1 else 'their product'} is the gradient.",)))
    n = len(step.examples)
    many = len(routes) > 1 or n > 1  # a sum over paths or examples: each product is one term of it
    total = tr.layers[l - 1].dW[i - 1, j - 1] if kind == "W" else tr.layers[l - 1].db[i - 1]
    terms = []
    for e in range(min(n, MAX_EXAMPLES)):
        if n > 1:
            B.add(Paragraph((f"Example {step.examples[e] + 1}:",)))
        for path in chain_paths(tr, (kind, l, i, j), e):
            _chain_path(B, net, path, (wrt, l), target if not many else None, total)
            terms.append(path.value)
    if many:
        _chain_sum(B, target, terms if n <= MAX_EXAMPLES else [], total)


def _chain_sum(B: Builder, target: Math, terms: list, total) -> None:
    """The gradient as the sum of the path values (each written out when few and none is tiny)."""
    readable = 0 < len(terms) <= MAX_TERMS and not any(is_tiny(v, B.decimals) for v in terms)
    shown = join([B.opnd(v) for v in terms], Math(" + ", " + ")) if readable else None
    B.eq(target, Math(r"\sum_{\text{paths}} \prod \text{factors}", "Σ over the paths of the products"),
         shown, B.result(total, target))


def _chain_path(B: Builder, net, path, start: tuple, single, total) -> None:
    """One path's equation: its route (or, when it is the only term, the gradient's name ``single``
    with the gradient ``total``), its factors by name, by value, and its value (the core's product)."""
    wrt, l = start
    names = [_factor_name(net, q, m, idx) for q, m, idx, _ in path.factors]
    if single is None:
        route = join([wrt] + [N.z(m, u) for m, u in enumerate(path.units, start=l)] + ["L"], Math(r" \to ", " → "))
        lhs, value = Math(r"\text{path } ", "path ") + route, path.value
    else:
        lhs, value = single, total
    B.eq(lhs, join(names, CDOT), join([B.opnd(v) for *_, v in path.factors], CDOT), B.result(value, lhs))


def _factor_name(net, q: str, m: int, idx: tuple) -> Math:
    """The notation of one chain factor (quantity q of layer m at 1-based idx), as the core names it."""
    if q == "W":
        return N.W(m, *idx)
    if q == "fprime":
        return N.prime(net.layers[m - 1].activation, N.z(m, idx[0]))
    return {"delta": N.delta, "dL_da": N.dL_da, "a": N.a}[q](m, idx[0])


# -- the whole document ---------------------------------------------------------------------------------
def build(problem, steps, decimals: int, style: str = "neuron", chain: str | None = None) -> Document:
    """The worked solution of ``steps`` (Step records of ``problem``) as a Document."""
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}; expected one of {', '.join(STYLES)}", "style")
    if chain is not None:
        parse_chain(chain, problem.network)  # refuse a bad chain before any work
    B = Builder(decimals, style)
    _givens(B, problem, steps)
    for k, step in enumerate(steps, start=1):
        _update(B, problem, step, k, len(steps), chain)
    if len(steps) > 1:
        B.add(Heading("Summary", 2))
        rows = tuple((str(k), _which(s.examples), B.num(s.loss), B.num(s.loss_after))
                     for k, s in enumerate(steps, start=1))
        B.add(Table(("update", "examples", "loss before", "loss after"), rows))
        final = steps[-1].after
        for l, lay in enumerate(final.layers, start=1):
            B.eq(_dash(N.vec("W", l)), result=B.matrix(lay.W))
            B.eq(_dash(N.vec("b", l)), result=B.vector(lay.b))
    return Document(problem.name or "worked solution", tuple(B.blocks))

"""Pictures that teach: journals, loss surfaces with descent paths, decision boundaries.

matplotlib only, imported inside the functions (``import deltarule`` stays light).
Functions that take ``ax=None`` draw on the given Axes (or the current pyplot one, as in
Jupyter) and return it; functions that write files build a bare
:class:`matplotlib.figure.Figure` (the Agg renderer, no pyplot state, no display needed)
and write it atomically as PNG or SVG, chosen by the file's extension.

Nothing here computes a model value or trains: journals come from
:func:`deltarule.training.train`, descent paths, loss surfaces and boundary grids from
:mod:`deltarule.landscape`; these functions draw what they are given. Text that came from
a file (a problem's name in a title) is drawn literally (:func:`literal`), never as mathtext.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import numpy as np

FORMATS = ("png", "svg")
SIZE = (7.0, 4.5)  # inches; at DPI 100 a picture is 700 x 450 pixels
TALL = (7.0, 6.5)  # two panels, one above the other
DPI = 100
MAX_PARAMETER_LINES = 40  # more lines than this make no picture, only ink


# -- files ---------------------------------------------------------------------------
def file_format(path: str) -> str:
    """``png`` or ``svg`` from the extension; anything else is an InputError."""
    from .errors import InputError

    ext = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if ext not in FORMATS:
        raise InputError("a picture must be a .png or .svg file", "", str(path))
    return ext


def check_output(path: str) -> str:
    """Refuse, before any training, a picture file that could not be written; its format."""
    import os

    from .errors import InputError

    fmt = file_format(path)
    if not os.path.isdir(os.path.dirname(os.path.abspath(str(path)))):
        raise InputError("cannot write (no such directory)", "", str(path))
    return fmt


def new_figure(size: Sequence[float] = SIZE, ncols: int = 1, nrows: int = 1):
    """A bare Figure (Agg, headless-safe) with its Axes, laid out without overlaps."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=tuple(size), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def save_figure(fig, path: str) -> None:
    """Write ``fig`` to ``path`` whole or not at all (PNG or SVG by extension)."""
    from .errors import InputError
    from .io import atomic_write

    fmt = file_format(path)
    try:
        with atomic_write(path, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=DPI)
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", "", str(path)) from None


def literal(text: str) -> str:
    """``text`` as matplotlib draws it literally (``$`` escaped: no mathtext is parsed from a
    problem's name; control characters shown as escapes). See :func:`formatting.mpl_literal`."""
    from .formatting import mpl_literal

    return mpl_literal(text)


def wrap(title: str, width: int = 70) -> str:
    """A title broken into lines of at most ``width`` characters (long problem names), drawn
    literally (:func:`literal`)."""
    import textwrap

    return literal("\n".join(textwrap.fill(line, width) for line in str(title).splitlines()))


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt  # only here: the caller wants the current figure

        ax = plt.gca()
    return ax


# -- journals ----------------------------------------------------------------------
_PARAMETER = re.compile(r"(w|b|W\d+\[\d+,\d+\]|b\d+\[\d+\])")  # params.names: W1[1,2], b2[1], w, b


def _columns(journal, columns: str | Sequence[str]) -> list[str]:
    # parameters by their names, wherever they stand: metric columns (accuracy, val_loss,
    # learning_rate, ...) follow them in a full journal and come right after loss with --journal-params none
    params = [c for c in journal.columns[2:] if _PARAMETER.fullmatch(c)]
    named = {"loss": ["loss"], "parameters": params, "all": ["loss", *params]}
    cols = named.get(columns) if isinstance(columns, str) else list(columns)
    if cols is None:
        cols = [columns]
    unknown = [c for c in cols if c not in journal.columns]
    if unknown:
        raise KeyError(f"the journal has no column {unknown[0]!r} (columns: {', '.join(journal.columns)})")
    return cols


def plot_journal(journal, ax=None, columns: str | Sequence[str] = "loss", *, logy: bool = False,
                 label: str | None = None, title: str | None = None, **line_kw: Any):
    """Each chosen journal column against the epoch; returns the Axes.

    ``columns`` is ``"loss"``, ``"parameters"``, ``"all"`` or a list of column names
    (``["w", "b", "loss"]`` is seed 000's figure). ``label`` names the run when several
    runs share one Axes (``"stochastic"``, ``"eta = 0.5"``).
    """
    ax = _axes(ax)
    cols = _columns(journal, columns)
    many = len(cols) > 12  # a legend of 40 entries hides the picture
    for c in cols:
        name = literal(c if label is None else (label if len(cols) == 1 else f"{label}: {c}"))
        ax.plot(journal.epochs, journal.rows[:, journal.columns.index(c)],
                marker="o" if len(journal) <= 30 else None, ms=3, lw=1 if many else 1.8,
                label=None if many else name, **line_kw)
    _journal_axes(ax, cols, logy, label, title, many)
    return ax


def _journal_axes(ax, cols: list[str], logy: bool, label: str | None, title: str | None, many: bool) -> None:
    """The frame around :func:`plot_journal`'s lines: log scale, zero line, labels, title, legend, grid."""
    if logy:
        ax.set_yscale("log")
    if any(c != "loss" for c in cols) and not logy:
        ax.axhline(0.0, color="0.6", lw=0.8, zorder=0)  # as the notes draw it: where zero is
    ax.set_xlabel("epoch")
    ax.set_ylabel(literal(cols[0]) if len(cols) == 1 else ("parameter value" if "loss" not in cols else "value"))
    ax.set_title(literal(title if title is not None else
                         ("loss per epoch" if cols == ["loss"] else ", ".join(cols[:6]) + " per epoch")))
    if not many and (len(cols) > 1 or label is not None):
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)


def plot_runs(runs: Mapping[str, Any], ax=None, column: str = "loss", *, logy: bool = False,
              title: str | None = None, beside: str | None = None):
    """Several journals (one per method or learning rate) overlaid, one line each; ``beside``
    (``"val_loss"``): that column too, dashed in the run's colour, for the journals that have it."""
    ax = _axes(ax)
    for k, (label, journal) in enumerate(runs.items()):
        plot_journal(journal, ax, [column], logy=logy, label=label, title="", color=f"C{k}")
        if beside is not None and beside in journal.columns:
            plot_journal(journal, ax, [beside], logy=logy, label=f"{label}: {beside}", title="", color=f"C{k}",
                         ls="--")
    ax.set_ylabel(literal(column) + (" (log scale)" if logy else ""))
    ax.set_title(literal(title if title is not None else f"{column} per epoch"))
    return ax


def journal_figure(runs, columns: str | Sequence[str] | None = None, *, logy: bool = False,
                   title: str = "", size: Sequence[float] | None = None):
    """A whole figure: one journal (loss above, parameters below) or overlaid runs.

    ``runs`` is a Journal or a mapping label -> Journal. With one journal and no
    ``columns`` the figure has two panels, loss and parameters per epoch; overlaid runs draw
    each run's ``val_loss`` dashed beside its loss when the journal has one. ``size``
    defaults to 7 x 4.5 inches for one panel, 7 x 6.5 for two (700 x 650 pixels).
    """
    if not isinstance(runs, Mapping):
        journal = runs
        if columns is None:
            params = _columns(journal, "parameters")
            panels = [["loss"]] + ([params] if 0 < len(params) <= MAX_PARAMETER_LINES else [])
        else:
            panels = [_columns(journal, columns)]
        fig, axes = new_figure(size or (SIZE if len(panels) == 1 else TALL), nrows=len(panels))
        for ax, cols in zip(axes, panels):
            _panel(journal, ax, cols, logy, losses=columns is None)
    else:
        cols = ["loss"] if columns is None else _columns(next(iter(runs.values())), columns)
        fig, axes = new_figure(size or (SIZE if len(cols) == 1 else TALL), nrows=len(cols))
        for ax, c in zip(axes, cols):  # each run's val_loss dashed beside its loss, when it has one
            plot_runs(runs, ax, c, logy=logy and c == "loss", beside="val_loss" if c == "loss" else None)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    if title:
        fig.suptitle(wrap(title, 72))
    return fig


def plot_losses(journal, ax=None, *, logy: bool = False):
    """``loss`` and (with a held-out split) ``val_loss`` per epoch; ``accuracy`` and
    ``val_accuracy`` on a second y axis (0 to 1) when the journal has them. Returns the Axes."""
    ax = _axes(ax)
    losses = [c for c in ("loss", "val_loss") if c in journal.columns]
    plot_journal(journal, ax, losses, logy=logy, title="loss" + (" and accuracy" if "accuracy" in
                                                                 journal.columns else "") + " per epoch")
    ax.set_ylabel("loss" + (" (log scale)" if logy else ""))
    scores = [c for c in ("accuracy", "val_accuracy") if c in journal.columns]
    if not scores:
        return ax
    right = ax.twinx()
    for k, c in enumerate(scores):
        right.plot(journal.epochs, journal.rows[:, journal.columns.index(c)], ls="--", lw=1.5,
                   color=f"C{k + 2}", label=c)
    right.set_ylim(-0.02, 1.02)
    right.set_ylabel("accuracy")
    lines = ax.get_legend_handles_labels(), right.get_legend_handles_labels()
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], fontsize="small", loc="center right")
    return ax


def _panel(journal, ax, cols: list[str], logy: bool, losses: bool) -> None:
    """One panel of :func:`journal_figure`: the losses (and accuracy) panel, or the chosen columns."""
    if losses and cols == ["loss"]:
        plot_losses(journal, ax, logy=logy)
    else:
        plot_journal(journal, ax, cols, logy=logy and cols == ["loss"])


def save_journal_plot(journal, path: str, title: str = "", logy: bool = False) -> None:
    """``train --plot``: loss (and val_loss; accuracy on a second axis) above, parameters below,
    per epoch, to PNG or SVG; ``logy``: the loss on a logarithmic scale."""
    save_figure(journal_figure(journal, logy=logy, title=title or "training journal"), path)


# -- loss surface --------------------------------------------------------------------------
def plot_surface(surface, paths: Mapping[str, np.ndarray], ax=None, *, title: str | None = None,
                 colorbar: bool = True):
    """Contours of the loss over two parameters with each run's descent path on top.

    ``surface`` is a :class:`deltarule.landscape.Surface` (grid ``u``, ``v``, heights
    ``loss`` (len(v), len(u)), ``names``, ``label``) and ``paths`` maps a label (the method)
    to an (updates + 1, 2) array from :func:`deltarule.landscape.descent_path`; both are
    computed by the caller, this only draws them.
    """
    ax = _axes(ax)
    u, v, L, names = surface.u, surface.v, surface.loss, surface.names
    lo, hi = (u[0], v[0]), (u[-1], v[-1])
    levels = np.unique(np.quantile(L, np.linspace(0, 1, 21)))  # detail where the loss is low
    filled = ax.contourf(u, v, L, levels=levels, cmap="Greys", alpha=0.8)  # light = low loss
    ax.contour(u, v, L, levels=levels, colors="0.35", linewidths=0.4, alpha=0.7)
    if colorbar:
        ax.figure.colorbar(filled, ax=ax, label=literal(surface.label), format="%.3g")
    for k, (label, path) in enumerate(paths.items()):  # colours C0, C1, ... as in plot_runs
        z = 3 + len(paths) - k  # the first (often the shortest) path on top
        ax.plot(path[:, 0], path[:, 1], "-o" if len(path) <= 200 else "-", color=f"C{k}", ms=2.5,
                lw=1.6 if len(path) <= 200 else 0.8, zorder=z,
                label=literal(f"{label} ({len(path) - 1} update{'' if len(path) == 2 else 's'})"))
        ax.plot(*path[-1], marker="X", ms=10, color=f"C{k}", mec="black", mew=0.8, zorder=z)
    first = next(iter(paths.values()))[0]
    ax.plot(*first, marker="*", ms=15, color="gold", mec="black", ls="", label="start", zorder=9)
    ax.plot([], [], marker="X", ms=9, color="0.6", mec="black", ls="", label="end")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(literal(names[0]))
    ax.set_ylabel(literal(names[1]))
    ax.set_title(wrap(title if title is not None else f"loss surface over {names[0]} and {names[1]}"))
    ax.legend(fontsize="small", loc="best", framealpha=0.85)
    return ax


# -- decision boundary ------------------------------------------------------------------
def class_labels(y: np.ndarray) -> np.ndarray:
    """Class of each target row: y >= 1/2 for one output, the largest entry for several
    (``losses.decide``: the one class threshold, as the journal's accuracy)."""
    from .losses import decide

    y = np.asarray(y)
    return decide(y, "threshold")[:, 0] if y.shape[1] == 1 else decide(y, "argmax")


def plot_boundary(grid, x, y, ax=None, *, title: str | None = None, colorbar: bool = True):
    """The classes a two-input network predicts over the plane, with the data on top.

    ``grid`` is a :class:`deltarule.landscape.Boundary` (the network's outputs over a grid
    of the plane, computed by the caller). One output unit: the predicted probability of
    class 1 in colour, the 1/2 line in black. Several outputs (softmax): each point
    coloured by the most probable class.
    """
    ax = _axes(ax)
    x = np.asarray(x, dtype=float)
    U, V = np.meshgrid(grid.u, grid.v)
    out = grid.out
    labels = class_labels(y)
    if out.shape[1] == 1:
        P = out[:, 0].reshape(U.shape)
        filled = ax.contourf(U, V, P, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
        ax.contour(U, V, P, levels=[0.5], colors="black", linewidths=1.5)
        ax.plot([], [], color="black", lw=1.5, label="boundary (p = 1/2)")
        if colorbar:
            ax.figure.colorbar(filled, ax=ax, label="predicted probability of class 1")
    else:
        K = out.shape[1]
        C = out.argmax(axis=1).reshape(U.shape)
        ax.contourf(U, V, C, levels=np.arange(K + 1) - 0.5, cmap="tab10", vmin=0, vmax=9, alpha=0.45)
    cmap = "RdBu_r" if out.shape[1] == 1 else "tab10"
    for k in np.unique(labels):
        m = labels == k
        ax.scatter(x[m, 0], x[m, 1], c=[k] * int(m.sum()), cmap=cmap, vmin=0,
                   vmax=1 if out.shape[1] == 1 else 9, edgecolors="black", s=30 if len(x) > 20 else 90,
                   marker="os^vD"[int(k) % 5], label=f"class {k}")
    ax.set_xlabel("x1 (first input)")
    ax.set_ylabel("x2 (second input)")
    ax.set_title(wrap(title) if title is not None else "decision boundary")
    ax.legend(fontsize="small", loc="best", framealpha=0.85)
    return ax

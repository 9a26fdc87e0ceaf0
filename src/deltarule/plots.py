"""Pictures: journal curves (matplotlib, imported where used, Agg backend)."""
from __future__ import annotations


def save_journal_plot(journal, path: str, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import atomic_write

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(journal.epochs, journal.loss, marker="o", ms=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "training loss")
    fmt = "svg" if str(path).lower().endswith(".svg") else "png"
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=fmt, dpi=100)
    plt.close(fig)

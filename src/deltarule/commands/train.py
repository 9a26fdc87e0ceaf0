"""deltarule train PROBLEM: gradient descent with a journal, a plot and a saved model."""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace

from . import nonnegative_int, positive_float, positive_int
from ..errors import ExitStatus
from ..formatting import safe_text

HELP = "train a network: progress on a terminal, a summary at the end, journal/plot/model files"
EXAMPLE = ("  deltarule train seed-000-neuron --epochs 100 --journal run.csv --save model.json\n"
           "  deltarule train mine.yaml --method minibatch --batch-size 2 --shuffle --seed 1\n"
           "  deltarule train mine.yaml --epochs 5000 --checkpoint run.json --journal run.csv\n"
           "  deltarule train mine.yaml --epochs 5000 --resume run.json --journal run.csv   # after Ctrl-C\n"
           "  deltarule train digits --validation 0.25 --backend torch --save digits.json\n"
           "  torchrun --nproc_per_node 2 -m deltarule train digits --backend torch   # data-parallel (DDP)\n"
           "\nexit status: 0 trained; 2 bad input; 3 diverged (NaN or inf: stops at once, names the epoch,\n"
           "the update and the learning rate, keeps the last finite parameters for --save and the journal);\n"
           "130 interrupted by Ctrl-C (the last completed epoch's checkpoint and journal are written)")


def add_arguments(p) -> None:
    from . import add_allow_outside

    add_allow_outside(p)
    p.add_argument("problem", help="a problem file (YAML or JSON) or a built-in example name")
    p.add_argument("--method", choices=("batch", "minibatch", "stochastic"), help="gradient descent method")
    p.add_argument("--batch-size", type=positive_int, help="examples per update (minibatch)")
    p.add_argument("--epochs", type=positive_int, help="passes over the data")
    p.add_argument("--learning-rate", type=positive_float, help="step size eta")
    p.add_argument("--shuffle", action="store_true", default=None, help="shuffle examples each epoch")
    p.add_argument("--seed", type=nonnegative_int, help="seed of the shuffle")
    p.add_argument("--journal", metavar="FILE.csv", help="write the per-epoch journal as CSV")
    p.add_argument("--journal-params", choices=("all", "none"), default="all",
                   help="the journal's parameter columns: all (default, the contract: epoch, loss, parameters, "
                        "then metrics) or none (epoch, loss, then the metrics)")
    p.add_argument("--journal-loss", choices=("epoch", "running", "batch"), default="epoch",
                   help="epoch: loss over all examples at the end of each epoch (default); "
                        "running: each update's loss right after it, averaged over the epoch (seed 000); "
                        "batch: each batch's loss (and accuracy) before its update, from the training "
                        "passes themselves: no extra pass over the data (fastest)")
    p.add_argument("--plot", metavar="FILE.png", help="plot the journal (png or svg): loss and val_loss, "
                                                      "accuracy on a second axis, the parameters below")
    p.add_argument("--logy", action="store_true", help="--plot: the loss on a logarithmic scale")
    p.add_argument("--save", metavar="MODEL.json", help="save the trained model (itself a problem file)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--validation", type=_fraction, metavar="FRACTION",
                   help="hold out this share of the examples (0 < FRACTION < 1; seeded by the file's "
                        "validation.seed or seed) and journal val_loss on them")
    p.add_argument("--backend", choices=("numpy", "torch"), default="numpy",
                   help="numpy (default), or PyTorch: a GPU when present; under torchrun, "
                        "data-parallel over the processes (DistributedDataParallel)")
    p.add_argument("--checkpoint", metavar="FILE.json",
                   help="write a checkpoint (parameters, journal, random state) atomically every --every epochs")
    p.add_argument("--every", type=positive_int, metavar="N",
                   help="epochs between checkpoints and journal rewrites "
                        "(default: after every epoch, but at most once a second)")
    p.add_argument("--resume", metavar="FILE.json",
                   help="continue exactly from a checkpoint (and keep checkpointing to it); "
                        "--epochs counts the epochs in all")


def _fraction(text: str) -> float:
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(v) and 0 < v < 1):
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return v


def schedule_from_args(problem, args):
    """The problem's schedule with command-line overrides applied (and validated)."""
    from ..errors import InputError
    from ..training import Schedule

    s = problem.schedule
    changes = {k: v for k, v in (("method", args.method), ("batch_size", args.batch_size),
                                 ("epochs", args.epochs), ("shuffle", args.shuffle), ("seed", args.seed))
               if v is not None}
    if changes.get("method", s.method) == "minibatch" and not changes.get("batch_size", s.batch_size):
        raise InputError("minibatch needs --batch-size (or training.batch_size in the file)", "--batch-size")
    s = replace(s, **changes)
    return Schedule(s.method, s.batch_size, s.epochs, s.shuffle, s.seed)


def save_model(network, path: str, problem=None) -> None:
    """The model file: the network, and the problem's classes, fitted scaling and column names."""
    from ..errors import InputError
    from ..io import write_text

    doc = network.to_dict() if problem is None else problem.model_dict(network)
    try:
        write_text(path, json.dumps(doc, indent=1) + "\n")
    except OSError as e:
        raise InputError(f"cannot write ({e.strerror})", "", path) from None


def run(args) -> int:
    from ..checkpoint import ResumeError, Saver
    from ..errors import InputError
    from ..training import Diverged, Interrupted

    problem = _load(args)
    start = None
    if args.resume:  # the checkpoint's schedule and learning rate, unless the command line says otherwise
        from ..checkpoint_load import load_checkpoint

        start = load_checkpoint(args.resume)
        problem = replace(problem, schedule=start.schedule, learning_rate=start.learning_rate)
        args.journal_loss = start.journal.loss_mode
    lr = args.learning_rate or problem.require("learning_rate").learning_rate
    _scale_warning(problem)
    schedule = schedule_from_args(problem, args)
    problem, options = _backend(problem, args)
    if args.backend == "torch":  # after _backend's refusals: a refused run gets its one line only
        _torch_hint(problem.network)
    saver = _saver(args, schedule)
    rank = int(os.environ.get("RANK", "0"))  # under torchrun only rank 0 shows and writes
    show = not args.quiet and sys.stderr.isatty() and rank == 0
    t0 = time.perf_counter()
    try:
        with _progress(schedule.epochs, show) as callback:
            if args.backend == "torch":
                result = problem.train(schedule, lr, journal_loss=args.journal_loss, callback=callback, **options)
            else:
                result = problem.train(schedule, lr, journal_loss=args.journal_loss, callback=callback,
                                       start=start, on_epoch=saver)
    except ResumeError as e:
        raise InputError(str(e), "", args.resume) from None
    except Interrupted as e:
        return _interrupted(e.checkpoint, saver or Saver(None, args.journal, 1, 0), schedule)
    except Diverged as e:
        return _diverged(e, args, problem)
    if rank != 0:
        return ExitStatus.OK
    _finish(result, problem, schedule, lr, time.perf_counter() - t0, args)
    return ExitStatus.OK


def _finish(result, problem, schedule, lr: float, elapsed: float, args) -> None:
    """The journal, model and plot files, then the summary on stdout."""
    if args.journal:
        _journal(result.journal, args).to_csv(args.journal)
    if args.save:
        save_model(result.network, args.save, problem)
    if args.plot:
        from ..plots import save_journal_plot

        save_journal_plot(result.journal, args.plot, title=problem.name, logy=args.logy)
    if not args.quiet:
        kept = _kept_row(result)  # restore_best: the summary's "after" is the epoch whose parameters were kept
        first, last = result.journal.loss[0], result.journal.loss[kept]
        from .compare import optimizer_text

        ran = len(result.journal) - 1  # early stopping: the epochs run, of those asked
        rule = "" if problem.optimization.plain else f", {optimizer_text(problem)}"
        print(f"{safe_text(problem.name)}: {_method(problem.name, schedule.method)}"
              f"{schedule.epochs if ran >= schedule.epochs else f'{ran} of {schedule.epochs}'} epochs, "
              f"{result.updates} updates, learning rate {lr:g}{rule}, {elapsed:.3g} s")
        after = "" if result.kept_epoch is None else f" (epoch {result.kept_epoch}, kept)"
        print(f"loss ({problem.network.loss.name}, {problem.network.reduction}): {first:.6g} -> {last:.6g}{after}")
        for line in _metric_lines(result.journal, problem, kept):
            print(line)
        if result.stopped:
            print(result.stopped)
        from .evaluate import summary_lines  # macro P/R/F1 or MSE/MAE/R², on which data (issue 17.3)

        for line in summary_lines(result.network, problem):
            print(line)


def _diverged(e, args, problem=None) -> int:
    """Divergence: keep the last finite parameters (--save) and the completed epochs (--journal),
    then say so in one line; when one of them cannot be written, that line says both (exit 2)."""
    from ..checkpoint import write_journal
    from ..errors import InputError

    try:
        if args.save:
            save_model(e.network, args.save, problem)
        if args.journal:
            write_journal(_journal(e.journal, args), args.journal)
    except InputError as failed:
        raise InputError(f"{failed.message}: training diverged at epoch {e.epoch}, update {e.update} "
                         f"(learning rate {e.learning_rate:g}: {e.reason}) and its last finite parameters "
                         f"are not saved", failed.field, failed.file) from None
    print(f"deltarule train: {e}", file=sys.stderr)
    return ExitStatus.DIVERGED


def _journal(journal, args):
    """The journal as --journal-params asks: every parameter column, or none of them."""
    return journal.without_parameters() if getattr(args, "journal_params", "all") == "none" else journal


def _method(name: str, method: str) -> str:
    """``stochastic, `` for the summary, unless the name already says "stochastic gradient descent"."""
    return "" if f"{method} gradient descent" in name.lower() else f"{method}, "


SMALL_FOR_TORCH = 100_000  # parameters: below this PyTorch's per-step overhead dominates the arithmetic


def _torch_hint(network) -> None:
    """One stderr note: a small network trains faster on the numpy backend than on PyTorch."""
    n = len(network.parameters())
    if n < SMALL_FOR_TORCH:
        print(f"deltarule train: note: {n:,} parameters is small for PyTorch (each step's overhead outweighs "
              f"the arithmetic; measured 10-25x slower than --backend numpy on networks this size)", file=sys.stderr)


def _scale_warning(problem) -> None:
    """One stderr line when the inputs' scales differ by more than 100x and nothing scales them."""
    from ..preprocess import spread_warning

    warning = None if problem.scaler is not None else \
        spread_warning(problem.x, (problem.columns or {}).get("inputs"))
    if warning:
        print(f"deltarule train: warning: {warning}", file=sys.stderr)


def _load(args):
    """The problem, --validation read into it before parsing: preprocess is fitted on the training part
    of the run's own split. A split the data cannot make is refused naming the option."""
    from ..errors import InputError
    from ..problem import load_problem

    try:
        return load_problem(args.problem, allow_outside=args.allow_outside,
                            validation=args.validation).require("data")
    except InputError as e:
        if args.validation is not None and e.field.startswith("validation"):
            raise InputError(e.message, "--validation") from None
        raise


def _backend(problem, args):
    """The problem with --validation applied, and the torch backend's options (checked here)."""
    from ..errors import InputError

    if args.validation is not None:
        if len(problem.x) < 2:
            raise InputError(f"a held-out split needs at least 2 examples, the data has {len(problem.x)}",
                             "--validation")
        seed = problem.validation[1] if problem.validation else problem.seed
        problem = replace(problem, validation=(args.validation, seed))
    if args.backend != "torch":
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # every process would train alone and write
            raise InputError("under torchrun, data-parallel training needs --backend torch", "--backend")
        return problem, {}
    for flag in ("checkpoint", "resume", "every"):
        if getattr(args, flag):
            raise InputError(f"--{flag} works with the numpy backend only", "--backend")
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError:
        raise InputError("needs PyTorch: pip install torch==2.13.0", "--backend torch") from None
    if getattr(problem.optimization.optimizer, "sklearn", False):  # Adam's ε where scikit-learn puts it
        raise InputError("sklearn has no torch.optim twin (PyTorch puts ε against the corrected √ŝ); "
                         "use --backend numpy", "optimizer.eps_placement", str(args.problem))
    return problem, {"backend": "torch"}


def _kept_row(result) -> int:
    """The journal row of the parameters training returned: the last, or the best epoch's."""
    if result.kept_epoch is None:
        return -1
    return list(result.journal.epochs).index(result.kept_epoch)


def _metric_lines(journal, problem, kept: int = -1) -> list[str]:
    """accuracy (classifiers) and the held-out loss/accuracy, first -> the returned parameters' epoch."""
    cols, lines = journal.columns, []
    first, last = journal.rows[0], journal.rows[kept]

    def change(name: str, fmt: str) -> str:
        i = cols.index(name)
        return f"{first[i]:{fmt}} -> {last[i]:{fmt}}"

    if "accuracy" in cols:
        lines.append(f"accuracy: {change('accuracy', '.2%')}")
    if "val_loss" in cols:
        n_val = len(problem.split()[2])
        held = f"held out ({n_val} examples): loss {change('val_loss', '.6g')}"
        lines.append(held + (f", accuracy {change('val_accuracy', '.2%')}" if "val_accuracy" in cols else ""))
    return lines


def _saver(args, schedule):
    """Checkpoints (--checkpoint, or the --resume file) and journal rewrites every --every epochs."""
    from ..checkpoint import Saver

    path = args.checkpoint or args.resume
    if not (path or args.every):
        return None
    return Saver(path, args.journal, args.every or 1, schedule.epochs, 0.0 if args.every else 1.0)


def _interrupted(checkpoint, saver, schedule) -> int:
    """Ctrl-C: write the last completed epoch's checkpoint and journal, say so in one line."""
    from ..checkpoint import save_on_interrupt

    done = f"interrupted after epoch {checkpoint.epoch} of {schedule.epochs}"
    save_on_interrupt(saver, checkpoint)
    if saver.path:
        print(f"deltarule train: {done}; checkpoint saved to {saver.path} (continue with --resume {saver.path})",
              file=sys.stderr)
    else:
        print(f"deltarule train: {done}; no checkpoint written (use --checkpoint FILE to keep progress)",
              file=sys.stderr)
    return ExitStatus.INTERRUPTED


class _progress:
    """A rich progress bar with the running loss on a terminal; nothing in a pipe."""

    def __init__(self, epochs: int, show: bool):
        self.epochs, self.show, self.bar = epochs, show, None

    def __enter__(self):
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        # on stderr (the terminal we checked): stdout stays clean for the summary, even in a pipe
        self.bar = Progress(TextColumn("epoch {task.completed}/{task.total}"), BarColumn(),
                            TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(), transient=True,
                            console=Console(stderr=True))
        self.bar.__enter__()
        task = self.bar.add_task("train", total=self.epochs, loss="…")
        last = [0.0]

        def callback(epoch: int, loss: float) -> None:
            now = time.perf_counter()
            if now - last[0] > 0.1 or epoch == self.epochs:  # redraw at most ten times a second
                last[0] = now
                self.bar.update(task, completed=epoch, loss=f"{loss:.6g}")

        return callback

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False

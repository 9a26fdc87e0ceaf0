"""The documentation a user reads in Python and on the command line is there, and true.

* Every public module, and every public function and class in it (with their public
  methods and properties), has a docstring: ``help(dr.train)`` in a notebook always answers.
* The main entry points show a short example (``>>>``), and every ``>>>`` example in the
  public modules runs and prints what it says (doctest), so the examples cannot drift.
* ``deltarule COMMAND --help`` shows an example for every command, and every example line
  is a command line the parser accepts.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import shlex

import pytest

import deltarule
from deltarule import cli

# The public modules: what CONTRIBUTING's map and DESIGN name for users. Not here: the
# compiled and buffered engines (fast, _scalar), the renderers' internals (explain.build,
# .document, .notation, .rounding, .text, .markdown, .latex, .html), the command modules
# (their protocol is HELP/EXAMPLE/add_arguments/run, checked through --help below).
PUBLIC_MODULES = [
    "deltarule", "deltarule.activations", "deltarule.losses", "deltarule.network", "deltarule.trace",
    "deltarule.training", "deltarule.problem", "deltarule.data", "deltarule.loader", "deltarule.errors",
    "deltarule.io", "deltarule.explain", "deltarule.check", "deltarule.plots", "deltarule.diagram",
    "deltarule.gradcheck", "deltarule.metrics", "deltarule.checkpoint", "deltarule.torch_bridge",
    "deltarule.examples", "deltarule.cli", "deltarule.solution", "deltarule.landscape",
]

# What a user meets first: each of these shows a short example in its docstring.
WITH_EXAMPLES = [
    "Layer", "Network", "Trace", "Step", "Schedule", "Journal", "train", "steps", "load_problem",
    "parse_problem", "solve", "check", "gradcheck", "InputError",
]


def _own(module, obj) -> bool:
    return getattr(obj, "__module__", None) == module.__name__


def _public_objects():
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr, obj in sorted(vars(module).items()):
            if attr.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if _own(module, obj):
                yield f"{name}.{attr}", obj


def _members(cls):
    """Public methods and properties defined in the class itself (not inherited, not generated)."""
    for attr, member in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(member, property):
            yield attr, member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            yield attr, member.__func__
        elif inspect.isfunction(member):
            yield attr, member


def _documented(obj) -> bool:
    doc = obj.__doc__ or ""
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):  # the dataclass's generated signature
        return False
    return bool(doc.strip())


def test_the_public_modules_exist():
    # a module renamed or removed must be taken out of the list above, not silently skipped
    for name in PUBLIC_MODULES:
        assert importlib.import_module(name).__doc__, f"{name} has no module docstring"


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for qualname, obj in _public_objects():
        if not _documented(obj):
            missing.append(qualname)
        if inspect.isclass(obj):
            missing += [f"{qualname}.{attr}" for attr, fn in _members(obj) if not (fn.__doc__ or "").strip()]
    assert not missing, "no docstring: " + ", ".join(missing)


def test_everything_deltarule_exports_is_documented():
    for name in deltarule.__all__:
        obj = getattr(deltarule, name)
        if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj):
            assert _documented(obj), f"deltarule.{name} has no docstring"


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_the_entry_points_show_an_example(name):
    assert ">>>" in getattr(deltarule, name).__doc__, f"deltarule.{name}'s docstring has no example"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) in {name} fail (see the output above)"


# -- the command line's help ---------------------------------------------------------------------
def _subparsers():
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return parser, action.choices


def test_every_command_is_on_the_command_line():
    _, choices = _subparsers()
    assert sorted(choices) == sorted(cli.COMMANDS)


def _command_lines(example: str) -> list[list[str]]:
    """The deltarule command lines of an EXAMPLE (argv after ``deltarule``), without comments
    and shell redirections; prose lines are skipped. ``python -m deltarule`` and
    ``torchrun ... -m deltarule`` count as ``deltarule``."""
    out = []
    for line in example.splitlines():
        if "deltarule" not in line.split():
            continue  # prose (which may hold a lone apostrophe)
        words = shlex.split(line, comments=True)
        if "deltarule" not in words[:1] and not any(a == "-m" and b == "deltarule" for a, b in zip(words, words[1:])):
            continue
        argv = words[words.index("deltarule") + 1:]
        for stop in (">", ">>", "|", "2>", "&&", ";"):
            if stop in argv:
                argv = argv[:argv.index(stop)]
        out.append(argv)
    return out


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_help_shows_an_example_the_parser_accepts(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "example:" in out
    module = importlib.import_module(f"deltarule.commands.{command}")
    assert module.EXAMPLE.strip() in out and module.HELP in out
    lines = _command_lines(module.EXAMPLE)
    assert any(argv[:1] == [command] for argv in lines), f"no 'deltarule {command} ...' line in its example"
    parser, _ = _subparsers()
    for argv in lines:
        args = parser.parse_args(argv)  # raises UsageError on an unknown option or a bad value
        assert callable(args.run), argv

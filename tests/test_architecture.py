"""The layers of CONTRIBUTING.md as tests: an ast walk over every module of src/deltarule.

Imports are read wherever they stand, lazy imports inside functions INCLUDED; imports under
``if TYPE_CHECKING:`` are left out (they never run). Rules:

(a) the core (activations, losses, network, trace) and the neutral leaves (errors, formatting,
    params) import nothing of the package above them, and no torch/pandas/matplotlib/rich/yaml/numba;
(b) renderers (explain/*, diagram, plots) import no training, engine (fast, _scalar), problem or
    data module;
(c) no import cycles between modules;
(d) outside activations.py / losses.py no module calls np.tanh / math.tanh, compares with an
    activation's or a loss's name, or writes the leaky slope 0.01;
(e) no function above cyclomatic complexity 15 as radon counts it, no module over 600 lines;
(f) the checker (check/) imports no rich and no HTML rendering.

Each rule has ONE allowlist of today's violations, being fixed by their owners. A new violation
fails; so does an entry that no longer is one (take it out: the lists only shrink).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import require_module

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "deltarule"

CORE = {"deltarule.activations", "deltarule.losses", "deltarule.network", "deltarule.trace"}
LEAVES = {"deltarule.errors", "deltarule.formatting", "deltarule.params"}
HEAVY = {"torch", "pandas", "matplotlib", "rich", "yaml", "numba"}
RENDERERS = ("deltarule.explain", "deltarule.diagram", "deltarule.plots")
NOT_FOR_RENDERERS = ("deltarule.training", "deltarule.fast", "deltarule._scalar", "deltarule.problem",
                     "deltarule.data")
FORMULA_HOMES = ("deltarule.activations", "deltarule.losses")
FORMULA_NAMES = {"tanh", "sigmoid", "leaky_relu", "relu", "softmax", "sse", "half_sse", "mse", "half_mse",
                 "bce", "cross_entropy"}
MAX_COMPLEXITY = 15
MAX_LINES = 600

# -- today's violations, one list per rule (module or module:function names); they only shrink --
ALLOWED = {
    # (a) core or leaf module -> what it imports that it must not
    "core": set(),
    # (b) renderer -> training / engine / problem / data module it imports
    "renderers": set(),
    # (c) modules on an import cycle
    "cycles": set(),
    # (d) "module: what" - a formula's name compared, a tanh computed, the leaky slope written
    "formulas": set(),
    # (e) module:function above complexity 15 (radon), module over 600 lines
    "complexity": {
        # the compiled loop (a closure over its cache key): kept whole on purpose. Split into inlined
        # numba templates (_batch, _descend, _data_loss) it gave the same bits but ran W1 at 8.4M
        # updates/s against 9.6-9.9M whole (benchmarks/run.py --only W1,W2, same session, 2026-12-01)
        "deltarule._scalar:_make_run.run",
    },
    "lines": set(),
    # (f) check/ module -> the rendering it imports
    "checker": {
        "deltarule.check.report -> deltarule.explain.check_report",  # Report.to_text/to_html delegate
    },
}


# -- reading the package ---------------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=None)
def modules() -> dict[str, tuple[Path, ast.Module]]:
    """{dotted name: (file, tree)} for every module of src/deltarule."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        out[_module_name(path)] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nodes(tree: ast.AST):
    """Every node, lazy ones in functions included, except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = modules()[module][0].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@lru_cache(maxsize=None)
def imports(module: str) -> frozenset[str]:
    """What ``module`` imports: package modules by dotted name, other packages by top-level name.

    ``from X import y`` imports the module X.y when there is one, else X."""
    found = set()
    for node in _nodes(modules()[module][1]):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base)
    return frozenset(n if n.startswith("deltarule") else n.split(".")[0] for n in found)


def _within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _check(rule: str, found: set[str]) -> None:
    """Fail on a violation not in the allowlist, and on an allowlist entry no longer violated."""
    new = sorted(found - ALLOWED[rule])
    stale = sorted(ALLOWED[rule] - found)
    assert not new, f"new {rule} violations: {new}"
    assert not stale, f"fixed, take them out of ALLOWED[{rule!r}] in tests/test_architecture.py: {stale}"


def test_the_walk_sees_the_package_and_lazy_imports_but_not_type_checking_ones():
    names = set(modules())
    assert CORE | LEAVES <= names and len(names) > 30
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\nelse:\n    import yaml\n"
                     "def f():\n    import rich\n    if typing.TYPE_CHECKING:\n        import pandas\n")
    seen = {a.name for n in _nodes(tree) if isinstance(n, ast.Import) for a in n.names}
    assert seen == {"yaml", "rich"}


def test_an_allowlist_fails_on_a_new_violation_and_on_a_fixed_one(monkeypatch):
    monkeypatch.setitem(ALLOWED, "lines", {"deltarule.fast"})
    _check("lines", {"deltarule.fast"})
    with pytest.raises(AssertionError, match="new lines violations"):
        _check("lines", {"deltarule.fast", "deltarule.cli"})
    with pytest.raises(AssertionError, match="take them out"):
        _check("lines", set())


# -- (a) the core ----------------------------------------------------------------------------------
def found_core() -> set[str]:
    return {f"{m} -> {name}" for m in sorted(CORE | LEAVES) for name in imports(m)
            if (name.startswith("deltarule") and name not in CORE | LEAVES) or name in HEAVY}


def test_the_core_imports_nothing_above_it():
    _check("core", found_core())


# -- (b) renderers ---------------------------------------------------------------------------------
def found_renderers() -> set[str]:
    return {f"{m} -> {name}" for m in modules() if _within(m, RENDERERS)
            for name in imports(m) if _within(name, NOT_FOR_RENDERERS) or name == "deltarule"}


def test_renderers_import_no_training_engine_problem_or_data():
    _check("renderers", found_renderers())


# -- (c) cycles ------------------------------------------------------------------------------------
def _graph() -> dict[str, set[str]]:
    return {m: {n for n in imports(m) if n in modules() and n != m} for m in modules()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as one cycle."""
    index, low, on, stack, comps = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def _one_cycle(graph, comp: list[str], start: str | None = None) -> list[str]:
    """A path start -> ... -> start inside a component (breadth first back to the start)."""
    start, inside = start or comp[0], set(comp)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & inside):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return comp


def test_the_cycle_finder_finds_a_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(g) == [["a", "b", "c"]] and _one_cycle(g, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def found_cycles() -> set[str]:
    return {m for comp in _cycles(_graph()) for m in comp}


def test_no_import_cycles():
    graph = _graph()
    comps = _cycles(graph)
    found = found_cycles()
    new = found - ALLOWED["cycles"]
    assert not new, "import cycles: " + "; ".join(" -> ".join(_one_cycle(graph, c, min(set(c) & new)))
                                                   for c in comps if set(c) & new)
    _check("cycles", found)


# -- (d) one place per formula ---------------------------------------------------------------------
def _named_defaults(tree: ast.AST) -> set[int]:
    """The constants that are a class field's named default (``weight_decay: float = 0.01``)."""
    return {id(stmt.value) for cls in _nodes(tree) if isinstance(cls, ast.ClassDef) for stmt in cls.body
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.value, ast.Constant)}


def _formula_uses(tree: ast.AST, named_defaults: bool = False) -> set[str]:
    """What the formula rule flags. ``named_defaults``: a 0.01 that is a class field's default is
    allowed (the optimizer registry's settings, e.g. AdamW's weight_decay, are named where they
    are written; the rule is after the leaky slope written a second time in a formula)."""
    found, allowed = set(), _named_defaults(tree) if named_defaults else set()
    for node in _nodes(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "tanh" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy", "math"):
            found.add(f"{node.func.value.id}.tanh")
        elif isinstance(node, ast.ImportFrom) and node.module in ("math", "numpy") \
                and any(a.name == "tanh" for a in node.names):
            found.add(f"{node.module}.tanh")
        elif isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                found.update(repr(e.value) for e in items
                             if isinstance(e, ast.Constant) and e.value in FORMULA_NAMES)
        elif isinstance(node, ast.MatchValue) and isinstance(node.value, ast.Constant) \
                and node.value.value in FORMULA_NAMES:
            found.add(repr(node.value.value))
        elif isinstance(node, ast.Constant) and type(node.value) is float and node.value == 0.01 \
                and id(node) not in allowed:
            found.add("0.01")
    return found


def test_the_formula_walk_sees_what_it_looks_for():
    tree = ast.parse("import math\nfrom numpy import tanh\ndef f(a, z):\n"
                     "    if a.name in ('relu', 'x') or a == 'bce': return math.tanh(z) * 0.01\n")
    assert _formula_uses(tree) == {"math.tanh", "numpy.tanh", "'relu'", "'bce'", "0.01"}


def test_named_optimizer_defaults_may_be_0_01_but_formulas_may_not():
    field = ast.parse("class AdamW:\n    weight_decay: float = 0.01\n")
    assert _formula_uses(field, named_defaults=True) == set() and _formula_uses(field) == {"0.01"}
    for code in ("class A:\n    def f(self, z):\n        return z * 0.01\n",   # a slope in a method
                 "class A:\n    slope = 0.01\n",                              # not a typed field
                 "SLOPE: float = 0.01\n"):                                   # not in a class
        assert _formula_uses(ast.parse(code), named_defaults=True) == {"0.01"}, code
    assert _formula_uses(modules()["deltarule.optimizers"][1], named_defaults=True) == set()
    assert "weight_decay: float = 0.01" in modules()["deltarule.optimizers"][0].read_text(encoding="utf-8")


def found_formulas() -> set[str]:
    return {f"{m}: {use}" for m, (_, tree) in modules().items() if not _within(m, FORMULA_HOMES)
            for use in _formula_uses(tree, named_defaults=m == "deltarule.optimizers")}


def test_formulas_live_in_activations_and_losses_only():
    _check("formulas", found_formulas())


# -- (e) size --------------------------------------------------------------------------------------
def _functions(blocks, prefix=""):
    """(name, complexity) of every function; cc_visit lists methods beside their class already."""
    for b in blocks:
        if hasattr(b, "methods"):  # a class (its complexity is its methods')
            continue
        name = prefix + (b.fullname if not prefix else b.name)
        yield name, b.complexity
        yield from _functions(b.closures, name + ".")


def found_complexity() -> set[str]:
    from radon.complexity import cc_visit

    return {f"{m}:{name}" for m, (path, _) in modules().items()
            for name, complexity in _functions(cc_visit(path.read_text(encoding="utf-8")))
            if complexity > MAX_COMPLEXITY}


def test_no_function_above_complexity_15():
    require_module("radon.complexity")
    _check("complexity", found_complexity())


def found_lines() -> set[str]:
    return {m for m, (path, _) in modules().items()
            if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES}


def test_no_module_over_600_lines():
    _check("lines", found_lines())


# -- (f) the checker returns data ------------------------------------------------------------------
def found_checker() -> set[str]:
    return {f"{m} -> {name}" for m in modules() if _within(m, ("deltarule.check",))
            for name in imports(m) if name in ("rich", "html") or _within(name, RENDERERS) or name == "deltarule"}


def test_the_checker_imports_no_rendering():
    _check("checker", found_checker())


def test_ruff_passes():
    # .ci/run lints before the tests; here too, so a suite run before landing sees what CI will
    require_module("ruff")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests"], cwd=SRC.parent,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


def test_tests_skip_only_through_conftest():
    # under DELTARULE_STRICT (CI) a missing tool or package must fail: conftest.require_tool and
    # require_module do that; a bare importorskip, skip or skipif would pass CI by skipping
    found = []
    for path in sorted(Path(__file__).resolve().parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("importorskip", "skip", "skipif") and "sys.platform" not in ast.unparse(node):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert found == [], found


@pytest.mark.parametrize("rule", sorted(ALLOWED))
def test_every_allowlist_entry_is_a_module_or_function_of_the_package(rule):
    for entry in ALLOWED[rule]:
        assert entry.split(" ")[0].split(":")[0] in modules(), entry


if __name__ == "__main__":  # `python tests/test_architecture.py`: today's violations, rule by rule
    for rule in ALLOWED:
        found = globals()[f"found_{rule}"]()
        print(f"{rule}: {len(found)}  (new: {sorted(found - ALLOWED[rule])}, fixed: {sorted(ALLOWED[rule] - found)})")
        for entry in sorted(found):
            print(f"    {entry!r},")

"""Worked solutions: golden renders, the four formats from the CLI and the API, escaping,
the rounding policy, the diagram, and the LaTeX / HTML outputs in real pdflatex / Chromium."""
import dataclasses
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import deltarule as dr
from deltarule.cli import main
from deltarule.diagram import network_svg
from deltarule.explain import html as H
from deltarule.formatting import fmt, is_tiny, sci

from conftest import require_tool

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))
import regen  # noqa: E402  (tests/golden/regen.py: the golden cases)

HOSTILE = "<script>alert(1)</script> $\\input{/etc/passwd}$ & # _ % ~ ^ \\ {} | *x* [a](javascript:x)"

# A problem touching the other activations and losses (tanh, relu, softmax + cross-entropy).
SOFTMAX = {
    "name": HOSTILE, "description": "</aside><img src=x onerror=alert(1)> ``` \\end{document}",
    "layers": [{"weights": [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], "biases": [0.0, 0.1, -0.1], "activation": "tanh"},
               {"weights": [[0.2, -0.3, 0.1], [0.0, 0.5, -0.4]], "biases": [0.05, -0.05], "activation": "relu"},
               {"weights": [[0.3, -0.1], [-0.2, 0.4]], "biases": [0.0, 0.0], "activation": "softmax"}],
    "loss": "cross_entropy", "data": {"inputs": [[1.0, -2.0], [0.5, 0.25]], "targets": [[1, 0], [0, 1]]},
    "learning_rate": 0.5, "decimals": 3,
}
BCE = {"name": "bce", "layers": [{"weights": [[0.3, -0.1]], "biases": [0.2], "activation": "sigmoid"}],
       "loss": "bce", "reduction": "sum", "data": {"inputs": [[1.0, 2.0]], "targets": [[1.0]]}, "learning_rate": 1.0}
HALF_MSE_IDENTITY = {"name": "mse", "layers": [{"weights": [[1.0], [2.0]], "biases": [0.0, 0.5], "activation": "identity"}],
                     "loss": "half_mse", "data": {"inputs": [[1.0]], "targets": [[0.5, 2.0]]}, "learning_rate": 0.1}


def problem(doc):
    return dr.parse_problem(doc, "test.yaml")


# -- golden renders --------------------------------------------------------------------------------
def test_golden_renders_are_current():
    # regenerate with `python tests/golden/regen.py` and read the diff
    for name, text in regen.renders().items():
        assert (GOLDEN / name).read_text(encoding="utf-8") == text, f"{name} changed; run tests/golden/regen.py"


# The golden files are the ones regen.py names; the tests read those and nothing else from the
# folder (importing regen writes tests/golden/__pycache__ in an ordinary shell, and that is no render).
GOLDEN_FILES = sorted(stem + ext for stem, _, _ in regen.CASES for ext in regen.FORMATS.values()) + \
    sorted(stem + ".tex" for stem in regen.LATEX)


def test_the_golden_folder_holds_exactly_the_named_renders():
    on_disk = sorted(p.name for p in GOLDEN.iterdir() if p.suffix in (".txt", ".md", ".tex"))
    assert len(GOLDEN_FILES) == 2 * len(regen.CASES) + len(regen.LATEX) > 0 and on_disk == sorted(GOLDEN_FILES)  # none stale, none missing


def test_text_fits_80_columns():
    texts = [name for name in GOLDEN_FILES if name.endswith(".txt")]
    assert len(texts) == len(regen.CASES) > 0
    for name in texts:
        for line in (GOLDEN / name).read_text(encoding="utf-8").splitlines():
            assert len(line) <= 80, f"{name}: {line}"


def test_no_negative_zero_anywhere():
    for name in GOLDEN_FILES:
        assert not re.search(r"-0\.0*(?![0-9])", (GOLDEN / name).read_text(encoding="utf-8")), name


def test_policy_and_convention_are_at_the_top():
    text = (GOLDEN / "seed-002.txt").read_text(encoding="utf-8")
    head = text[:text.index("Update 1")]
    assert "Loss (half_sse, half the sum of squared errors over the outputs): L = 1/2 Σ_k" in head.replace("\n", " ")
    assert "rounded to 3 decimals" in head.replace("\n", " ")


# -- the rounding policy ---------------------------------------------------------------------------
def test_rounding_policy():
    assert fmt(0.25 * 0.05 + 0.30 * 0.10 + 0.35, 3) == "0.393"  # 0.39249999999999996 in binary
    assert fmt(-0.0004, 3) == "0.000" and fmt(-0.0, 2) == "0.00"
    assert fmt(-0.0005, 3) == "-0.001" and fmt(2.5, 0) == "3"
    assert is_tiny(2.27e-4, 3) and not is_tiny(0.0, 3) and not is_tiny(5e-4, 3)
    assert sci(2.2656e-4) == (r"2.27 \times 10^{-4}", "2.27 × 10^-4")


# -- the API and Jupyter ---------------------------------------------------------------------------
def test_api_solution_renders_every_format_and_displays_in_jupyter():
    sol = dr.solve("seed-002", style="matrix", decimals=4)
    assert sol.to_markdown() == sol._repr_markdown_()
    frag = sol._repr_html_()
    assert frag.startswith('<div class="deltarule">') and "<html" not in frag and "<math" in frag
    assert sol.to_latex().startswith("\\documentclass") and sol.to_html().startswith("<!DOCTYPE html>")
    assert "z1 = W1 x + b1" in str(sol) and "[0.3775; 0.3925]" in str(sol)
    with pytest.raises(dr.InputError):
        dr.solve("seed-002", style="tensor")
    with pytest.raises(dr.InputError):
        dr.solve("seed-002").render("pdf")


@pytest.mark.parametrize("doc", [SOFTMAX, BCE, HALF_MSE_IDENTITY], ids=["softmax", "bce", "half_mse"])
@pytest.mark.parametrize("style", ["neuron", "matrix"])
def test_other_activations_and_losses_render(doc, style):
    p = problem(doc)
    sol = dr.solve(p, steps=2, style=style, chain="W1[1,1]")
    text = sol.to_text()
    step = p.steps(1)[0]
    assert fmt(step.loss, 3) in text and fmt(step.loss_after, 3) in text
    for fmt_ in ("markdown", "latex", "html"):
        assert sol.render(fmt_)
    if doc is BCE:
        assert "δ1[1] = ŷ[1] - y[1] = 0.574 - 1.000 = -0.426" in text or style == "matrix"


def test_half_mse_remark_explains_the_factor():
    text = dr.solve(problem(HALF_MSE_IDENTITY)).to_text().replace("\n", " ")
    assert "carries the factor 1/K = 1/2" in text


# -- the command line ------------------------------------------------------------------------------
def test_cli_text_in_a_pipe_is_the_plain_rendering(capsys):
    assert main(["solve", "seed-002", "--chain", "W1[1,1]"]) == 0
    out = capsys.readouterr().out
    assert out == (GOLDEN / "seed-002.txt").read_text(encoding="utf-8")
    assert "\x1b[" not in out


def test_cli_formats_and_styles_to_files(tmp_path):
    for fmt_, ext in (("markdown", "md"), ("latex", "tex"), ("html", "html"), ("text", "txt")):
        out = tmp_path / f"s.{ext}"
        assert main(["solve", "seed-003", "--style", "matrix", "--format", fmt_, "-o", str(out)]) == 0
        assert "0.41" in out.read_text(encoding="utf-8")
    assert (tmp_path / "s.md").read_text(encoding="utf-8") == (GOLDEN / "seed-003.md").read_text(encoding="utf-8")


def test_cli_json_is_unchanged_by_style_and_chain(capsys):
    main(["solve", "seed-002", "--format", "json"])
    plain = capsys.readouterr().out
    main(["solve", "seed-002", "--format", "json", "--style", "matrix", "--decimals", "1"])
    assert capsys.readouterr().out == plain


@pytest.mark.parametrize("args,field", [
    (["--chain", "W3[1,1]"], "--chain: layer 3 does not exist"),
    (["--chain", "W1[3,1]"], "--chain: W1[3,1] is outside layer 1's W (2 x 2)"),
    (["--chain", "W1[1]"], "--chain: expected a parameter such as W1[1,2]"),
    (["--style", "tensor"], "invalid choice"),
])
def test_cli_bad_options_one_line_exit_2(capsys, args, field):
    assert main(["solve", "seed-002", *args]) == 2
    err = capsys.readouterr().err
    assert field in err and err.count("\n") == 1 and "Traceback" not in err


def test_rich_styles_only_on_a_terminal(monkeypatch):
    from deltarule.explain.text import print_rich

    doc = dr.solve("seed-004-example-1").document

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    tty = Tty()
    print_rich(doc, file=tty)
    assert "\x1b[1;36m" in tty.getvalue()  # headings in bold cyan on a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Tty()
    print_rich(doc, file=tty)
    codes = set(re.findall(r"\x1b\[[0-9;]*m", tty.getvalue()))
    assert codes <= {"\x1b[0m", "\x1b[1m", "\x1b[3m"}  # NO_COLOR: no colours; bold and italic stay
    pipe = io.StringIO()
    print_rich(doc, file=pipe)
    assert pipe.getvalue() == dr.solve("seed-004-example-1").to_text()


# -- nothing from a file becomes markup ------------------------------------------------------------
def test_hostile_text_is_escaped_in_every_format():
    sol = dr.solve(problem(SOFTMAX))
    page = sol.to_html()
    assert "<script" not in page and "<img" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = sol.to_markdown()
    assert "<script" not in md and "<img" not in md and "&lt;script&gt;" in md
    tex = sol.to_latex()
    assert "\\input{" not in tex and "\\end{document}" in tex and tex.count("\\end{document}") == 1


def test_no_terminal_escapes_from_a_file(capsys):
    p = dataclasses.replace(dr.load_problem("seed-004-example-1"), name="\x1b[2J\x1b[31mred", description="a\x07b")
    text = dr.solve(p).to_text()
    # shown as escapes (visible, as the file has them), never obeyed
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[2J\\x1b[31mred" in text and "a\\x07b" in text


def test_html_is_self_contained():
    page = dr.solve("seed-002").to_html()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for bad in ("<script", "<link", " src=", " href=", "url(", "@import"):
        assert bad not in page
    assert "<svg" in page and "@media print" in page


def test_mathml_guard_refuses_markup_smuggled_through_latex():
    out = H.mathml(r"\text{<script>alert(1)</script>}")
    assert "<script" not in out and out.startswith("<code>")
    assert H.mathml(r"z^{(1)}_{1} = 0.378").startswith("<math")


# -- the diagram -----------------------------------------------------------------------------------
def test_network_svg_from_every_source():
    p = dr.load_problem("seed-002")
    step = p.steps(1)[0]
    for obj in (p.network, p.network.trace(p.x, p.y), step, step.trace):
        svg = network_svg(obj, 3, title=HOSTILE)
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg") and "<script" not in svg
        assert "0.400" in svg and "0.450" in svg and "b 0.600" in svg  # weights on edges, bias
    svg = network_svg(step, 3)
    assert ">a 0.593<" in svg and ">a 0.751<" in svg and ">0.050<" in svg  # activations and inputs
    assert ">a 0.593<" not in network_svg(p.network, 3)
    with pytest.raises(TypeError):
        network_svg("seed-002")
    with pytest.raises(TypeError):  # a problem's pass is the caller's to take: the diagram only reads
        network_svg(p, 3)


# -- LaTeX and Chromium ----------------------------------------------------------------------------
@pytest.mark.slow
def test_latex_compiles_with_pdflatex(tmp_path):
    pdflatex = require_tool("pdflatex")  # CI installs it: there a missing one fails
    cases = {"seed2": dr.solve("seed-002", chain="W1[1,1]"), "seed3": dr.solve("seed-003", style="matrix"),
             "batch": dr.solve("seed-004-example-3"), "hostile": dr.solve(problem(SOFTMAX), style="matrix")}
    for name, sol in cases.items():
        (tmp_path / f"{name}.tex").write_text(sol.to_latex(), encoding="utf-8")
        r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:]
        assert (tmp_path / f"{name}.pdf").stat().st_size > 10_000


@pytest.mark.slow
def test_html_renders_in_headless_chromium(tmp_path):
    chromium = require_tool("chromium")  # CI installs it: there a missing one fails
    page = tmp_path / "seed-002.html"
    page.write_text(dr.solve("seed-002", chain="W1[1,1]").to_html(), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    r = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    assert "<math" in dom and "<svg" in dom and "seed-002 two-two-one" in dom
    for number in ("0.378", "0.593", "0.393", "1.106", "0.751", "0.047", "0.386", "0.436", "0.577"):
        assert f"<mn>{number}</mn>" in dom, number
    shot = tmp_path / "shot.png"
    r = subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.stat().st_size > 20_000  # a page with content, not a blank one


def test_a_large_problem_stays_readable():
    # digits: 64-32-10, mini-batches of 32: the first examples, neurons and terms are written out
    sol = dr.solve("digits", style="neuron", chain="W1[1,1]")
    text = sol.to_text()
    assert "A large problem: at most 8 examples per update, 8 neurons per layer" in text.replace("\n  ", " ")
    assert "z1[1] = Σ_j W1[1,j] x[j] + b1[1] = " in text and "W1 = (a 32 x 64 matrix)" in text
    assert "The other 24 examples of this batch are worked alike." in text
    assert max(len(line) for line in text.splitlines()) <= 80 and len(text) < 100_000
    assert "10 paths lead from W1[1,1] to the loss" in text  # through z2[1..10]; softmax's delta ends them

"""What a file can put in front of a reader: numbers of any finite size, no negative zero,
names that are shown and never obeyed (terminal, Markdown, LaTeX, HTML, SVG, matplotlib),
and MathML that keeps only MathML's presentation attributes."""
import re
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import require_module, require_tool

import deltarule as dr
from deltarule.cli import main
from deltarule.diagram import network_svg
from deltarule.explain import FORMATS
from deltarule.explain import html as H
from deltarule.formatting import SCI_FROM, fmt, mpl_literal, safe_text

NEGATIVE_ZERO = re.compile(r"-(?:\\frac\{)?0\.0*(?![0-9])")
# an escape to retitle the terminal, a bell, a newline that would start a Markdown heading
HOSTILE_NAME = "a\x1b]2;owned\x07b\n# not a heading\r\x9b2J $x^$"
# (a lone surrogate is refused when a file is read; a Problem made in Python may still hold one)
SURROGATE = " \ud800"


def two_layers(w1, lr=0.5, act="tanh", name="big", targets=((0.0,),), out="identity"):
    return dr.parse_problem({
        "name": name, "loss": "half_sse", "learning_rate": lr,
        "layers": [{"weights": [[w1]], "biases": [0.0], "activation": act},
                   {"weights": [[1.0]], "biases": [0.0], "activation": out}],
        "data": {"inputs": [[1.0]], "targets": [list(t) for t in targets]}}, "big.yaml")


# -- numbers of any finite size ------------------------------------------------------------------
def test_fmt_takes_any_finite_number():
    assert fmt(1e300, 3) == "1.000e+300" and fmt(-1e300, 3) == "-1.000e+300"
    assert fmt(2.5e15, 0) == "3e+15" and fmt(-1.25e20, 2) == "-1.25e+20"  # halves away from zero
    assert fmt(SCI_FROM / 10, 2) == "100000000000000.00"  # below the threshold: as by hand
    assert fmt(1e12, 3) == "1000000000000.000"
    assert fmt(123456789012345.6, 20) == "123456789012346.00000000000000000000"  # 35 digits, 15 significant
    assert fmt(-1e-300, 3) == "0.000" and fmt(5e-324, 3) == "0.000"


@pytest.mark.parametrize("case", ["weight 1e12", "z +1e300", "z -1e300", "learning rate 1e300"])
def test_every_renderer_shows_huge_finite_numbers(case):
    p = {"weight 1e12": two_layers(1e12, act="identity"), "z +1e300": two_layers(1e300),
         "z -1e300": two_layers(-1e300), "learning rate 1e300": two_layers(0.5, 1e300, "sigmoid", out="sigmoid")}[case]
    sol = dr.solve(p)
    step = sol.steps[0]
    assert np.isfinite(step.to_json()["loss_after"])
    outs = {f: sol.render(f) for f in FORMATS}
    text = " ".join(outs["text"].split())  # long equations are wrapped
    if case == "weight 1e12":
        # z1 = 1e12 (x = 1), yhat = z2 = 1e12, L = 1/2 (1e12 - 0)^2 = 5e23, dW2 = a1 delta2 = 1e24
        assert "z1[1] = W1[1,1] x[1] + b1[1] = 1000000000000.000(1.000) + 0.000 = 1000000000000.000" in text
        assert "= 1/2(1000000000000.000 - 0.000)^2 = 5.000e+23" in text
        assert "dW2[1,1] = δ2[1] a1[1] = 1000000000000.000(1000000000000.000) = 1.000e+24" in text
    elif case.startswith("z"):
        sign = "-" if "-" in case else ""
        assert f"= {sign}1.000e+300" in text and f"tanh({sign}1.000e+300) = {sign}1.000" in text
    else:
        # W1_new = 0.5 - 1e300 dW1: huge, negative; shown, and the learning rate as given
        assert "η = 1e+300" in text and re.search(r"= 0\.500 - 1e\+300\(0\.0\d\d\) = -\d\.\d{3}e\+29\d", text)
    for f, out in outs.items():
        assert "nan" not in out and "inf" not in out.replace("inform", ""), f
    svg = network_svg(step, 3, title=case)
    texts = [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert len(texts) > 10
    if case.startswith("z"):  # the diagram shows the weight and z in scientific form too
        assert "z " + fmt(float(case[2:]), 3) in texts and fmt(float(case[2:]), 3) in texts


def test_no_negative_zero_in_any_format():
    # softmax + cross-entropy over two examples: dL/da = 1/2 · (-y/ŷ) with y = 0 for one output
    p = dr.parse_problem({
        "name": "ce", "loss": "cross_entropy", "learning_rate": 0.5,
        "layers": [{"weights": [[0.3, -0.1], [-0.2, 0.4]], "biases": [0.0, 0.0], "activation": "softmax"}],
        "data": {"inputs": [[1.0, -2.0], [0.5, 0.25]], "targets": [[1, 0], [0, 1]]}}, "ce.yaml")
    seen = 0
    for style in ("neuron", "matrix"):
        sol = dr.solve(p, style=style)
        for f in FORMATS:
            out = sol.render(f)
            assert not NEGATIVE_ZERO.search(out), (style, f, NEGATIVE_ZERO.search(out))
            seen += out.count("0.000")
    assert seen > 10  # the zero targets are there, shown without a sign
    text = dr.solve(p).to_text()
    # dL/da1[2] = 1/2 · -y[2]/ŷ[2] with y[2] = 0: was shown as 1/2 · (-0.000/0.182)
    assert "dL/da1[2] = 1/2 · -y[2] / ŷ[2] = 1/2 · (0.000/0.182) = 0.000" in text
    assert "dL/da1[1] = 1/2 · -y[1] / ŷ[1] = 1/2 · (-1.000/0.818) = -0.612" in text  # a real minus stays


# -- MathML: elements and attributes allowlisted ---------------------------------------------------
def test_mathml_sanitiser_keeps_presentation_attributes_only():
    hostile = ('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'
               '<mrow href="javascript:alert(1)" onclick="alert(2)" style="background:url(x)">'
               '<mi mathvariant="normal" xlink:href="javascript:alert(3)" onmouseover="x()">x</mi>'
               '<mo stretchy="true" fence="true" form="prefix" data-x="1">(</mo></mrow></math>')
    out = H.sanitize_mathml(hostile)
    assert out is not None
    assert not re.search(r"href|on\w+=|style=|data-x|javascript", out), out
    for kept in ('display="block"', 'mathvariant="normal"', 'stretchy="true"', 'fence="true"', 'form="prefix"',
                 'xmlns="http://www.w3.org/1998/Math/MathML"'):
        assert kept in out
    assert "<mi" in out and ">x</mi>" in out
    assert H.sanitize_mathml("<math><mi>x</mi><script>alert(1)</script></math>") is None
    assert H.sanitize_mathml("<math><!-- x --><mi>x</mi></math>") is None
    assert H.sanitize_mathml('<math><mi>a &amp; &lt;b&gt;</mi></math>') == "<math><mi>a &amp; &lt;b&gt;</mi></math>"


def attribute_names(markup: str) -> set[str]:
    from html.parser import HTMLParser

    names = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names.update(k for k, _ in attrs)

    Collect().feed(markup)
    return names


def test_latex_that_makes_attributes_keeps_none_of_them():
    from latex2mathml.converter import convert

    for tex in (r"\href{javascript:alert(1)}{x}", r"\style{background:url(javascript:x)}{x}"):
        assert {"href", "style"} & attribute_names(convert(tex))  # what the converter makes
        out = H.mathml(tex)
        assert out.startswith("<math") and "javascript" not in out and not {"href", "style"} & attribute_names(out)
    out = H.mathml(r"\class{x\" onclick=\"alert(1)}{y}")  # a value, quoted and escaped: never an attribute
    assert attribute_names(out) <= H._MATHML_ATTRS and not any(a.startswith("on") for a in attribute_names(out))
    page = dr.solve(two_layers(0.5, name=r"\href{javascript:alert(1)}{x}")).to_html()
    names = attribute_names(page)
    assert "href" not in names and not any(a.startswith("on") for a in names) and len(names) > 5


# -- text from files: shown, never obeyed ----------------------------------------------------------
def test_safe_text_escapes_control_characters_and_surrogates():
    assert safe_text("a\x1b]2;x\x07b\nc\x9b\ud800") == "a\\x1b]2;x\\x07b\\nc\\x9b\\ud800"
    assert mpl_literal("$x^$\nsecond") == "\\$x^\\$\nsecond"


def test_a_hostile_name_in_every_output(tmp_path):
    import dataclasses

    p = dataclasses.replace(two_layers(0.5, act="sigmoid", name="x"), name=HOSTILE_NAME + SURROGATE)
    sol = dr.solve(p)
    for f in FORMATS:
        out = sol.render(f)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", out), f
        out.encode("utf-8")  # writable: no lone surrogate
    text = sol.to_text()
    assert text.splitlines()[0] == "a\\x1b]2;owned\\x07b\\n# not a heading\\r\\x9b2J $x^$ \\ud800"
    md = sol.to_markdown()
    assert md.startswith("# a\\\\x1b\\]2;owned\\\\x07b\\\\n# not a heading") and "\n# not a heading" not in md
    assert not any(line.startswith("# not") for line in md.splitlines())
    ET.fromstring(network_svg(sol.steps[0], 3, title=HOSTILE_NAME + SURROGATE))  # well-formed XML
    page = sol.to_html()
    assert "<title>a\\x1b]2;owned\\x07b\\n# not a heading" in page
    import io

    from deltarule.explain.text import print_rich

    shown = io.StringIO()
    print_rich(sol.document, file=shown)  # the terminal path of `deltarule solve`
    assert shown.getvalue().splitlines()[0] == text.splitlines()[0]
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", shown.getvalue())


@pytest.fixture
def fresh_axes():
    matplotlib = require_module("matplotlib")
    matplotlib.use("Agg")
    from deltarule import plots

    fig, (ax,) = plots.new_figure()
    return ax


def test_pictures_draw_names_literally(tmp_path):
    require_module("matplotlib")
    from deltarule import landscape, plots

    p = two_layers(0.5, act="sigmoid", name=HOSTILE_NAME)
    journal = p.train(dr.Schedule("batch", epochs=3)).journal
    for ext in ("png", "svg"):
        out = tmp_path / f"journal.{ext}"
        plots.save_journal_plot(journal, str(out), title=HOSTILE_NAME + SURROGATE)  # mathtext used to raise here
        assert out.stat().st_size > 5000
    ET.parse(tmp_path / "journal.svg")  # well-formed XML
    names = ["W1[1,1]", "b1[1]"]
    paths = {"batch": landscape.descent_path(p.network, p.x, p.y, 0.5, dr.Schedule("batch", epochs=3), names)}
    fig, (ax,) = plots.new_figure()
    plots.plot_surface(landscape.surface(p.network, p.x, p.y, names, paths, resolution=7), paths, ax,
                       title=HOSTILE_NAME)
    assert ax.get_title().startswith("a\\x1b]2;owned") and "\\$x^\\$" in ax.get_title()
    fig.savefig(tmp_path / "surface.png")


def test_train_plot_command_with_a_mathtext_name(tmp_path, capsys):
    require_module("matplotlib")
    (tmp_path / "p.yaml").write_text(
        'name: "$x^$"\nlayers:\n  - {weights: [[0.5]], biases: [0.0], activation: sigmoid}\n'
        "loss: half_sse\ndata: {inputs: [[1.0]], targets: [[0.0]]}\nlearning_rate: 0.5\n", encoding="utf-8")
    out = tmp_path / "p.png"
    assert main(["train", str(tmp_path / "p.yaml"), "--epochs", "3", "--plot", str(out)]) == 0
    assert out.stat().st_size > 5000
    assert "Traceback" not in capsys.readouterr().err


# -- softmax in LaTeX ------------------------------------------------------------------------------
def softmax_problem():
    return dr.parse_problem({
        "name": "softmax", "loss": "cross_entropy", "learning_rate": 0.5,
        "layers": [{"weights": [[0.3, -0.1], [-0.2, 0.4]], "biases": [0.0, 0.0], "activation": "softmax"}],
        "data": {"inputs": [[1.0, -2.0]], "targets": [[1, 0]]}}, "softmax.yaml")


def test_softmax_derivative_uses_a_symbol_latex_has():
    tex = dr.solve(softmax_problem()).to_latex()
    assert r"a_k(\delta_{kj} - a_j)" in tex and r"\mathbb{1}" not in tex


@pytest.mark.slow
def test_softmax_solution_compiles_with_pdflatex(tmp_path):
    pdflatex = require_tool("pdflatex")  # CI installs it: there a missing one fails
    import dataclasses

    hostile = dataclasses.replace(softmax_problem(), name=HOSTILE_NAME + SURROGATE)  # escaped, still compiles
    for style in ("neuron", "matrix"):
        (tmp_path / f"{style}.tex").write_text(dr.solve(hostile, style=style).to_latex(), encoding="utf-8")
        r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{style}.tex"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-2000:]
        assert (tmp_path / f"{style}.pdf").stat().st_size > 10_000
        log = (tmp_path / f"{style}.log").read_text(errors="replace")
        assert "Missing character" not in log and "Undefined control sequence" not in log


def test_train_and_compare_summaries_show_a_hostile_name_escaped(tmp_path, capsys):
    # JSON: ESC and BEL as \\u escapes
    (tmp_path / "p.json").write_text(
        '{"name": "a\\u001b]2;owned\\u0007\\nb", "loss": "half_sse", "learning_rate": 0.5,'
        ' "layers": [{"weights": [[0.5]], "biases": [0.0], "activation": "sigmoid"}],'
        ' "data": {"inputs": [[1.0]], "targets": [[0.0]]}}', encoding="utf-8")
    for command in (["train", "--epochs", "2"], ["compare", "--methods", "batch"]):
        assert main([command[0], str(tmp_path / "p.json"), *command[1:]]) == 0
        out = capsys.readouterr().out
        assert out.startswith("a\\x1b]2;owned\\x07\\nb: "), out[:80]
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]", out)

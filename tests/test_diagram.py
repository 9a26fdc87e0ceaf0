"""The network diagram (deltarule.diagram.network_svg): every value where it belongs.

The SVG is parsed, never compared as text: each number must sit in the right place — z and a
inside their neuron, b and dL/db under it, each weight on its own edge with its gradient right
below it — and no two labels may overlap. Seed 002's numbers are worked by hand in comments,
then asserted; every other number is checked against the trace it was drawn from.
"""
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr
from deltarule import diagram as D
from deltarule.cli import main
from deltarule.formatting import fmt, is_tiny
from deltarule.network import Layer, Network

SVG = "{http://www.w3.org/2000/svg}"
FONT = {"w": 11, "g": 11, "b": 11, "z": 11, "v": 12, "h": 12, "m": 18}


def parse(svg):
    """(root, circles [(cx, cy)], texts [(x, y, class, text)]) of the drawing (inside the <g>)."""
    root = ET.fromstring(svg)
    g = root.find(f"{SVG}g")
    circles = [(float(c.get("cx")), float(c.get("cy"))) for c in g.iter(f"{SVG}circle")]
    texts = [(float(t.get("x")), float(t.get("y")), t.get("class"), t.text) for t in g.iter(f"{SVG}text")]
    return root, circles, texts


def columns(circles):
    """Circles grouped by column (left to right), each column top to bottom."""
    xs = sorted({cx for cx, _ in circles})
    return [sorted((c for c in circles if c[0] == x), key=lambda c: c[1]) for x in xs]


def num(v, decimals=3):
    return fmt(v, decimals) + ("†" if is_tiny(v, decimals) else "")


def assert_every_value_in_place(svg, trace, example=0, decimals=3):
    """z, a in each neuron, b and dL/db under it, W on each edge and dW right under it."""
    _, circles, texts = parse(svg)
    cols = columns(circles)
    assert [len(c) for c in cols] == list(trace.network.sizes)
    at = {(x, y): (cls, s) for x, y, cls, s in texts}
    for j, (cx, cy) in enumerate(cols[0]):
        assert at[(cx, cy + 4)] == ("v", num(trace.x[example, j], decimals))
    for l, lt in enumerate(trace.layers):
        for i, (cx, cy) in enumerate(cols[l + 1]):
            assert at[(cx, cy - 3)] == ("z", "z " + num(lt.z[example, i], decimals))
            assert at[(cx, cy + 12)] == ("v", "a " + num(lt.a[example, i], decimals))
            assert at[(cx, cy + D.RADIUS + 13)] == ("b", "b " + num(lt.b[i], decimals))
            assert at[(cx, cy + D.RADIUS + 26)] == ("g", "∂ " + num(lt.db[i], decimals))
            for j, (px, py) in enumerate(cols[l]):
                # a weight label whose foot (y + 3) lies on the line from unit j to unit i,
                # with the gradient 14 px below it: the line runs between its two numbers
                on_edge = [(x, y, s) for x, y, cls, s in texts if cls == "w" and px < x < cx
                           and abs(py + (cy - py) * (x - px) / (cx - px) - (y + 3)) < 0.15]
                labels = [(s, at.get((x, y + 14))) for x, y, s in on_edge]
                assert (num(lt.W[i, j], decimals), ("g", "∂ " + num(lt.dW[i, j], decimals))) in labels, (l, i, j)


def assert_no_overlap(svg):
    """No two labels' boxes meet, and no label outside a neuron meets a neuron."""
    _, circles, texts = parse(svg)
    boxes = []
    for x, y, cls, s in texts:
        w = len(s) * D.CHAR_W * FONT[cls] / 11
        boxes.append((x - w / 2, y - 0.8 * FONT[cls], x + w / 2, y + 0.25 * FONT[cls], cls, s))
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        if a[4] in ("z", "v") and any(abs((a[0] + a[2]) / 2 - cx) < 0.05 for cx, _ in circles):
            continue  # inside its neuron
        for cx, cy in circles:
            r = D.RADIUS
            assert a[2] <= cx - r or cx + r <= a[0] or a[3] <= cy - r or cy + r <= a[1], (a, (cx, cy))


@pytest.fixture(scope="module")
def seed002():
    return dr.load_problem("seed-002").steps(1)[0]


def test_seed_002_every_number_of_the_pass_on_the_picture(seed002):
    svg = D.network_svg(seed002, 3, title="seed 002")
    root, _, texts = parse(svg)
    shown = {(cls, s) for _, _, cls, s in texts}
    # forward pass, as the notes: z_h1 = 0.15(0.05) + 0.20(0.10) + 0.35 = 0.3775 -> 0.378, a_h1 = σ(0.3775) = 0.5933
    # z_h2 = 0.25(0.05) + 0.30(0.10) + 0.35 = 0.3925 -> 0.393, a_h2 = 0.5969
    # z_o = 0.40(0.5933) + 0.45(0.5969) + 0.60 = 1.1059 -> 1.106, a_o = 0.7514
    for s in ("z 0.378", "z 0.393", "z 1.106"):
        assert ("z", s) in shown
    for s in ("a 0.593", "a 0.597", "a 0.751"):
        assert ("v", s) in shown
    # δ_o = (0.7514 - 0.5) 0.7514 (1 - 0.7514) = 0.04696 = dL/db2; dL/dw5 = δ_o a_h1 = 0.02786 -> 0.028,
    # dL/dw6 = δ_o a_h2 = 0.02803 -> 0.028; δ_h1 = δ_o 0.40 a_h1 (1 - a_h1) = 0.00453 -> 0.005;
    # δ_h2 = δ_o 0.45 a_h2 (1 - a_h2) = 0.00508 -> 0.005; dL/dw4 = δ_h2 0.10 = 0.00051 -> 0.001;
    # dL/dw1 = δ_h1 0.05 = 0.00023 is not zero but shows as 0.000 (marked †, as seed 002 notes)
    for s in ("∂ 0.047", "∂ 0.028", "∂ 0.005", "∂ 0.001", "∂ 0.000†"):
        assert ("g", s) in shown
    for s in ("0.150", "0.200", "0.250", "0.300", "0.400", "0.450"):
        assert ("w", s) in shown
    assert ("b", "b 0.350") in shown and ("b", "b 0.600") in shown
    assert_every_value_in_place(svg, seed002.trace)
    assert_no_overlap(svg)
    assert root.find(f"{SVG}title").text == "seed 002"
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "t"] == ["seed 002"]  # visible
    legend = " ".join("".join(t.itertext()) for t in root.findall(f"{SVG}text") if t.get("class") == "k")
    for words in ("z weighted input and a activation", "example 1", "w weight on each edge",
                  "∂ its gradient ∂L/∂W", "b bias", "∂ its gradient ∂L/∂b", "half_sse", "† not zero"):
        assert words in legend


def test_seed_003_at_two_decimals_and_a_later_example_of_a_batch():
    step = dr.load_problem("seed-003").steps(1)[0]
    svg = D.network_svg(step, 2)
    assert_every_value_in_place(svg, step.trace, decimals=2)
    assert_no_overlap(svg)
    xor = dr.load_problem("xor").steps(1)[0]  # a batch of four: the second example's z and a
    svg = D.network_svg(xor, 3, example=1)
    assert_every_value_in_place(svg, xor.trace, example=1)
    assert "example 2 (number 2 of the update's batch of 4)" in svg
    with pytest.raises(ValueError, match="example 4"):
        D.network_svg(xor, 3, example=4)


def test_a_network_alone_has_weights_and_biases_but_no_pass():
    net = dr.load_problem("seed-002").network
    root, _, texts = parse(D.network_svg(net, 3))
    classes = {cls for _, _, cls, _ in texts}
    assert {"w", "b"} <= classes and not {"z", "g"} & classes
    assert not any(s.startswith(("a ", "∂")) for _, _, _, s in texts)
    assert "∂" not in "".join(root.itertext())  # the legend promises no gradients either


def grid_step(width, depth=2, seed=0):
    """A tanh network of ``depth`` layers of ``width`` units traced on two examples."""
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.normal(size=(width, width)), rng.normal(size=width), "tanh") for _ in range(depth)]
    x, y = rng.normal(size=(2, width)), rng.normal(size=(2, width))
    return Network(tuple(layers), "half_sse").step(x, y, learning_rate=0.1)


def test_eight_units_a_layer_are_drawn_whole_and_legible():
    step = grid_step(8)
    svg = D.network_svg(step, 3)
    assert_every_value_in_place(svg, step.trace)
    assert_no_overlap(svg)
    assert "more" not in svg


def test_wide_layers_are_elided_and_the_digits_picture_stays_small():
    p = dr.load_problem("digits")
    step = p.steps(1)[0]
    svg = D.network_svg(step, 3, title=p.name)
    root, circles, texts = parse(svg)
    assert [len(c) for c in columns(circles)] == [5, 5, 5]  # the first 5 of 64, 32 and 10
    assert len(list(root.iter(f"{SVG}line"))) == 5 * 5 + 5 * 5
    assert [s for _, _, _, s in texts if s.endswith(" more")] == ["59 more", "27 more", "5 more"]
    assert len(svg) < 30_000 and float(root.get("width")) < 1200 and float(root.get("height")) < 1000
    assert_no_overlap(svg)
    cols = columns(circles)
    at = {(x, y): s for x, y, _, s in texts}
    z1, dW2 = step.trace.layers[0].z[0], step.trace.layers[1].dW
    for i, (cx, cy) in enumerate(cols[1]):  # the units drawn are the first ones, with their own values
        assert at[(cx, cy - 3)] == "z " + num(z1[i])
    assert ("∂ " + num(dW2[0, 0])) in {s for _, _, _, s in texts}
    assert "layer 1 · sigmoid" in svg and "32 units" in svg


def test_hostile_problem_name_is_escaped(tmp_path):
    import yaml

    hostile = '</text><script>alert(1)</script><text x="0">&amp; "q" \'s'
    doc = yaml.safe_load((Path(dr.__file__).parent / "examples" / "seed-002.yaml").read_text(encoding="utf-8"))
    doc["name"] = hostile
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    out = tmp_path / "net.svg"
    assert main(["plot", str(tmp_path / "p.yaml"), "--kind", "diagram", "-o", str(out)]) == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))  # still one well-formed document
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    title = f"{hostile}: update 1 (batch), example 1"
    assert root.find(f"{SVG}title").text == title and root.get("aria-label") == title
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "t"] == [title]  # shown as text


def test_a_long_title_is_cut_on_the_picture_only():
    long = "a name that goes on " * 10
    root = ET.fromstring(D.network_svg(dr.load_problem("seed-002").network, 3, title=long))
    visible = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "t"][0]
    assert len(visible) == D.TITLE_CHARS and visible.endswith("…") and long.startswith(visible[:-1])
    assert root.find(f"{SVG}title").text == long


def test_plot_command_draws_the_chosen_example(tmp_path, capsys):
    out = tmp_path / "xor.svg"
    assert main(["plot", "xor", "--kind", "diagram", "--example", "3", "-o", str(out)]) == 0
    step = dr.load_problem("xor").steps(1)[0]
    svg = out.read_text(encoding="utf-8")
    assert_every_value_in_place(svg, step.trace, example=2)
    assert "xor" in svg.lower() and "example 3" in svg
    bad = tmp_path / "bad.svg"
    assert main(["plot", "xor", "--kind", "diagram", "--example", "5", "-o", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["--example: there are only 4 examples to draw in the batch of this update"]
    assert not bad.exists()


def test_plot_command_without_a_learning_rate_draws_the_pass_over_the_data(tmp_path):
    import yaml

    doc = yaml.safe_load((Path(dr.__file__).parent / "examples" / "seed-002.yaml").read_text(encoding="utf-8"))
    del doc["learning_rate"]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    out = tmp_path / "net.svg"
    assert main(["plot", str(tmp_path / "p.yaml"), "--kind", "diagram", "-o", str(out)]) == 0
    p = dr.load_problem(str(tmp_path / "p.yaml"))
    assert_every_value_in_place(out.read_text(encoding="utf-8"), p.network.trace(p.x, p.y))

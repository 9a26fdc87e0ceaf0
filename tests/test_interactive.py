"""The interactive page (`solve --format html --interactive`), in a real browser.

Every line of seeds 002 and 003 is stepped through, and each number shown is compared with
`solve --format json` rounded by `deltarule.formatting.fmt` at the page's decimals. The
browser tests drive the system Chromium with Playwright; they skip where either is missing,
and fail instead when DELTARULE_STRICT=1 (CI).

Regenerate the README's screenshot with `python tests/test_interactive.py`.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

import deltarule as dr
from conftest import require_module, require_tool
from deltarule.cli import main
from deltarule.explain import interactive as I
from deltarule.formatting import fmt

ROOT = Path(__file__).resolve().parents[1]


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def browser():
    sync_playwright = require_module("playwright.sync_api").sync_playwright
    exe = require_tool("chromium")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = ctx.new_page()
    pg.errors, pg.dialogs = [], []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()


def _cli(capsys, *argv) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _make_page(tmp_path, capsys, problem, *extra) -> Path:
    out = tmp_path / f"{Path(problem).stem}.html"
    _cli(capsys, "solve", problem, "--format", "html", "--interactive", "-o", str(out), *extra)
    return out


_NAME = re.compile(r"^(z|a|dL_da|delta|dW|db|W|b)(\d+)(_new)?\[(\d+)(?:,(\d+))?\]$")


def json_value(solution: dict, u: int, name: str, example: int):
    """The value of a canonical name in `solve --format json` (None where it holds none)."""
    step = solution["steps"][u]
    if name in ("loss", "loss_after"):
        return step[name]
    m = _NAME.match(name or "")
    if not m:
        return None
    key = m.group(1) + (m.group(3) or "")
    l, i, j = int(m.group(2)), int(m.group(4)) - 1, m.group(5)
    layer = step["layers"][l - 1]
    if key in ("z", "a", "dL_da", "delta"):
        return layer[key][example][i]
    if key in ("dW", "W_new"):
        return layer[key][i][int(j) - 1]
    return layer[key][i]


def _state(pg) -> dict:
    return pg.evaluate("""() => { const eq = document.getElementById('eq'), r = document.getElementById('eq-result');
      return {name: eq.dataset.name, example: eq.dataset.example, update: eq.dataset.update,
              lhs: document.getElementById('eq-lhs').textContent, result: r ? r.textContent : null,
              count: document.getElementById('count').textContent, live: document.getElementById('live').textContent,
              where: document.getElementById('panel-h').textContent}; }""")


def _diagram_text(pg, name: str) -> str:
    return pg.evaluate("""(n) => { const f = [...document.querySelectorAll('figure.update')].find(f => !f.hidden);
      const el = [...f.querySelectorAll('[data-name]')].find(e => e.getAttribute('data-name') === n);
      return el ? el.textContent : null; }""", name)


# -- without a browser ----------------------------------------------------------------------------
def test_script_json_escapes_what_could_end_a_script():
    text = I.script_json({"t": "</script><!-- & \u2028\u2029 >"})
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == {"t": "</script><!-- & \u2028\u2029 >"}


def test_lines_of_seed_002_are_the_documents_equations_in_order():
    sol = dr.solve("seed-002")
    data = I.page_data(sol.problem, sol.steps, sol.document, sol.decimals)
    names = [ln["name"] for ln in data["lines"]]
    # the order of the notes: z, a per neuron forward, the loss, then backwards from the output
    assert names[:8] == ["z1[1]", "a1[1]", "z1[2]", "a1[2]", "z2[1]", "a2[1]", "loss", "dL_da2[1]"]
    assert names[8:10] == ["fprime2[1]", "delta2[1]"]
    assert [ln["phase"] for ln in data["lines"]][-1] == "after"
    texts = [ln["text"] for ln in data["lines"]]
    assert "z1[1] = W1[1,1] x[1] + W1[1,2] x[2] + b1[1] = 0.150(0.050) + 0.200(0.100) + 0.350 = 0.378" in texts
    assert "W2_new[1,1] = W2[1,1] - η dW2[1,1] = 0.400 - 0.5(0.028) = 0.386" in texts
    # every line of the update is one line of the text solution, word for word
    text = sol.to_text()
    flat = " ".join(text.split())
    for t in texts:
        assert " ".join(t.split()) in flat, t


def test_parse_lhs_names_every_kind():
    assert I.parse_lhs("z1[2]") == ("z", 1, 2, None)
    assert I.parse_lhs("dL/da2[1]") == ("dL_da", 2, 1, None)
    assert I.parse_lhs("σ'(z2[1])") == ("fprime", 2, 1, None)
    assert I.parse_lhs("W1_new[2,1]") == ("W_new", 1, 2, 1)
    assert I.parse_lhs("L[3]") == ("losses", None, 3, None)
    assert I.canonical(*I.parse_lhs("δ2[1]")) == "delta2[1]"
    assert I.canonical(*I.parse_lhs("L'")) == "loss_after"
    assert I.parse_lhs("z1'")[0] == "vector"


def test_interactive_needs_html_and_epochs_needs_interactive(capsys):
    assert main(["solve", "seed-002", "--interactive"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["--interactive: needs --format html"]
    assert main(["solve", "seed-002", "--epochs", "3"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_epochs_that_diverge_are_one_line_exit_3_and_no_page(tmp_path, capsys):
    problem = tmp_path / "div.yaml"  # a learning rate of 1 on an input of 3: each update overshoots more
    problem.write_text("layers:\n  - weights: [[1.0]]\n    biases: [0.0]\n    activation: identity\n"
                       "loss: sse\ndata:\n  inputs: [[3.0]]\n  targets: [[1.0]]\nlearning_rate: 1.0\n")
    out = tmp_path / "page.html"
    assert main(["solve", str(problem), "--format", "html", "--interactive", "--epochs", "2000", "-o", str(out)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{problem}: --epochs: training diverged at epoch ")
    assert not out.exists()


def test_page_is_self_contained(tmp_path, capsys):
    text = _make_page(tmp_path, capsys, "seed-002").read_text(encoding="utf-8")
    assert "default-src 'none'" in text and "script-src 'sha256-" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert text.count("<script") == 2  # the data (not run) and the page's own script


def test_jupyter_iframe_holds_the_same_page(tmp_path, capsys):
    page = _make_page(tmp_path, capsys, "seed-002").read_text(encoding="utf-8")
    shown = dr.solve("seed-002").interactive()._repr_html_()
    m = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" .*</iframe>', shown, re.DOTALL)
    assert m and html.unescape(m.group(1)) == page


# -- in the browser --------------------------------------------------------------------------------
def _expected_count(solution: dict) -> int:
    """Lines whose value `solve --format json` holds: z, a, dL/da, δ per neuron and example,
    dW, W_new, db, b_new per parameter, the loss before and after, per update."""
    count = 0
    for step in solution["steps"]:
        n = len(step["examples"])
        for lay in step["layers"]:
            units, fan_in = len(lay["W"]), len(lay["W"][0])
            count += 4 * units * n + 2 * units * fan_in + 2 * units
        count += 2
    return count


@pytest.mark.parametrize("seed", ["seed-002", "seed-003"])
def test_every_step_shows_the_cores_numbers(seed, page, tmp_path, capsys):
    solution = json.loads(_cli(capsys, "solve", seed, "--format", "json"))
    decimals = dr.load_problem(seed).decimals
    path = _make_page(tmp_path, capsys, seed)
    page.goto(path.as_uri())
    total = len(I.page_data(*_solution_parts(seed))["lines"])
    assert total > 30
    assert _state(page)["count"] == f"Line 0 of {total}"
    checked, seen = _walk(page, solution, decimals, total)
    assert checked == _expected_count(solution)
    if seed == "seed-002":
        page.screenshot(path=str(tmp_path / "seed-002-last.png"), full_page=True)
        # the update is shown before and after on its edge, and on the bias
        assert (_diagram_text(page, "W2[1,1]"), _diagram_text(page, "dW2[1,1]")) == ("0.400", "→ 0.386")
        assert (_diagram_text(page, "b1[1]"), _diagram_text(page, "db1[1]")) == ("b 0.350", "→ 0.348")
    assert page.get_attribute("#next", "aria-disabled") == "true"
    page.click("#next", force=True)  # at the end: stays there
    assert _state(page)["count"] == f"Line {total} of {total}"
    for k in range(total - 1, 0, -1):  # and back, line by line, to the same numbers
        page.click("#prev")
        st = _state(page)
        assert (st["name"], st["result"]) == (seen[k - 1]["name"], seen[k - 1]["result"])
    page.click("#prev")
    st = _state(page)
    assert st["count"] == f"Line 0 of {total}" and st["where"] == "Before the first update"
    assert _diagram_text(page, "z1[1]") == "z ?"  # nothing computed yet
    assert page.errors == []


def _walk(page, solution: dict, decimals: int, total: int) -> tuple[int, list]:
    """Click Next through every line from the start; each number whose value the JSON holds
    must be that value rounded by fmt (in the panel, and in the neuron for z and a)."""
    checked, seen = 0, []
    for k in range(total):
        page.click("#next")
        st = _state(page)
        assert st["count"] == f"Line {k + 1} of {total}"
        assert st["live"].startswith(st["lhs"] + " = ")  # announced in the live region
        seen.append(st)
        want = json_value(solution, int(st["update"]), st["name"], int(st["example"]))
        if want is None:
            continue
        assert st["result"].lstrip("= ").rstrip("†") == fmt(want, decimals), st
        if st["name"][0] in "za" and "[" in st["name"] and "_" not in st["name"]:
            assert _diagram_text(page, st["name"]) == st["name"][0] + " " + st["result"].lstrip("= ")
        checked += 1
    return checked, seen


def _solution_parts(seed):
    sol = dr.solve(seed)
    return sol.problem, sol.steps, sol.document, sol.decimals


def test_keyboard_alone_steps_forward_and_back(page, tmp_path, capsys):
    page.goto(_make_page(tmp_path, capsys, "seed-002").as_uri())
    count = lambda: _state(page)["count"].split()[1]
    for key in ("ArrowRight", "ArrowRight", "n", " "):
        page.keyboard.press(key)
    assert count() == "4" and _state(page)["name"] == "a1[2]"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("p")
    assert count() == "2" and _state(page)["name"] == "a1[1]"
    # Tab reaches the buttons, focus is visible, and space on a button presses it once
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused in ("first", "prev", "next", "next-update")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.focus("#next")
    page.keyboard.press(" ")
    assert count() == "3"
    page.keyboard.press("End")
    assert _state(page)["name"] == "loss_after"
    page.keyboard.press("Home")
    assert count() == "0"
    page.screenshot(path=str(tmp_path / "keyboard.png"))
    assert page.errors == []


def test_prints_the_whole_solution_without_controls(page, tmp_path, capsys):
    page.goto(_make_page(tmp_path, capsys, "seed-004-example-3-stochastic", "--steps", "2").as_uri())
    page.keyboard.press("ArrowRight")
    page.emulate_media(media="print")
    assert not page.is_visible("#next") and not page.is_visible(".help")
    assert page.is_visible("#worked") and page.is_visible("#line-0")
    shown = page.evaluate("""[...document.querySelectorAll('figure.update')]
        .filter(f => getComputedStyle(f).display !== 'none').length""")
    assert shown == 2  # every update's diagram, not only the current one
    pdf = page.pdf()
    assert pdf[:5] == b"%PDF-" and len(pdf) > 10000


def test_next_update_walks_through_steps(page, tmp_path, capsys):
    solution = json.loads(_cli(capsys, "solve", "seed-004-example-3-stochastic", "--steps", "3", "--format", "json"))
    page.goto(_make_page(tmp_path, capsys, "seed-004-example-3-stochastic", "--steps", "3").as_uri())
    decimals = dr.load_problem("seed-004-example-3-stochastic").decimals
    for u in range(3):
        page.click("#next-update")
        st = _state(page)
        assert (st["update"], st["name"]) == (str(u), "z1[1]")
        assert st["result"].lstrip("= ") == fmt(solution["steps"][u]["layers"][0]["z"][0][0], decimals)
        shown = page.evaluate("[...document.querySelectorAll('figure.update')].filter(f => !f.hidden).length")
        assert shown == 1
    assert page.get_attribute("#next-update", "aria-disabled") == "true"


def test_epoch_slider_shows_the_journal(page, tmp_path, capsys):
    journal_csv = tmp_path / "j.csv"
    _cli(capsys, "train", "seed-002", "--epochs", "20", "--journal", str(journal_csv))
    import pandas as pd

    journal = pd.read_csv(journal_csv)
    page.goto(_make_page(tmp_path, capsys, "seed-002", "--epochs", "20").as_uri())
    params = [c for c in journal.columns if c[0] in "Wb"]
    assert len(params) == 9

    def shown():
        cells = page.evaluate("[...document.querySelectorAll('td[data-param]')].map(td => td.textContent)")
        return cells, page.text_content("#epoch-out")

    page.focus("#epoch")
    page.keyboard.press("Home")
    for epoch in (0, 1, 2, 3):
        cells, out = shown()
        row = journal[journal.epoch == epoch].iloc[0]
        assert cells == [fmt(row[c], 3) for c in params]
        assert out == f"epoch {epoch}: loss {fmt(row['loss'], 3)}"
        weight = page.evaluate("""() => [...document.querySelectorAll('figure.epoch-net [data-name]')]
            .find(e => e.getAttribute('data-name') === 'W2[1,1]').textContent""")
        assert weight == fmt(row["W2[1,1]"], 3)
        page.keyboard.press("ArrowRight")
    assert _state(page)["count"] == "Line 0 of 39"  # arrows on the slider move the slider only
    page.keyboard.press("End")
    assert shown()[1] == f"epoch 20: loss {fmt(journal.loss.iloc[-1], 3)}"
    page.screenshot(path=str(tmp_path / "epochs.png"), full_page=True)
    assert page.errors == []


HOSTILE = '<img src=x onerror="window.pwned=1;alert(1)"></script><script>window.pwned=2;alert(2)</script>'


def test_hostile_problem_name_is_text(page, tmp_path, capsys):
    problem = tmp_path / "evil.yaml"
    problem.write_text(
        f"name: {json.dumps(HOSTILE)}\ndescription: {json.dumps(HOSTILE)}\n"
        "layers:\n  - weights: [[0.5]]\n    biases: [0.1]\n    activation: sigmoid\n"
        "loss: half_sse\ndata:\n  inputs: [[1.0]]\n  targets: [[0.0]]\nlearning_rate: 0.5\n", encoding="utf-8")
    page.goto(_make_page(tmp_path, capsys, str(problem)).as_uri())
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert page.dialogs == []
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 2
    assert page.text_content("h1") == HOSTILE
    assert page.title() == HOSTILE + " · step by step"
    assert page.errors == []


def test_jupyter_iframe_steps_in_a_browser(page):
    shown = dr.solve("seed-002").interactive()._repr_html_()
    page.set_content(f"<!DOCTYPE html><html><body>{shown}</body></html>")
    frame = page.frame_locator("iframe")
    frame.locator("#next").click()
    assert frame.locator("#eq").get_attribute("data-name") == "z1[1]"
    assert frame.locator("#eq-result").text_content() == "= 0.378"


# -- live mode: deltarule serve ---------------------------------------------------------------------
@pytest.fixture
def live_url():
    """`deltarule serve seed-002` on a free port of 127.0.0.1, in a thread."""
    import threading

    from deltarule.commands.serve import make_server

    server = make_server(dr.load_problem("seed-002"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(url: str, body: bytes, ctype: str = "application/json", headers: dict | None = None):
    """(status, parsed JSON reply) of a POST to the live server."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", "/api/solve", body=body, headers={"Content-Type": ctype, **(headers or {})})
        r = conn.getresponse()
        return r.status, json.loads(r.read().decode("utf-8"))
    finally:
        conn.close()


W2_11 = '[data-path="[\\"layers\\", 1, \\"weights\\", 0, 0]"]'


def test_live_edit_of_W2_11_moves_every_number_downstream(page, live_url, tmp_path):
    from deltarule.commands.solve import solution_json

    edited = dr.load_problem("seed-002").with_parameter("W2[1,1]", 0.5)
    solution = json.loads(solution_json(edited.steps(1)))
    page.goto(live_url + "/")
    total = _state(page)["count"].split()[-1]
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert (_state(page)["name"], _state(page)["result"]) == ("z2[1]", "= 1.106")
    page.fill(W2_11, "0.5")
    page.press(W2_11, "Enter")  # Enter in a field applies the edit
    page.wait_for_selector('body[data-version="1"]')
    st = _state(page)  # the same line, the new number: z2[1] = 0.5(0.5933) + 0.45(0.5969) + 0.6 = 1.1652
    assert (st["name"], st["result"]) == ("z2[1]", "= " + fmt(solution["steps"][0]["layers"][1]["z"][0][0], 3))
    assert st["result"] == "= 1.165"
    assert "0.500(0.593)" in page.text_content("#eq")
    assert page.text_content("#edit-status").startswith("Applied")
    page.click("#first")  # (keys typed in a field edit the field, they do not step)
    checked, _ = _walk(page, solution, 3, int(total))
    assert checked == _expected_count(solution)
    assert (_diagram_text(page, "W2[1,1]"), _diagram_text(page, "dW2[1,1]")) == (
        "0.500", "→ " + fmt(solution["steps"][0]["layers"][1]["W_new"][0][0], 3))
    page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    assert page.errors == []


def test_live_refusals_are_one_line_and_shown_as_text(page, live_url):
    page.goto(live_url + "/")
    page.fill(W2_11, HOSTILE)
    page.click("#apply")
    page.wait_for_function("document.getElementById('edit-status').textContent.startsWith('Not applied')")
    status = page.text_content("#edit-status")
    assert status.startswith("Not applied: request: layers[2].weights[1][1]: expected a number") and "<img" in status
    page.wait_for_timeout(200)
    assert page.dialogs == [] and page.evaluate("window.pwned") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.body.getAttribute('data-version')") is None  # nothing replaced
    assert [e for e in page.errors if "status of 400" not in e] == []  # the browser logs the 400 itself


def test_live_server_refuses_hostile_bodies(live_url):
    import urllib.request

    good = json.dumps({"layers": [{"weights": [[0.5]], "biases": [0.1], "activation": "sigmoid"}],
                       "loss": "sse", "data": {"inputs": [[1.0]], "targets": [[0.0]]}, "learning_rate": 0.1,
                       "name": HOSTILE})
    status, reply = _post(live_url, good.encode())
    assert status == 200 and reply["data"]["title"] == HOSTILE
    assert "<img" not in reply["figures"][0]["svg"] and "&lt;img" in reply["figures"][0]["svg"]
    assert [ln["name"] for ln in reply["data"]["lines"]][:3] == ["z1[1]", "a1[1]", "loss"]
    cases = [
        (b"x" * (70 * 1024), "application/json", 413, "request: 71,680 bytes; an edited problem is at most 65,536"),
        (b"{not json", "application/json", 400, "request: not JSON"),
        (b"\xff\xfe", "application/json", 400, "request: not JSON"),
        (good.encode(), "text/plain", 415, "request: Content-Type: expected application/json"),
        (b'{"layers": 1}', "application/json", 400, "request: layers: "),
        (good.replace('"inputs": [[1.0]], "targets": [[0.0]]', '"file": "/etc/passwd"').encode(),
         "application/json", 400, "request: data.file: "),
        (good.replace('[[0.5]]', '[[0.5, 1]]').encode(), "application/json", 400, "request: data.inputs: "),
        (good.replace('"sse"', '"sse2"').encode(), "application/json", 400, "request: loss: unknown 'sse2'"),
        (b'{"layers": [{"units": 100000}]}', "application/json", 400, "request: layers[1].weights: "),
    ]
    for body, ctype, want_status, want in cases:
        status, reply = _post(live_url, body, ctype)
        assert status == want_status, (body[:40], reply)
        assert reply["error"].startswith(want) and "\n" not in reply["error"], reply
    status, reply = _post(live_url, good.encode(), headers={"Host": "evil.example:80"})
    assert status == 403  # another name for this address (DNS rebinding) is refused
    with urllib.request.urlopen(live_url + "/", timeout=30) as r:  # and the server still serves
        assert r.status == 200 and b"Change the numbers" in r.read()


def test_serve_refuses_a_problem_too_large_to_edit(capsys):
    assert main(["serve", "digits", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too large to edit live" in err[0]


def screenshot(out: Path) -> None:
    """The README's picture: seed 002 in the middle of its backward pass."""
    from playwright.sync_api import sync_playwright

    page_path = out.parent / "interactive-seed-002.html"
    main(["solve", "seed-002", "--format", "html", "--interactive", "-o", str(page_path)])
    try:
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
            pg = b.new_page(viewport={"width": 1280, "height": 640})
            pg.goto(page_path.as_uri())
            for _ in range(12):
                pg.keyboard.press("ArrowRight")
            pg.screenshot(path=str(out))
            b.close()
    finally:
        page_path.unlink()


if __name__ == "__main__":
    screenshot(ROOT / "docs" / "images" / "interactive-seed-002.png")
    sys.exit(0)

"""deltarule serve [PROBLEM]: the step-by-step page, live: edit a number and watch the pass follow.

The standard library's HTTP server, on 127.0.0.1 unless told otherwise. ``GET /`` is the
interactive page with an editor; ``POST /api/solve`` takes the edited problem as JSON (at
most ``MAX_BODY`` bytes, inline data only, explicit weights only), validates it with the
same parser as a problem file and answers the new pass: ``{"data": ..., "figures": [...]}``,
or ``{"error": "request: field: problem"}`` (one line) with status 400, 413 or 415. Nothing
the page sends can name a file: the page reads nothing from disk.
"""
from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import positive_int
from ..errors import ExitStatus, InputError

HELP = "the step-by-step page, live on 127.0.0.1: change a weight, an input or the loss and watch every number follow"
EXAMPLE = ("  deltarule serve seed-002                # then open http://127.0.0.1:8000/\n"
           "  deltarule serve mine.yaml --port 8765 --steps 2")
MAX_BODY = 64 * 1024   # bytes of an edited problem; a problem whose document is larger is not served
ENDPOINT = "/api/solve"
REQUEST = "request"    # the name of a posted problem in error lines


def port(text: str) -> int:
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {v}")
    return v


def add_arguments(p) -> None:
    p.add_argument("problem", nargs="?", default="seed-002",
                   help="a problem file or a built-in example name (default seed-002)")
    p.add_argument("--port", type=port, default=8000, help="port to listen on (default 8000; 0: any free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only)")
    p.add_argument("--steps", type=positive_int, default=1, help="how many updates each pass shows (default 1)")


def problem_document(problem) -> dict:
    """The problem as a document of the problem-file schema, data inline (what the page edits)."""
    s = problem.schedule
    training = {"method": s.method, "shuffle": s.shuffle, "seed": s.seed}
    if s.batch_size is not None:
        training["batch_size"] = s.batch_size
    doc = {"name": problem.name, "description": problem.description, **problem.network.to_dict(),
           "data": {"inputs": problem.x.tolist(), "targets": problem.y.tolist()},
           "learning_rate": problem.learning_rate, "decimals": problem.decimals, "training": training,
           "seed": problem.seed}
    if problem.validation is not None:
        doc["validation"] = {"fraction": problem.validation[0], "seed": problem.validation[1]}
    return doc


def _refuse_files(doc) -> None:
    """A posted problem carries its numbers: no data file, no drawn weights (whose size the
    body's cap would not bound)."""
    if not isinstance(doc, dict):
        return  # the parser says what is wrong
    data = doc.get("data")
    if isinstance(data, dict) and "file" in data:
        raise InputError("not here: the page sends its data inline (inputs and targets)", "data.file", REQUEST)
    layers = doc.get("layers")
    for l, lay in enumerate(layers if isinstance(layers, list) else [], start=1):  # 1-based, as the parser's paths
        if isinstance(lay, dict) and ("units" in lay or "weights" not in lay):
            raise InputError("give weights and biases (the page edits numbers, it draws none)",
                             f"layers[{l}].weights", REQUEST)


def solve_document(doc, steps: int) -> dict:
    """The pass of the posted problem ``doc``: the page's data and its diagrams."""
    from ..explain import Solution
    from ..explain import interactive
    from ..problem import parse_problem
    from .solve import _finite_steps

    _refuse_files(doc)
    problem = parse_problem(doc, REQUEST, base_dir="/nonexistent")
    records = _finite_steps(problem, steps)
    sol = Solution(problem, records, problem.decimals)
    return {"data": interactive.page_data(problem, records, sol.document, sol.decimals),
            "figures": interactive.figures(records, sol.document.title, sol.decimals)}


def live_page(problem, steps: int) -> str:
    """The interactive page of ``problem`` with the editor."""
    from ..activations import ACTIVATIONS
    from ..explain import Solution
    from ..explain import interactive
    from ..losses import LOSSES
    from .solve import _finite_steps

    records = _finite_steps(problem, steps)
    sol = Solution(problem, records, problem.decimals)
    live = {"problem": problem_document(problem), "endpoint": ENDPOINT,
            "activations": list(ACTIVATIONS), "losses": list(LOSSES)}
    return interactive.render(problem, records, sol.document, sol.decimals, live=live)


class Handler(BaseHTTPRequestHandler):
    """GET / (the page), POST /api/solve (the edited problem -> the new pass)."""

    server_version = "deltarule"
    page: bytes = b""
    steps = 1
    hosts: frozenset = frozenset()  # Host headers accepted (empty: any), against DNS rebinding

    def log_message(self, format, *args) -> None:  # noqa: A002  (the base class's name)
        pass  # quiet: the terminal shows only the address and errors

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj, allow_nan=False).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message.replace("\n", " ")})

    def _host_ok(self) -> bool:
        if self.hosts and self.headers.get("Host", "") not in self.hosts:
            self._error(403, f"{REQUEST}: Host: not this server's address")
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802  (the base class's name)
        if not self._host_ok():
            return
        if self.path.split("?")[0] != "/":
            self._error(404, f"{REQUEST}: {self.path[:80]!r}: no such page (the page is /)")
            return
        self._send(200, self.page, "text/html; charset=utf-8")

    def _body(self) -> bytes | None:
        """The request's body, or None after answering why it is refused."""
        if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            self._error(415, f"{REQUEST}: Content-Type: expected application/json")
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._error(411, f"{REQUEST}: Content-Length: missing or not a number")
            return None
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the rest of an oversized body is never read
            self._error(413, f"{REQUEST}: {length:,} bytes; an edited problem is at most {MAX_BODY:,}")
            return None
        return self.rfile.read(length)

    def do_POST(self) -> None:  # noqa: N802  (the base class's name)
        if not self._host_ok():
            return
        if self.path != ENDPOINT:
            self._error(404, f"{REQUEST}: {self.path[:80]!r}: no such endpoint (POST {ENDPOINT})")
            return
        body = self._body()
        if body is None:
            return
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            self._error(400, f"{REQUEST}: not JSON ({str(e).splitlines()[0][:120]})")
            return
        try:
            self._json(200, solve_document(doc, self.steps))
        except InputError as e:
            self._error(400, e.in_file(REQUEST).line())
        except Exception as e:  # a defect of ours: one line to the page and the terminal, and serve on
            print(f"deltarule serve: {type(e).__name__}: {e}", file=sys.stderr)
            self._error(500, f"{REQUEST}: could not be solved ({type(e).__name__}); the terminal says more")


def make_server(problem, host: str = "127.0.0.1", port: int = 8000, steps: int = 1) -> ThreadingHTTPServer:
    """A server for ``problem`` (not started: call ``serve_forever``); port 0 takes a free one."""
    problem.require("data", "learning_rate")
    size = len(json.dumps(problem_document(problem)))
    if size > MAX_BODY:
        raise InputError(f"too large to edit live ({size:,} bytes as JSON; at most {MAX_BODY:,}): "
                         "use 'deltarule solve --format html --interactive'", "", problem.source)
    page = live_page(problem, steps).encode("utf-8")
    handler = type("LiveHandler", (Handler,), {"page": page, "steps": steps})
    server = ThreadingHTTPServer((host, port), handler)
    bound = server.server_address[1]
    if host in ("127.0.0.1", "localhost"):
        handler.hosts = frozenset({f"127.0.0.1:{bound}", f"localhost:{bound}"})
    return server


def run(args) -> int:
    from ..problem import load_problem

    problem = load_problem(args.problem)
    try:
        server = make_server(problem, args.host, args.port, args.steps)
    except OSError as e:
        raise InputError(f"cannot listen on {args.host}:{args.port} ({e.strerror})", "--port") from None
    host, bound = server.server_address[:2]
    print(f"deltarule: {problem.name or args.problem} at http://{host}:{bound}/ (Ctrl-C stops)", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return ExitStatus.OK

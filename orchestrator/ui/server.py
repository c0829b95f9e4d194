"""The UI's HTTP server: read-only pages and `/api/...` JSON over the warehouse's state.

A stdlib threading server (one thread per request; nothing to install). It never takes the
write lock and holds the warehouse only while one request reads it (`ui.pages` read through
`readers`), so a run can always start; while one writes, pages show the state from before it,
say so, and show the run's progress from its lock's side file.
"""

from __future__ import annotations

import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from ..app.workspace import Workspace, open_workspace
from ..core.errors import OrchestratorError, UsageError
from .pages import memo
from .pages.alerts import alerts_page
from .pages.diff import diff_page
from .pages.lineage import lineage_page
from .pages.model import model_page
from .pages.overview import overview
from .pages.partitions import partitions_page
from .pages.progress import progress
from .pages.runs import run_page, runs_page
from .pages.shared import STATES, letter
from .pages.sources import sources_page
from .pages.why import why_page

_STATIC = resources.files(__package__) / "static"


def templates(href: Callable[[str, object], str] | None = None):
    """The pages' templates. `href(kind, key)`: where a link to a model or a run points (the
    server's paths, or anchors inside the one-file report)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["states"] = STATES
    env.globals["letter"] = letter
    env.globals["href"] = href or _path
    return env


def _path(kind: str, key: object) -> str:
    """Where a link points on the server: a model (or its "why" page, key NAME/why/PARTITION),
    a run, or a page of its own (`partitions`, `lineage`)."""
    if kind in ("partitions", "lineage"):
        return f"/{kind}"
    return f"/runs/{key}" if kind == "run" else f"/models/{key}"


class Project:
    """The project as the UI last loaded it, loaded again when a file of it changed (a model
    edited while the UI serves shows at the next request)."""

    CHECK_EVERY = 1.0
    """Seconds between looks at the project's files: ten thousand models are ten thousand
    stats, too many for every request, and an edit shows a second later at most."""

    def __init__(self, root: Path, warehouse: Path | None, env: str | None = None):
        self.root, self.warehouse, self.env = root, warehouse, env
        self._stamp: tuple | None = None
        self._ws: Workspace | None = None
        self._checked = 0.0
        self._loading = threading.Lock()

    def _files_stamp(self) -> tuple:
        paths = [self.root / "orchestrator.toml"]
        for folder in ("models", "checks"):
            if (self.root / folder).is_dir():
                paths += sorted((self.root / folder).rglob("*.sql"))
        return tuple((str(p), p.stat().st_mtime_ns) for p in paths if p.exists())

    def _load(self) -> Workspace:
        ws = open_workspace(self.root, self.warehouse)
        if self.env is None:
            return ws
        from ..app.environments import environment_workspace

        return environment_workspace(ws, self.env)

    def get(self) -> Workspace:
        with self._loading:  # one request loads a changed project; the others wait for it
            if self._ws is not None and time.monotonic() - self._checked < self.CHECK_EVERY:
                return self._ws
            stamp = self._files_stamp()
            if self._ws is None or stamp != self._stamp:
                self._ws, self._stamp = self._load(), stamp
            self._checked = time.monotonic()
            return self._ws


ROUTES: list[tuple[re.Pattern, str, Callable]] = [
    (re.compile(r"^/$"), "overview.html", lambda ws, m, q: overview(ws)),
    (re.compile(r"^/models/([\w.]+)$"), "model.html", lambda ws, m, q: model_page(ws, m[1])),
    (
        re.compile(r"^/models/([\w.]+)/why/([\w.:-]+)$"),
        "why.html",
        lambda ws, m, q: why_page(ws, m[1], m[2]),
    ),
    (re.compile(r"^/runs$"), "runs.html", lambda ws, m, q: runs_page(ws)),
    (re.compile(r"^/runs/(\d+)$"), "run.html", lambda ws, m, q: run_page(ws, int(m[1]))),
    (re.compile(r"^/sources$"), "sources.html", lambda ws, m, q: sources_page(ws)),
    (
        re.compile(r"^/partitions$"),
        "partitions.html",
        lambda ws, m, q: partitions_page(
            ws, q.get("start"), q.get("end"), q.get("owner"), q.get("tag"), q.get("state")
        ),
    ),
    (re.compile(r"^/alerts$"), "alerts.html", lambda ws, m, q: alerts_page(ws)),
    (re.compile(r"^/diff$"), "diff.html", lambda ws, m, q: diff_page(ws)),
    (
        re.compile(r"^/lineage$"),
        "lineage.html",
        lambda ws, m, q: lineage_page(
            ws, q.get("focus"), _hops(q.get("hops")), q.get("select"), q.get("q")
        ),
    ),
]


def _hops(text: str | None) -> int:
    if text is None:
        return 2
    if not text.isdigit() or not 0 <= int(text) <= 20:
        raise UsageError(f"hops must be a whole number from 0 to 20, got {text!r}")
    return int(text)


def _json(page: memo.Remembered, running: dict | None) -> bytes:
    """A page as JSON: encoded once (ten thousand models are megabytes), with `running` (which
    moves by the second) put in front when the page has it."""
    found = page.value
    rest = page.made(
        ("json",),
        lambda: json.dumps({k: v for k, v in found.items() if k != "running"}, default=str),
    )
    head = {"version": 1, **({"running": running} if "running" in found else {})}
    return (json.dumps(head, default=str)[:-1] + ", " + rest[1:]).encode()


def make_handler(project: Project):
    pages = templates()

    class Handler(BaseHTTPRequestHandler):
        server_version = "orchestrator-ui"

        def log_message(self, format, *args):  # noqa: A002 - quiet: the CLI says where it serves
            pass

        def do_GET(self):  # noqa: N802 - the stdlib's name
            parsed = urlparse(self.path)
            path = unquote(parsed.path)
            query = {k: v[-1] for k, v in parse_qs(parsed.query).items() if v and v[-1]}
            if path.startswith("/static/"):
                return self._static(path.removeprefix("/static/"))
            if path == "/api/progress":
                body = json.dumps({"version": 1, **progress(project.get())}).encode()
                return self._send(HTTPStatus.OK, "application/json", body)
            api = path.startswith("/api/")
            route = path.removeprefix("/api") if api else path
            for pattern, template, build in ROUTES:
                match = pattern.match(route if route != "" else "/")
                if match:
                    return self._page(template, build, match, query, api)
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

        def _page(self, template: str, build, match, query: dict, api: bool) -> None:
            try:
                ws = project.get()
                key = ("page", match.re.pattern, match.groups(), tuple(sorted(query.items())))
                page = memo.remember(ws, key, lambda: memo.Remembered(build(ws, match, query)))
            except OrchestratorError as exc:
                return self._error(exc, api, template)
            found = page.value
            if found is None:
                return self._send(HTTPStatus.NOT_FOUND, "text/plain", b"no such model")
            running = progress(ws)["running"]  # never remembered: it moves by the second
            if api:
                return self._send(HTTPStatus.OK, "application/json", _json(page, running))
            if "running" in found:
                found = {**found, "running": running}
            html = page.made(
                ("html", json.dumps(running)),
                lambda: (
                    pages.get_template(template)
                    .render(page=found, project=ws.project, running=running, env=ws.env)
                    .encode()
                ),
            )
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", html)

        def _error(self, exc: OrchestratorError, api: bool, template: str) -> None:
            # a bad parameter is the asker's (400); a state that cannot be read is ours (503)
            bad = isinstance(exc, UsageError)
            code = HTTPStatus.BAD_REQUEST if bad else HTTPStatus.SERVICE_UNAVAILABLE
            if api:
                body = json.dumps({"version": 1, "error": str(exc)}).encode()
                return self._send(code, "application/json", body)
            html = pages.get_template("error.html").render(error=str(exc), page=None, project=None)
            self._send(code, "text/html; charset=utf-8", html.encode())

        def _static(self, name: str) -> None:
            if not re.fullmatch(r"[\w.-]+", name) or not (_STATIC / name).is_file():
                return self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, kind, (_STATIC / name).read_bytes())

        def _send(self, status: HTTPStatus, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def serve(
    root: Path, warehouse: Path | None, host: str, port: int, env: str | None = None
) -> ThreadingHTTPServer:
    """A server bound to host:port (port 0: any free one), not yet serving; with `env`, the
    project as environment `env` sees it (production's models and the environment's copies)."""
    project = Project(root, warehouse, env)
    ws = project.get()  # a broken project is one line and exit 2 before anything listens
    server = ThreadingHTTPServer((host, port), make_handler(project))
    server.daemon_threads = True
    threading.Thread(target=memo.warm, args=(ws,), daemon=True, name="warm").start()
    return server

"""The child process a Python model runs in: `python -m orchestrator.execution.python_child
SPEC.json`. It loads the model's file, calls `model(ctx)`, and writes the rows it returns to a
Parquet file the parent publishes like a SQL model's query; or it writes what went wrong (the
error, whether it is worth another attempt, and the last line of the model's own code that
raised) to a JSON file. A child of its own, so that a timeout or a cancel really stops it.

`ctx` gives the model its window (`start`, `end`, `key`), the run's `vars` and `var(name)`, the
`run_id`, `query(sql)` and `table(name)`: read-only DuckDB relations over the models it reads,
answered by the parent (which holds the warehouse) as Parquet files; `connection`, its own
in-memory DuckDB; and `Transient`, the exception that asks for another attempt. It imports
nothing of the orchestrator's but this module: it starts fast.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback
from datetime import datetime
from pathlib import Path


class Transient(Exception):
    """Raised by a model: worth another attempt (after the model's backoff)."""


_TRANSIENT_NAMES = {
    "TimeoutError",
    "timeout",
    "ConnectionError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "ConnectionRefusedError",
    "BrokenPipeError",
    "RemoteDisconnected",
    "IncompleteRead",
    "ReadTimeout",
    "ConnectTimeout",
    "ChunkedEncodingError",
}


def is_transient(exc: BaseException) -> bool:
    """A timeout, a dropped connection, HTTP 429 or 5xx, or what the model marked transient.

    >>> is_transient(TimeoutError()), is_transient(ValueError("bad row"))
    (True, False)
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, Transient) or getattr(exc, "transient", False) is True:
            return True
        if _names(exc) & _TRANSIENT_NAMES:
            return True
        status = _http_status(exc)
        if status is not None:
            return status == 429 or status >= 500
        reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket's error
        if isinstance(reason, BaseException):
            exc = reason
            continue
        exc = exc.__cause__ or exc.__context__
    return False


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _http_status(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)  # urllib.error.HTTPError
    if "HTTPError" in _names(exc) and isinstance(code, int):
        return code
    response = getattr(exc, "response", None)  # requests.HTTPError
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


class Context:
    """What `model(ctx)` is given."""

    Transient = Transient

    def __init__(self, spec: dict):
        import duckdb

        self.start = _moment(spec.get("start"))
        self.end = _moment(spec.get("end"))
        self.key = spec.get("key")
        self.vars = dict(spec.get("vars") or {})
        self.run_id = spec.get("run_id")
        self.connection = duckdb.connect()
        self._address = spec.get("queries")
        self._authkey = bytes.fromhex(spec.get("authkey") or "")
        self._client = None

    def var(self, name: str) -> str:
        if name not in self.vars:
            raise KeyError(f"var('{name}') was not given: pass --var {name}=VALUE")
        return self.vars[name]

    def query(self, sql: str):
        """A read-only query over the warehouse, as a relation of this process's DuckDB."""
        if self._address is None:
            raise RuntimeError("this model reads no model: declare what it reads (depends_on)")
        if self._client is None:
            from multiprocessing.connection import Client

            self._client = Client(self._address, family="AF_UNIX", authkey=self._authkey)
        self._client.send(("query", sql))
        status, answer = self._client.recv()
        if status != "ok":
            raise RuntimeError(f"query failed: {answer}")
        return self.connection.read_parquet(answer)

    def table(self, name: str):
        return self.query(f"SELECT * FROM {name}")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def rows_of(result, ctx: Context, columns: list) -> object:
    """The model's result as a relation of the child's DuckDB."""
    con = ctx.connection
    kind = type(result).__module__.split(".")[0]
    if kind == "duckdb":
        return result
    if kind == "pyarrow":
        return con.from_arrow(result)
    if kind == "pandas":
        return con.from_df(result)
    if isinstance(result, list | tuple):
        return _from_dicts(con, list(result), columns)
    raise TypeError(
        f"model(ctx) returned a {type(result).__name__}: return a pyarrow table, a DuckDB "
        "relation, a pandas DataFrame, or a list of dicts (with `# columns:` declared)"
    )


def _from_dicts(con, rows: list, columns: list):
    if not columns:
        raise TypeError("model(ctx) returned a list: declare its `# columns: name TYPE, ...`")
    names = [name for name, _ in columns]
    ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE model_rows ({ddl})")
    if rows:
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise TypeError(f"row {i} is a {type(row).__name__}, not a dict")
            unknown = sorted(set(row) - set(names))
            if unknown:
                raise TypeError(f"row {i} has {unknown[0]!r}, not a declared column")
        values = [[row.get(name) for name in names] for row in rows]
        marks = ", ".join("?" for _ in names)
        con.executemany(f"INSERT INTO model_rows VALUES ({marks})", values)
    return con.table("model_rows")


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    model_file = spec["file"]
    try:
        loaded = importlib.util.spec_from_file_location("orchestrator_python_model", model_file)
        module = importlib.util.module_from_spec(loaded)
        sys.path.insert(0, spec["root"])  # the project's own modules import as in the project
        loaded.loader.exec_module(module)
        ctx = Context(spec)
        relation = rows_of(module.model(ctx), ctx, spec.get("columns") or [])
        out = spec["out"]
        relation.to_parquet(out)
        return 0
    except BaseException as exc:  # every error goes to the parent, classified
        _report(spec, exc, model_file)
        return 1


def _report(spec: dict, exc: BaseException, model_file: str) -> None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == model_file]
    last = frames[-1] if frames else None
    error = {
        "type": type(exc).__name__,
        "message": str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        "transient": is_transient(exc),
        "line": last.lineno if last else None,
        "code": (last.line or "").strip() if last else None,
    }
    Path(spec["error"]).write_text(json.dumps(error), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

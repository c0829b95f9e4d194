"""The exception hierarchy, and how each error reads to a user.

Every error the tool raises on purpose is an `OrchestratorError`. The CLI prints its `str()` as one
line and exits with its `exit_code`, from the one table of exit codes below. Messages name the
culprit: the file and line, the model, the value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path

# The exit codes, named: each class below takes its `exit_code` from these.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUSY = 3
EXIT_DENIED = 4
EXIT_CANCELLED = 130

EXIT_CODES = {
    EXIT_OK: "success: everything selected is built, or there was nothing to do",
    EXIT_FAILED: (
        "a task failed, a blocking check failed, an input is blocked, or a look found problems"
    ),
    EXIT_USAGE: "usage, project or warehouse error: nothing was run and nothing written",
    EXIT_BUSY: "the warehouse is being written by another process",
    EXIT_DENIED: "access denied by [access] in orchestrator.toml",
    EXIT_CANCELLED: "cancelled by a signal (SIGINT or SIGTERM)",
}
"""What each exit code of the CLI means (the README lists them too).

>>> sorted(EXIT_CODES)
[0, 1, 2, 3, 4, 130]
>>> [cls.exit_code for cls in (UsageError, TaskError, WarehouseBusy, AccessDenied, RunStopped)]
[2, 1, 3, 4, 130]
"""


class OrchestratorError(Exception):
    """Root of every error the tool raises on purpose."""

    exit_code = EXIT_USAGE


class UsageError(OrchestratorError):
    """A bad flag, value or selector on the command line."""


class ProjectError(OrchestratorError):
    """Something wrong in the project files: config, a model header, model SQL, the DAG."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.detail = message
        where = ""
        if self.path:
            where = f"{self.path}:{line}: " if line else f"{self.path}: "
        super().__init__(f"{where}{message}")


class CycleError(ProjectError):
    """The models' dependencies form a cycle; `cycle` lists it, first node repeated at the end."""

    def __init__(self, cycle: list[str], files: dict[str, str]):
        self.cycle = cycle
        path = " -> ".join(cycle)
        where = ", ".join(
            f"{name} ({files[name]})" for name in dict.fromkeys(cycle) if name in files
        )
        super().__init__(f"dependency cycle: {path}; models involved: {where}")


class MissingVar(UsageError):
    """A model uses a var that has no value (no --var, no default under [vars])."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"missing --var {name}=VALUE (the model uses {{{{ var('{name}') }}}})")


class WarehouseError(OrchestratorError):
    """The warehouse file cannot be opened or its state schema is unusable."""


class WarehouseBusy(OrchestratorError):
    """Another process is writing the warehouse."""

    exit_code = EXIT_BUSY


class AccessDenied(OrchestratorError):
    """[access] does not let this user run this command."""

    exit_code = EXIT_DENIED


class TaskError(OrchestratorError):
    """A task failed while running. `transient` errors may be retried; the rest fail at once.
    `remedy`: the command that fixes it when a retry would fail the same way."""

    exit_code = EXIT_FAILED
    transient = False

    def __init__(self, message: str = "", remedy: str | None = None):
        self.remedy = remedy
        super().__init__(message)


class WindowError(TaskError):
    """A partition task's query returned rows outside the partition's window."""


class HookError(TaskError):
    """A model's pre_hook or post_hook failed: the task fails, nothing is written."""


class SchemaChangeError(TaskError):
    """An incremental model's output changed a column's type: older partitions hold the old one."""


class DuplicateKeyError(TaskError):
    """A MERGE source holds the same unique key twice, which would make the result arbitrary."""


class TaskTimeout(TaskError):
    """The task ran past its timeout and was interrupted."""


class Cancelled(TaskError):
    """The run was cancelled while the task ran."""


class CheckFailed(TaskError):
    """A blocking check failed on the data a task was about to publish; `results` holds every
    result of the attempt, `summary` says what failed."""

    def __init__(self, results: list, summary: str):
        self.results = results
        super().__init__(summary)


def first_line(exc: BaseException, *, named: bool = True) -> str:
    """The first line of an error's message, for one-line reports. `named` puts the exception's
    class before it (`BinderException: ...`) unless it is one of ours, whose text says it all.

    >>> first_line(ValueError("bad value\\nmore detail")), first_line(OSError("x"), named=False)
    ('ValueError: bad value', 'x')
    """
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else ""
    if not named or isinstance(exc, OrchestratorError):
        return message or type(exc).__name__
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def full_message(exc: BaseException) -> str:
    """The whole message, class first (as `first_line` names it): what the state and alerts
    keep, since DuckDB names the file, the column and the value only after its first line."""
    text = str(exc).strip()
    if isinstance(exc, OrchestratorError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# the lines of DuckDB's messages after the first that say where and what: the file, the line
# of data, the column and the value, what a name could have been
_TELLING = re.compile(
    r"^(Original Line:|Error when converting column|Could not convert|file = |"
    r"Candidate bindings|Did you mean)",
    re.IGNORECASE,
)


def essential(message: str) -> str:
    """A whole error message as one console line: its first line and the lines that matter.

    >>> print(essential('Conversion Error: CSV Error on Line: 3\\n'
    ...     'Original Line: 1041,12.50 EUR\\nError when converting column "amount".\\n\\n'
    ...     '  file = data/o.csv\\n  delimiter = ,').replace("; ", "\\n"))
    Conversion Error: CSV Error on Line: 3
    Original Line: 1041,12.50 EUR
    Error when converting column "amount".
    file = data/o.csv
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    kept = [lines[0]] + [line for line in lines[1:] if _TELLING.match(line)]
    return "; ".join(dict.fromkeys(kept))


def suggest(value: str, choices: Iterable[str], limit: int = 3, cutoff: float = 0.6) -> str:
    """' (did you mean: a, b?)' for the closest choices, or '' when nothing is close."""
    close = difflib.get_close_matches(value, list(choices), n=limit, cutoff=cutoff)
    return f" (did you mean: {', '.join(close)}?)" if close else ""


# Which errors are worth retrying: the one table. DuckDB's exception classes are named, not
# imported, so this module stays free of the database driver. An error is transient when it or
# a base class has the name of a row and its message holds that row's text (None: any message).
# Everything else (parse, binder, catalog, constraint, conversion, a failed check, the window
# guard) fails at once: running it again would fail the same way.
TRANSIENT_ERRORS: tuple[tuple[str, str | None], ...] = (
    ("IOException", None),  # a file read or write failed, a lock on a file was not granted
    ("HTTPException", None),
    ("TransactionException", None),  # two transactions wrote the same rows
    ("SerializationException", None),
    ("ResourceInUseException", None),
    ("ConnectionException", None),
    ("OSError", None),  # from Python's own file access: an interrupted read, a full disk
    ("TimeoutError", None),
    # a Parquet file read while it is still being written (its footer is not there yet)
    ("InvalidInputException", "too small to be a Parquet file"),
    ("InvalidInputException", "No magic bytes found at end of file"),
)


def is_transient(exc: BaseException) -> bool:
    """Is `exc` worth another attempt? See TRANSIENT_ERRORS.

    >>> is_transient(OSError("interrupted")), is_transient(ValueError("bad"))
    (True, False)
    """
    if isinstance(exc, OrchestratorError):
        return bool(getattr(exc, "transient", False))
    message = str(exc)
    names = {cls.__name__ for cls in type(exc).__mro__}
    return any(
        name in names and (text is None or text in message) for name, text in TRANSIENT_ERRORS
    )


class RunStopped(OrchestratorError):
    """A signal stopped a run: while it planned (nothing recorded), or at once, by a second
    signal (the run is recorded cancelled all the same)."""

    exit_code = EXIT_CANCELLED


class NothingToRetry(UsageError):
    """`retry` found every task of the run succeeded: nothing to do is not a failure."""

    exit_code = EXIT_OK

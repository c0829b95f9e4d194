"""The project as values: models, sources, settings, jobs, owners and access, all frozen.

These are what reading the project produces and what every later layer consumes, so they sit at
the bottom and do no I/O: `config`, `source_config`, `header`, `jobs` and `project` build them.
A model is `models/<schema>/<name>.sql` (deeper folders allowed, the first folder is the schema)
named `<schema>.<name>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import ProjectError
from ..core.partitions import Grain, Window

if TYPE_CHECKING:  # named in annotations only: values do not need their parsers at run time
    from .checks import Check
    from .schedule import Cron

CONFIG_FILE = "orchestrator.toml"
STATE_SCHEMA = "orchestrator"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDERS = ("date", "month", "year", "hour")  # in a source path: the period a file holds
ROLES = ("viewer", "operator", "approver", "admin")


class Kind(StrEnum):
    VIEW = "view"
    TABLE = "table"
    INCREMENTAL = "incremental"
    SNAPSHOT = "snapshot"


SNAPSHOT_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
"""What a snapshot adds to its query's columns, named as dbt names them (so SQL written for a
dbt snapshot reads ours)."""


@dataclass(frozen=True)
class History:
    """How a snapshot (type 2 slowly changing dimension) decides that a row changed: its
    `updated_at` column grew (`timestamp`), or one of `check_cols` differs (`check`; empty:
    every column). `hard_deletes`: `ignore` keeps a vanished key's row current, `invalidate`
    closes it."""

    strategy: str  # timestamp | check
    updated_at: str | None = None
    check_cols: tuple[str, ...] = ()
    hard_deletes: str = "ignore"

    @property
    def text(self) -> str:
        """The settings as one string, for the model's version."""
        return "|".join(
            [self.strategy, self.updated_at or "", ",".join(self.check_cols), self.hard_deletes]
        )


@dataclass(frozen=True)
class Source:
    """An external relation models read. With `path` it is a set of files the orchestrator
    exposes as a view named `name`; without, a table something else loads into the warehouse."""

    name: str
    path: str | None = None
    format: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    owner: str | None = None
    description: str | None = None
    column_descriptions: Mapping[str, str] = field(default_factory=dict)
    loaded_at: str | None = None  # column holding when a row was loaded (freshness)
    warn_after: timedelta | None = None
    error_after: timedelta | None = None
    partition_by: str | None = None  # arrival is judged per window of this column
    grain: Grain = Grain.DAY
    columns: tuple[tuple[str, str], ...] = ()  # declared schema: drift blocks readers
    read_by_partition: bool = False  # a partition task reads only its window's files
    immutable: bool = False  # its files or rows never change once there: not fingerprinted

    @property
    def partitioned(self) -> bool:
        return self.partition_by is not None or bool(
            self.path and any(f"{{{p}}}" in self.path for p in PLACEHOLDERS)
        )


@dataclass(frozen=True)
class EngineSettings:
    """`[engine]`: which engine runs the models. DuckDB (the warehouse file) by default; Spark
    through a master (`local[2]`, `spark://host:7077`) or Spark Connect (`sc://host:15002`)."""

    kind: str = "duckdb"
    master: str | None = None
    remote: str | None = None
    warehouse_dir: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    root: Path
    warehouse: Path
    default_schema: str = "main"
    threads: int | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    retries: int = 2  # extra attempts after a transient error (models may override)
    retry_delay: timedelta = timedelta(seconds=5)  # before the first retry; doubles each time
    retry_max_delay: timedelta = timedelta(minutes=5)
    timeout: timedelta | None = None  # per task (models may override)
    default_start: str | None = None  # [defaults] start: for incremental models without one
    serve_copy: Path | None = None  # [serve] copy: what a successful run copies for dashboards
    serve_schemas: tuple[str, ...] = ()  # [serve] schemas (none: every model schema)
    on_run_start: tuple[str, ...] = ()  # [hooks]: SQL before a run's first task
    on_run_end: tuple[str, ...] = ()  # [hooks]: SQL after its last
    engine: EngineSettings = field(default_factory=EngineSettings)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE


@dataclass(frozen=True)
class Model:
    """One model file: its header settings and what parsing its SQL found."""

    name: str
    schema: str
    table: str
    path: Path
    relpath: str
    template: str
    kind: Kind = Kind.TABLE
    partition_by: str | None = None
    grain: Grain = Grain.DAY
    start: datetime | None = None
    end: datetime | None = None
    unique_key: tuple[str, ...] = ()
    owner: str | None = None
    tags: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    header_lines: Mapping[str, int] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    protected: bool = False  # only admins may write it (when [access] is configured)
    # a change applies to partitions built from now on; built ones keep their data (not part
    # of the version: saying so rebuilds nothing)
    forward_only: bool = False
    retries: int | None = None  # None: the project's default
    retry_delay: timedelta | None = None
    timeout: timedelta | None = None
    batch_size: int | None = None  # partitions one task writes at once (None: one)
    tables: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    vars: tuple[str, ...] = ()
    version: str = ""
    columns: tuple[str, ...] | None = None  # output names, when the SQL says them (no `*`)
    seed: bool = False  # a CSV of seeds/ loaded as a table (`seeds`), not a file of models/
    pre_hooks: tuple[str, ...] = ()  # SQL run before the write, in its transaction
    post_hooks: tuple[str, ...] = ()  # SQL run after the write, before the blocking checks
    dialect: str = "duckdb"  # `-- dialect: spark`: written in Spark SQL, runs on Spark only
    history: History | None = None  # kind: snapshot: how a row's versions are kept
    # `warn`: NULL or duplicate unique_key values are written (merged as delete + insert by
    # key, as dbt writes them) instead of refused; a check says when it happens
    key_audit: str = "block"
    # `dbt`: the body is a dbt model's Jinja, rendered by dbt's renderer when it runs (it queries
    # the warehouse while compiling); what it reads is its `depends_on`
    renderer: str = "ours"
    description: str | None = None  # what the model holds, for people (`-- description:`)
    column_descriptions: Mapping[str, str] = field(default_factory=dict)  # column -> text
    # why the file does not load (`path:line: error`): a broken model is held back with what
    # reads it, while the rest of the project plans and runs (see project.load)
    broken: ProjectError | None = None
    # a copy of a model in an environment: the production model it stands in for, and what its
    # SQL (and its checks') references read instead (as written, lowercase -> schema.table)
    home: str | None = None
    relations: Mapping[str, str] = field(default_factory=dict)
    # `python`: a models/**/*.py file whose model(ctx) returns its rows, run in a child
    # process (`execution.python_run`); `declared`: the (name, type) of what its list of dicts
    # holds (`# columns:`)
    language: str = "sql"
    declared: tuple[tuple[str, str], ...] = ()

    @property
    def partitioned(self) -> bool:
        return self.kind is Kind.INCREMENTAL and self.partition_by is not None

    @property
    def merges_whole(self) -> bool:
        """An incremental model with unique_key and no partition_by: each build merges the
        whole query's rows by key (dbt's incremental merge)."""
        return self.kind is Kind.INCREMENTAL and self.partition_by is None

    @property
    def layout(self) -> str:
        """The settings that fix the table's physical shape; a change means rebuilding it whole.
        A snapshot's history is kept whatever its settings become."""
        if self.kind is Kind.SNAPSHOT:
            return str(self.kind)
        return "|".join(
            [
                self.kind,
                self.partition_by or "",
                self.grain if self.partitioned else "",
                ",".join(self.unique_key),
            ]
        )

    @property
    def lookup_schema(self) -> str:
        """Where its unqualified names are looked up first: its own schema, or for a copy in
        an environment the schema of the model it stands in for."""
        return self.home.split(".")[0] if self.home else self.schema

    @property
    def relation(self) -> str:
        """The quoted relation name to use in SQL."""
        return f'"{self.schema}"."{self.table}"'

    def window_literals(
        self, window: Window | None, this: str | None = None, incremental: bool = False
    ) -> dict[str, str]:
        """What `{{ start }}`, `{{ end }}` and `{{ this }}` (the relation written) render to,
        and what `is_incremental()` says (true: rows are merged into the table there)."""
        literals = {
            "start": "NULL",
            "end": "NULL",
            "this": this or self.relation,
            "incremental": "true" if incremental else "false",
        }
        if window is not None:
            literals["start"] = window.literal(window.start)
            literals["end"] = window.literal(window.end)
        return literals


# -- operations: [jobs], [owners], [access] (parsed by `jobs`) and [exports] (by `exports`) ---


@dataclass(frozen=True)
class Job:
    name: str
    select: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    cron: Cron | None = None
    timezone: str = "UTC"
    owner: str | None = None
    deadline: time | None = None
    vars: Mapping[str, str] = field(default_factory=dict)
    on: str | None = None  # a declared source whose new partitions start the job
    poll: timedelta = timedelta(minutes=1)  # how often `on` is looked at
    catchup: timedelta = timedelta(days=1)  # older missed ticks are recorded, not run
    lines: Mapping[str, int] = field(default_factory=dict)  # setting -> its orchestrator.toml line


@dataclass(frozen=True)
class Owner:
    name: str
    webhook: str | None = None
    command: str | None = None
    log: str | None = None  # a file alerts are appended to, as JSON lines
    folders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Access:
    """Users per role; '*' is everyone. Each role includes the ones below it."""

    users: Mapping[str, tuple[str, ...]]

    def role_of(self, user: str) -> str | None:
        for role in reversed(ROLES):
            members = self.users.get(role, ())
            if user in members or "*" in members:
                return role
        return None

    def allows(self, user: str, needed: str) -> bool:
        role = self.role_of(user)
        return role is not None and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class Export:
    """`[exports.NAME]` (parsed by `exports`): a model's published rows, or a query over them,
    written out of the warehouse to a file (`path`, in `format`) or to a table of another
    database (`database` + `table`), per partition or whole."""

    name: str
    model: str
    path: str | None = None  # relative to the project root; {date}-style placeholders
    format: str | None = None  # parquet | csv | json (files)
    database: str | None = None  # a DuckDB or SQLite file
    table: str | None = None  # schema.table or table, in `database`
    query: str | None = None  # SQL over the model ({{ this }}); None: all its columns
    per: str = "whole"  # partition | whole
    owner: str | None = None
    line: int | None = None  # its [exports.NAME] header in orchestrator.toml

    @property
    def per_partition(self) -> bool:
        return self.per == "partition"

    @property
    def destination(self) -> str:
        """Where it writes, as written in orchestrator.toml."""
        return self.path if self.path is not None else f"{self.database}:{self.table}"


@dataclass(frozen=True)
class Operations:
    jobs: Mapping[str, Job] = field(default_factory=dict)
    owners: Mapping[str, Owner] = field(default_factory=dict)
    access: Access | None = None  # None: everything is allowed
    exports: Mapping[str, Export] = field(default_factory=dict)  # [exports.NAME]

    def owner_of_folder(self, relpath: str) -> str | None:
        """The owner whose `folders` holds a model file (models/<folder>/...), longest first."""
        parts = Path(relpath).parts[1:-1]  # drop "models" and the file name
        best, best_len = None, -1
        for owner in self.owners.values():
            for folder in owner.folders:
                prefix = Path(folder).parts
                if tuple(parts[: len(prefix)]) == prefix and len(prefix) > best_len:
                    best, best_len = owner.name, len(prefix)
        return best


@dataclass(frozen=True)
class Step:
    """`[steps.NAME]`: a command run `after` some models (per published window, or once per
    run that published any of them). Parsed by `steps`; `lines` says where each key is written."""

    name: str
    command: tuple[str, ...]
    after: tuple[str, ...] = ()  # model selectors
    per: str | None = None  # partition | run; None: partition when its models are partitioned
    retries: int | None = None  # None: the project's default, as for models
    retry_delay: timedelta | None = None
    timeout: timedelta | None = None
    owner: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    line: int | None = None  # its [steps.NAME] header in orchestrator.toml
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    settings: Settings
    models: Mapping[str, Model]
    sources: Mapping[str, Source]
    ops: Operations = field(default_factory=Operations)
    steps: Mapping[str, Step] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.settings.root

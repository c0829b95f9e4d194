"""Golden SQL for every statement `orchestrator/statements/materialize.py` emits, then the same
statements executed on a real DuckDB in tmp_path.

The fixtures are `tests/statements/golden/materialize/*.sql`, in the style of sqlglot's optimizer
fixtures: each block starts with `-- case: NAME`, then `-- key: value` lines giving the inputs
(which function, the model's settings, the query, the window ...), then the expected statements,
each ending in `;`; `/* audit */` and `/* guard */` label the queries a write is judged by, and a
refusal or bind parameters are `/* ... */` comments. The model is always `analytics.orders`
(the inputs set its kind and keys).

A deliberate change to the emitted SQL regenerates the expected text (the inputs are kept):

    UPDATE_GOLDEN=1 ./dev test tests/statements/test_materialize.py

then read the diff of tests/statements/golden/ before committing it.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from orchestrator.core.partitions import Grain, Window
from orchestrator.engines.engine import DuckDB
from orchestrator.project.model import Kind, Model, Source
from orchestrator.statements import materialize

GOLDEN = Path(__file__).parent / "golden" / "materialize"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def parse_cases(path: Path) -> list[tuple[str, dict[str, str], str]]:
    """(name, inputs, expected text) for each `-- case:` block of a fixture file."""
    cases: list[tuple[str, dict[str, str], str]] = []
    for block in path.read_text(encoding="utf-8").split("-- case: ")[1:]:
        name, _, body = block.partition("\n")
        inputs: dict[str, str] = {}
        lines = body.splitlines()
        while lines and lines[0].startswith("-- "):
            key, _, value = lines.pop(0)[3:].partition(": ")
            inputs[key] = value.replace("\\n", "\n")
        cases.append((name.strip(), inputs, "\n".join(lines).strip()))
    return cases


def write_cases(path: Path, cases: list[tuple[str, dict[str, str], str]]) -> None:
    blocks = []
    for name, inputs, expected in cases:
        head = [f"-- case: {name}"]
        head += [f"-- {k}: {v}".replace("\n", "\\n") for k, v in inputs.items()]
        blocks.append("\n".join(head) + "\n" + expected + "\n")
    path.write_text("\n".join(blocks), encoding="utf-8")


def make_model(inputs: dict[str, str]) -> Model:
    keys = inputs.get("unique_key")
    return Model(
        name="analytics.orders",
        schema="analytics",
        table="orders",
        path=Path("models/analytics/orders.sql"),
        relpath="models/analytics/orders.sql",
        template=inputs.get("query", ""),
        kind=Kind(inputs.get("kind", "table")),
        partition_by=inputs.get("partition_by"),
        grain=Grain(inputs.get("grain", "day")),
        unique_key=tuple(k.strip() for k in keys.split(",")) if keys else (),
    )


def make_window(inputs: dict[str, str]) -> Window | None:
    if "window" not in inputs:
        return None
    grain = Grain(inputs.get("grain", "day"))
    return Window.containing(datetime.fromisoformat(inputs["window"]), grain)


def make_source(inputs: dict[str, str]) -> Source:
    columns = tuple(tuple(c.split(" ", 1)) for c in inputs.get("columns", "").split(", ") if c)
    options = dict(
        (k, int(v) if v.isdigit() else v)
        for k, v in (o.split("=", 1) for o in inputs.get("options", "").split(", ") if o)
    )
    return Source(
        name=inputs.get("source", "raw.events"),
        path=inputs.get("pattern"),
        format=inputs.get("format"),
        options=options,
        columns=columns,  # type: ignore[arg-type]
        read_by_partition=inputs.get("read_by_partition") == "true",
    )


def columns_of(text: str) -> list[tuple[str, str]]:
    return [tuple(c.split(" ", 1)) for c in text.split(", ") if c]  # type: ignore[misc]


def emit(inputs: dict[str, str]) -> list[str]:
    """The statements `materialize` emits for one case's inputs."""
    call = inputs["call"]
    model = make_model(inputs)
    existing = inputs.get("existing") or None
    if call == "build":
        write = materialize.build(
            model,
            inputs["query"],
            make_window(inputs),
            existing,
            into_shadow=inputs.get("into_shadow") == "true",
            shadow_exists=inputs.get("shadow_exists") == "true",
        )
        out = list(write.statements)
        if write.audit:
            out.append("/* audit */\n" + write.audit)
        if write.guard:
            out.append("/* guard */\n" + write.guard.count)
        return out + list(write.finish)
    if call == "swap":
        return list(materialize.swap(model, existing).statements)
    if call == "drop_shadow":
        return [materialize.drop_shadow(model)]
    if call == "evolve":
        target = materialize.target_of(model, inputs.get("into_shadow") == "true")
        alters, refusal = materialize.evolve(
            model, target, columns_of(inputs["new"]), columns_of(inputs["old"])
        )
        return alters + ([f"/* refused: {refusal} */"] if refusal else [])
    if call == "search_path":
        return [materialize.search_path(inputs["schema"], inputs["default_schema"])]
    if call == "create_schema":
        return [materialize.create_schema(inputs["schema"])]
    if call == "describe_relation":
        sql, params = materialize.describe_relation("analytics", "orders")
        return [sql, f"/* params: {params} */"]
    if call == "set_files":
        files = inputs.get("files")
        return [materialize.set_files("raw.events", files.split(", ") if files else None)]
    if call == "source_views":
        return materialize.source_views(make_source(inputs), inputs["pattern"])
    raise AssertionError(f"unknown call {call!r}")


def render(statements: list[str]) -> str:
    # a labelled statement ("/* audit */\nSELECT ...") ends in ';', a lone comment does not
    return "\n".join(s if s.endswith("*/") else s + ";" for s in statements)


FILES = sorted(GOLDEN.glob("*.sql"))
CASES = [
    pytest.param(path, name, id=f"{path.stem}:{name}")
    for path in FILES
    for name, _, _ in parse_cases(path)
]


@pytest.mark.parametrize("path, name", CASES)
def test_golden_sql(path: Path, name: str):
    cases = parse_cases(path)
    inputs, expected = next((i, e) for n, i, e in cases if n == name)
    emitted = render(emit(inputs))
    if UPDATE and emitted != expected:
        write_cases(path, [(n, i, emitted if n == name else e) for n, i, e in cases])
        return
    assert emitted == expected


def test_every_fixture_file_has_cases():
    assert [p.name for p in FILES] == [
        "incremental.sql",
        "schema.sql",
        "sources.sql",
        "table_view.sql",
    ]
    assert all(parse_cases(p) for p in FILES)


def golden(file: str, name: str) -> list[str]:
    """The expected statements of one case (comments dropped), to execute."""
    _, _, text = next(c for c in parse_cases(GOLDEN / file) if c[0] == name)
    chunks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("/* ") and not current:
            continue
        current.append(line)
        if line.endswith(";"):
            chunks.append("\n".join(current)[:-1])
            current = []
    return chunks


def inputs_of(file: str, name: str) -> dict[str, str]:
    return next(c[1] for c in parse_cases(GOLDEN / file) if c[0] == name)


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("CREATE SCHEMA analytics")
    connection.execute(
        "CREATE TABLE main.events AS SELECT i AS id, DATE '2024-01-01' + (i // 3)::INTEGER AS day, "
        "i * 10 AS amount FROM range(0, 9) t(i)"
    )
    yield connection
    connection.close()


def run(con, statements: list[str]) -> None:
    """As the executor publishes: one transaction."""
    con.execute("BEGIN")
    for statement in statements:
        con.execute(statement)
    con.execute("COMMIT")


def rows(con, sql: str = 'SELECT * FROM "analytics"."orders" ORDER BY ALL') -> list[tuple]:
    return con.execute(sql).fetchall()


def write_of(file: str, name: str) -> materialize.Write:
    inputs = inputs_of(file, name)
    return materialize.build(
        make_model(inputs),
        inputs["query"],
        make_window(inputs),
        inputs.get("existing") or None,
        into_shadow=inputs.get("into_shadow") == "true",
        shadow_exists=inputs.get("shadow_exists") == "true",
    )


def test_table_build_replaces_a_view_and_is_idempotent(con):
    con.execute('CREATE VIEW "analytics"."orders" AS SELECT 1 AS x')
    run(con, golden("table_view.sql", "table_replaces_view"))
    first = rows(con)
    assert len(first) == 9
    run(con, golden("table_view.sql", "table_over_table"))
    assert rows(con) == first
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'orders'"
    ).fetchone()
    assert kind == ("BASE TABLE",)


def test_view_replaces_a_table(con):
    run(con, golden("table_view.sql", "table_over_table"))
    run(con, golden("table_view.sql", "view_replaces_table"))
    assert len(rows(con)) == 9
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'orders'"
    ).fetchone()
    assert kind == ("VIEW",)


def test_window_overwrite_touches_only_its_window_and_is_idempotent(con):
    run(con, golden("incremental.sql", "overwrite_first_window"))
    assert rows(con) == [(0, datetime(2024, 1, 1).date(), 0), (1, datetime(2024, 1, 1).date(), 10),
                         (2, datetime(2024, 1, 1).date(), 20)]  # fmt: skip
    # another window is added beside it; the first window is untouched
    con.execute("UPDATE main.events SET amount = amount + 1")
    run(con, golden("incremental.sql", "overwrite_window"))
    once = rows(con)
    assert [r[2] for r in once] == [0, 10, 20, 31, 41, 51]
    run(con, golden("incremental.sql", "overwrite_window"))
    assert rows(con) == once


def test_window_overwrite_refuses_a_row_outside_its_window(con):
    run(con, golden("incremental.sql", "overwrite_first_window"))
    before = rows(con)
    write = materialize.build(
        make_model(inputs_of("incremental.sql", "overwrite_window")),
        "SELECT * FROM main.events",  # every day, not only the window
        make_window(inputs_of("incremental.sql", "overwrite_window")),
        "table",
    )
    con.execute("BEGIN")
    with pytest.raises(duckdb.Error, match=materialize.GUARD):
        for statement in write.statements:
            con.execute(statement)
    con.execute("ROLLBACK")
    assert rows(con) == before
    assert write.guard is not None
    outside = con.execute(write.guard.count).fetchone()[0]
    assert outside == 6
    assert "6 row(s) with day outside partition 2024-01-02" in write.guard.message(outside)


def merge(con, write: materialize.Write) -> tuple:
    con.execute("BEGIN")
    for statement in write.statements:
        con.execute(statement)
    audit = con.execute(write.audit).fetchone() if write.audit else None
    for statement in write.finish:
        con.execute(statement)
    con.execute("COMMIT")
    return audit


def test_merge_by_unique_key_upserts_and_is_idempotent(con):
    first = write_of("incremental.sql", "merge_first_window")
    assert [s for s in first.statements + first.finish] == golden(
        "incremental.sql", "merge_first_window"
    )[:1] + golden("incremental.sql", "merge_first_window")[2:]
    assert merge(con, first) == (0, 0, 0)
    con.execute("UPDATE main.events SET amount = amount + 1 WHERE id = 1")
    again = write_of("incremental.sql", "merge_window")
    assert merge(con, again) == (0, 0, 0)
    once = rows(con)
    assert [r[2] for r in once] == [0, 11, 20]
    merge(con, again)
    assert rows(con) == once
    assert first.judge is not None and first.judge((0, 0, 0), 3) is None
    assert "NULL in unique_key" in first.judge((0, 2, 0), 3)
    assert "duplicate unique_key" in first.judge((0, 0, 1), 3)


def test_full_refresh_builds_the_shadow_then_swaps_it_in(con):
    run(con, golden("incremental.sql", "overwrite_first_window"))
    run(con, [golden("incremental.sql", "drop_shadow")[0]])
    run(con, golden("incremental.sql", "full_refresh_into_shadow"))
    # readers still see the old table until the swap commits
    assert len(rows(con)) == 3
    assert len(rows(con, 'SELECT * FROM "analytics"."orders__refresh"')) == 3
    run(con, golden("incremental.sql", "full_refresh_next_window_into_shadow"))
    run(con, golden("incremental.sql", "swap_shadow"))
    assert len(rows(con)) == 6
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders__refresh'"
    ).fetchone() == (0,)


def test_schema_evolution_adds_columns_null_in_older_partitions(con):
    run(con, golden("incremental.sql", "overwrite_first_window"))
    run(con, golden("schema.sql", "evolve_adds_columns"))
    columns = con.execute('DESCRIBE "analytics"."orders"').fetchall()
    assert [(c[0], c[1]) for c in columns][-2:] == [("channel", "VARCHAR"), ("net", "DOUBLE")]
    assert {r[3] for r in rows(con)} == {None}


def test_search_path_and_create_schema_resolve_unqualified_names(con):
    run(con, golden("schema.sql", "create_schema"))
    con.execute(golden("schema.sql", "search_path")[0])
    con.execute("CREATE TABLE marts.t AS SELECT 1 AS x")
    assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(9,)]


def test_source_views_read_files_by_name(con, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "2024-01-01.csv").write_text("id,day,amount\n1,2024-01-01,5\n2,2024-01-01,7\n")
    (data / "2024-01-02.csv").write_text("day,id,amount\n2024-01-02,3,9\n")
    inputs = inputs_of("sources.sql", "csv_typed_by_partition")
    source = make_source(inputs)
    pattern = str(data / "*.csv")
    con.execute("CREATE SCHEMA raw")
    typed, plain = materialize.source_views(source, pattern)
    assert typed == golden("sources.sql", "csv_typed_by_partition")[0].replace(
        inputs["pattern"], pattern
    )
    con.execute(typed)
    assert con.execute("SELECT id, amount FROM raw.events ORDER BY id").fetchall() == [
        (1, 5), (2, 7), (3, 9)
    ]  # fmt: skip
    con.execute(materialize.set_files("raw.events", [str(data / "2024-01-02.csv")]))
    assert con.execute("SELECT id FROM raw.events").fetchall() == [(3,)]
    con.execute(materialize.set_files("raw.events", None))
    con.execute(plain)
    assert con.execute("SELECT count(*) FROM raw.events").fetchone() == (3,)
    described = DuckDB(con).describe("SELECT * FROM raw.events")
    assert [name for name, _ in described] == ["id", "day", "amount"]

"""app.catalog on a real warehouse in tmp_path: the models table mirrors the project, and each
declared file source becomes a view over its files, made again only when its statement changed;
a source whose view DuckDB refuses is reported with DuckDB's reason."""

from __future__ import annotations

from contextlib import closing

import pytest

from orchestrator.app import catalog, maintenance
from orchestrator.app.workspace import open_workspace
from orchestrator.engines import engine
from orchestrator.sources import survey

EVENTS = '[sources."raw.events"]\npath = "data/events_{date}.csv"\n'


def synced(project):
    """The workspace, the warehouse's state made, and a writer's connection to it."""
    ws = open_workspace(project.root)
    maintenance.init_warehouse(ws)
    return ws, closing(engine.connect(ws.warehouse))


@pytest.fixture
def events(project):
    project.write("orchestrator.toml", EVENTS)
    project.write("data/events_2024-01-01.csv", "id,d\n1,2024-01-01\n")
    project.model("s.ev", "select id from raw.events")
    return project


def test_the_models_table_mirrors_the_project_and_is_rewritten_only_on_change(project):
    project.model("s.a", "-- tags: daily\n-- owner: ada\nselect 1 as x")
    project.model("s.b", "select x from s.a")
    ws, connection = synced(project)
    with connection as con:
        catalog.sync_catalog(ws, con)
        rows = con.execute(
            "select name, kind, owner, tags, upstream, path, updated_at from orchestrator.models "
            "order by name"
        ).fetchall()
        assert [r[:6] for r in rows] == [
            ("s.a", "table", "ada", ["daily"], [], "models/s/a.sql"),
            ("s.b", "table", None, [], ["s.a"], "models/s/b.sql"),
        ]
        catalog.sync_catalog(open_workspace(project.root), con)
        again = con.execute("select updated_at from orchestrator.models order by name").fetchall()
        assert again == [(r[6],) for r in rows]


def test_a_declared_file_source_becomes_a_view_over_its_files(events):
    ws, connection = synced(events)
    with connection as con:
        assert catalog.sync_source_views(ws, con, survey.take(ws.project)) == {}
        assert con.execute("select id from raw.events").fetchall() == [(1,)]
        remembered = con.execute(
            "select substr(key, 13) from orchestrator.meta where key like 'source_view:%'"
        ).fetchall()
        assert remembered == [("raw.events",)]


def test_an_unchanged_view_is_not_made_again(events):
    ws, connection = synced(events)
    with connection as con:
        catalog.sync_source_views(ws, con, survey.take(ws.project))
        con.execute("create or replace view raw.events as select 42 as id")
        catalog.sync_source_views(ws, con, survey.take(ws.project))
        assert con.execute("select id from raw.events").fetchall() == [(42,)]
        # a source declared otherwise is a new statement: its view is made again
        events.write("orchestrator.toml", EVENTS + "read_by_partition = true\n")
        changed = open_workspace(events.root)
        assert catalog.sync_source_views(changed, con, survey.take(changed.project)) == {}
        assert con.execute("select id from raw.events").fetchall() == [(1,)]


def test_a_source_with_no_file_yet_gets_no_view(project):
    project.write("orchestrator.toml", EVENTS)
    project.model("s.ev", "select id from raw.events")
    ws, connection = synced(project)
    with connection as con:
        assert catalog.sync_source_views(ws, con, survey.take(ws.project)) == {}
        assert con.execute(
            "select count(*) from duckdb_views() where view_name = 'events'"
        ).fetchone() == (0,)


def test_a_view_duckdb_cannot_make_is_reported_with_its_reason(project):
    project.write("orchestrator.toml", '[sources."raw.blob"]\npath = "data/blob.parquet"\n')
    project.write("data/blob.parquet", "this is no parquet file\n")
    project.model("s.b", "select * from raw.blob")
    ws, connection = synced(project)
    with connection as con:
        unreadable = catalog.sync_source_views(ws, con, survey.take(ws.project))
    assert list(unreadable) == ["raw.blob"]
    assert "blob.parquet" in unreadable["raw.blob"] and "\n" not in unreadable["raw.blob"]

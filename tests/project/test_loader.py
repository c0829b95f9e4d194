"""Loading a project from its files (`project.loader.load`): model names and versions, models
that do not load (broken, not the project), headers checked against the SQL, owner names."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import loader as project_mod
from orchestrator.project.model import Kind


def test_bare_models_folder_needs_no_config(project):
    project.model("staging.a", "select 1 as x")
    project.write("models/top.sql", "select 2 as y")
    project.write("models/marts/finance/deep.sql", "select 3 as z")
    p = project_mod.load(project.root, strict=True)
    assert set(p.models) == {"staging.a", "main.top", "marts.deep"}
    assert p.settings.warehouse == project.root / "warehouse.duckdb"
    assert p.models["staging.a"].kind is Kind.TABLE


def test_non_utf8_file_is_an_error_with_line(project):
    path = project.root / "models" / "s" / "m.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"select 1\n-- caf\xe9\n")
    with pytest.raises(ProjectError, match=r"models/s/m.sql:2: file is not UTF-8"):
        project_mod.load(project.root, strict=True)


def test_a_model_that_does_not_load_is_broken_not_the_project(project):
    """Its error (file, line) is kept and its header when that parsed; what it reads cannot be
    known, so it reads nothing; the other models load as ever. `strict` raises it."""
    project.model("s.good", "select 1 as x")
    project.model("s.typo", "-- kind: view\n-- owner: finance\nselect x form s.good")
    project.model("s.header", "-- knd: table\nselect 1 as y")
    loaded = project_mod.load(project.root)
    assert not loaded.models["s.good"].broken
    typo = loaded.models["s.typo"]
    assert str(typo.broken).startswith("models/s/typo.sql:3: SQL syntax error")
    assert (typo.broken.path, typo.broken.line) == ("models/s/typo.sql", 3)
    assert typo.kind is Kind.VIEW and typo.owner == "finance" and typo.tables == ()
    header = loaded.models["s.header"]
    assert "models/s/header.sql:1: unknown header key 'knd'" in str(header.broken)
    assert header.kind is Kind.TABLE  # the header did not parse: the defaults
    with pytest.raises(ProjectError, match="models/s/header.sql:1: unknown header key"):
        project_mod.load(project.root, strict=True)


def test_a_reference_that_cannot_be_right_breaks_that_model_only(project):
    from orchestrator.app.workspace import open_workspace

    project.model("s.orders", "select 1 as id")
    project.model("s.typo", "select * from s.order")
    project.model("s.reader", "select * from s.typo")
    project.model("s.dep", "-- depends_on: s.nope\nselect 1 as z")
    ws = open_workspace(project.root)
    assert "'s.order' is neither a model nor a declared source (did you mean: s.orders" in str(
        ws.dag.models["s.typo"].broken
    )
    assert "depends_on: no model named 's.nope'" in str(ws.dag.models["s.dep"].broken)
    assert not ws.dag.models["s.reader"].broken  # held back by the planner, not broken
    assert ws.dag.upstream["s.reader"] == ("s.typo",)


@pytest.mark.parametrize(
    ("relpath", "message"),
    [
        ("models/s/bad-name.sql", "not a SQL identifier"),
        ("models/orchestrator/m.sql", "reserved"),
    ],
)
def test_bad_model_names(project, relpath, message):
    project.write(relpath, "select 1")
    with pytest.raises(ProjectError, match=message):
        project_mod.load(project.root, strict=True)


def test_two_files_one_name(project):
    project.write("models/s/m.sql", "select 1")
    project.write("models/s/sub/m.sql", "select 2")
    with pytest.raises(ProjectError, match="defined twice"):
        project_mod.load(project.root, strict=True)


def test_version_ignores_comments_but_not_data_settings(project):
    path = project.model("s.m", "select 1 as d")
    v1 = project_mod.load(project.root, strict=True).models["s.m"].version
    path.write_text("-- owner: someone\n-- a comment\nSELECT 1   AS d -- trailing\n")
    assert project_mod.load(project.root, strict=True).models["s.m"].version == v1
    path.write_text("-- kind: view\nselect 1 as d")
    assert project_mod.load(project.root, strict=True).models["s.m"].version != v1


def test_byte_order_mark_is_ignored(project):
    path = project.root / "models" / "s" / "m.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes("\ufeff-- kind: view\nselect 1 as x\n".encode())
    assert project_mod.load(project.root, strict=True).models["s.m"].kind is Kind.VIEW


@pytest.mark.parametrize(
    ("header", "body", "line", "name"),
    [
        ("-- kind: table", "select 1 as d\nfrom t\nwhere d >= {{ start }}", 4, "start"),
        ("-- kind: view", "select 1 as d\nwhere {{ end }} is not null", 3, "end"),
        ("", "select 1 as d\n{% if true %}where d < {{ end }}{% endif %}", 2, "end"),
        ("-- kind: table", "select {{ start ~ '' }} as d\n{# a comment #}", 2, "start"),
    ],
)
def test_window_in_a_table_or_view_is_an_error(project, header, body, line, name):
    project.write("models/s/m.sql", f"{header}\n{body}\n" if header else f"{body}\n")
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root, strict=True)
    assert info.value.path == "models/s/m.sql"
    assert info.value.line == line
    assert f"{{{{ {name} }}}} is the partition window of an incremental model" in str(info.value)


def test_window_names_a_template_sets_itself_are_not_the_window(project):
    project.model("s.m", "{% set start = 1 %}select {{ start }} as d")
    assert project_mod.load(project.root, strict=True).models["s.m"].kind is Kind.TABLE


def test_version_folds_in_the_settings_of_the_sources_read(project):
    config = '[sources."raw.files"]\npath = "data/*.csv"\n'
    project.write("orchestrator.toml", config)
    project.model("s.reader", "select * from raw.files")
    project.model("raw.unqualified", "select * from files")  # found through the search path
    project.model("s.other", "select 1 as one")

    def versions():
        return {n: m.version for n, m in project_mod.load(project.root, strict=True).models.items()}

    first = versions()
    for changed in (
        '[sources."raw.files"]\npath = "elsewhere/*.csv"\n',
        config + 'format = "csv"\noptions = { delim = ";" }\n',
        config + 'columns = { id = "BIGINT" }\n',
        config.replace("*.csv", "*.json"),
    ):
        project.write("orchestrator.toml", changed)
        now = versions()
        assert now["s.reader"] != first["s.reader"], changed
        assert now["raw.unqualified"] != first["raw.unqualified"], changed
        assert now["s.other"] == first["s.other"]
    project.write("orchestrator.toml", config + 'owner = "someone"\nwarn_after = "1h"\n')
    assert versions() == first  # who owns it and how fresh it must be do not change data


@pytest.mark.parametrize(
    ("header", "line", "message"),
    [
        ("-- check: unique(nope)", 1, "check unique(nope): the model has no column 'nope'"),
        ("-- check: not_null(amont)", 1, "no column 'amont' (did you mean: amount?)"),
        (
            "-- kind: incremental\n-- partition_by: dayy",
            2,
            "partition_by: the model has no column 'dayy' (did you mean: day?); "
            "its SELECT returns: id, day, amount",
        ),
    ],
)
def test_a_column_the_header_names_must_be_one_the_select_returns(project, header, line, message):
    """Issue 10, item 12: when the SELECT names its columns, a typo is caught at load."""
    project.model("s.m", f"{header}\nselect id, day, amount from raw.t\n")
    with pytest.raises(ProjectError) as info:
        project_mod.load(project.root, strict=True)
    assert (info.value.path, info.value.line) == ("models/s/m.sql", line)
    assert message in str(info.value)


def test_columns_are_not_judged_when_the_select_does_not_name_them(project):
    project.model("s.m", "-- check: unique(anything)\nselect * from raw.t\n")
    project.model("s.n", "-- check: unique(x)\nselect x, count(*) from raw.t group by x\n")
    models = project_mod.load(project.root, strict=True).models
    assert models["s.m"].columns is None and models["s.n"].columns is None


@pytest.mark.parametrize(
    "where, written",
    [
        ("model", "models/s/m.sql:1: owner 'analytcs' is not one of [owners]"),
        ("source", "orchestrator.toml:6: owner 'analytcs' is not one of [owners]"),
        ("job", "orchestrator.toml:9: owner 'analytcs' is not one of [owners]"),
    ],
)
def test_a_misspelt_owner_is_an_error_with_the_close_name(project, where, written):
    project.write(
        "orchestrator.toml",
        f"""
        [owners.analytics]
        log = "alerts.log"

        [sources."raw.events"]
        path = "data/*.csv"
        owner = "{"analytcs" if where == "source" else "analytics"}"

        [jobs.daily]
        owner = "{"analytcs" if where == "job" else "analytics"}"
        select = "s.m"
        cron = "0 6 * * *"
        """,
    )
    owner = "analytcs" if where == "model" else "growth team"  # a label far from any owner
    project.model("s.m", f"-- owner: {owner}\nselect 1 as x")
    with pytest.raises(ProjectError, match="did you mean: analytics") as raised:  # noqa: PT012
        project_mod.load(project.root, strict=True)
    assert written in str(raised.value)


def test_an_owner_far_from_every_owner_is_a_label(project):
    project.write("orchestrator.toml", '[owners.analytics]\nlog = "alerts.log"\n')
    project.model("s.m", "-- owner: growth team\nselect 1 as x")
    assert project_mod.load(project.root, strict=True).models["s.m"].owner == "growth team"

"""dbt models that query the warehouse while compiling (`dbt_utils.get_column_values`,
`run_query`, `{% call statement %}` + `load_result`, `get_single_value`,
`get_query_results_as_dict`) are imported with their dbt source and rendered when they run,
with the values of the warehouse then: a new value in the data is a new column on the next
build. Errors of such a model name its file and line when it runs, and it never runs on Spark."""

from __future__ import annotations

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

PROJECT = {
    "dbt_project.yml": """
        name: rt
        profile: rt
        vars:
          min_amount: 0
        models:
          rt:
            +materialized: table
        """,
    "packages.yml": """
        packages:
          - package: dbt-labs/dbt_utils
            version: 1.3.3
        """,
    "seeds/payments.csv": """
        order_id,method,amount
        1,card,10
        1,coupon,2
        2,card,5
        3,bank,7
        """,
    "macros/pivot_sum.sql": """
        {% macro pivot_sum(column, value, values) %}
          {%- for v in values %}
          sum(case when {{ column }} = '{{ v }}' then {{ value }} else 0 end) as {{ v }}_amount
          {%- if not loop.last %},{% endif -%}
          {% endfor %}
        {% endmacro %}
        """,
    "models/stg_payments.sql": """
        select * from {{ ref('payments') }} where amount > {{ var('min_amount') }}
        """,
    "models/pivoted.sql": """
        {% set methods = dbt_utils.get_column_values(ref('stg_payments'), 'method',
                                                     order_by='method') %}
        select order_id, {{ pivot_sum('method', 'amount', methods) }}
        from {{ ref('stg_payments') }}
        group by 1
        """,
    "models/biggest.sql": """
        {% set found = run_query('select max(amount) from ' ~ ref('stg_payments')) %}
        {% if execute %}{% set top = found.columns[0].values()[0] %}{% else %}{% set top = 0 %}
        {% endif %}
        select order_id, amount from {{ ref('stg_payments') }} where amount = {{ top }}
        """,
    "models/counted.sql": """
        {% call statement('n', fetch_result=True) %}
          select count(*) from {{ ref('stg_payments') }}
        {% endcall %}
        {% set n = load_result('n')['data'][0][0] if execute else 0 %}
        {% set single = dbt_utils.get_single_value('select min(amount) from '
                                                   ~ ref('stg_payments')) %}
        {% set as_dict = dbt_utils.get_query_results_as_dict('select method from '
                                                             ~ ref('stg_payments')) %}
        select {{ n }} as payments, {{ single or 0 }} as smallest,
               {{ (as_dict.get('METHOD') or []) | length }} as listed
        """,
}


def _imported(tmp_path) -> ProjectDir:
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in PROJECT.items():
        dbt.write(rel, text)
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stderr
    return ours


def test_models_that_query_while_compiling_render_when_they_run(tmp_path):
    ours = _imported(tmp_path)
    pivoted = (ours.root / "models/main/pivoted.sql").read_text()
    assert "-- renderer: dbt" in pivoted and "-- depends_on: main.stg_payments" in pivoted
    assert "get_column_values" in pivoted  # the dbt source, kept
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "rendered by dbt's Jinja when it runs" in report
    run = ours.cli("run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert ours.query("select * from main.pivoted order by 1") == [
        (1, 0, 10, 2),
        (2, 0, 5, 0),
        (3, 7, 0, 0),
    ]
    columns = [r[0] for r in ours.query("describe main.pivoted")]
    assert columns == ["order_id", "bank_amount", "card_amount", "coupon_amount"]
    assert ours.query("select * from main.biggest") == [(1, 10)]
    assert ours.query("select * from main.counted") == [(4, 2, 4)]
    compiled = ours.cli("compile", "main.pivoted")
    assert "sum(case when method = 'bank' then amount else 0 end) as bank_amount" in (
        compiled.stdout
    )


def test_a_new_value_in_the_data_is_a_new_column_on_the_next_build(tmp_path):
    ours = _imported(tmp_path)
    assert ours.cli("run").returncode == 0
    seed = ours.root / "seeds/main/payments.csv"
    seed.write_text(seed.read_text() + "4,gift,3\n")
    again = ours.cli("run")
    assert again.returncode == 0, again.stdout + again.stderr
    columns = [r[0] for r in ours.query("describe main.pivoted")]
    assert columns[-1] == "gift_amount"
    assert ours.query("select gift_amount from main.pivoted where order_id = 4") == [(3,)]
    assert "main.pivoted" not in ours.cli("run").stdout  # built from what is there now


def test_an_edited_macro_makes_the_models_it_renders_stale(tmp_path):
    ours = _imported(tmp_path)
    assert ours.cli("run").returncode == 0
    macro = ours.root / "dbt/macros/pivot_sum.sql"
    macro.write_text(macro.read_text().replace("else 0 end", "else null end"))
    plan = ours.cli("plan")
    stale = [x.split()[0] for x in plan.stdout.splitlines() if "stale: model changed" in x]
    assert stale == ["main.biggest", "main.counted", "main.pivoted"]
    assert ours.cli("run").returncode == 0
    assert ours.query("select bank_amount from main.pivoted where order_id = 1") == [(None,)]


def test_a_failing_render_names_the_file_and_line_when_it_runs(tmp_path):
    ours = _imported(tmp_path)
    model = ours.root / "models/main/biggest.sql"
    model.write_text(model.read_text().replace("found.columns[0]", "found.nothing[0]"))
    run = ours.cli("run")
    assert run.returncode == 1
    failed = next(x for x in run.stdout.splitlines() if "failed: main.biggest" in x)
    assert "models/main/biggest.sql:" in failed and "dbt rendering" in failed
    assert ours.query("select count(*) from main.pivoted") == [(3,)]  # the rest built


def test_without_the_dbt_folder_the_model_does_not_load(tmp_path):
    ours = _imported(tmp_path)
    import shutil

    shutil.rmtree(ours.root / "dbt")
    plan = ours.cli("plan")  # each such model is broken (held back), the rest plans
    assert plan.returncode == 1
    broken = [x for x in plan.stdout.splitlines() if ": broken: models/main/" in x]
    assert broken and all("renderer: dbt needs the project's dbt/ folder" in x for x in broken)


def test_a_query_result_reads_as_dbts_agate_table():
    from orchestrator.sql.dbt.runtime import Table

    table = Table(["a", "b"], [(1, "x"), (2, "y")])
    assert (table.column_names, len(table), [tuple(r) for r in table]) == (
        ["a", "b"],
        2,
        [(1, "x"), (2, "y")],
    )
    assert table.columns[0].values() == (1, 2) and list(table.columns["b"]) == ["x", "y"]
    assert table.rows[1]["b"] == "y" and table.rows[0].keys() == ["a", "b"]


def test_the_bundle_holds_the_macros_and_context_and_renders_a_model_with_its_queries(tmp_path):
    import duckdb

    from orchestrator.sql.dbt.nodes import Target
    from orchestrator.sql.dbt.project import read
    from orchestrator.sql.dbt.runtime import bundle, render

    dbt = ProjectDir(tmp_path / "dbt")
    dbt.write("dbt_project.yml", "name: rt\nvars:\n  n: 2\n")
    dbt.write("macros/top.sql", "{% macro top(n) %}limit {{ n }}{% endmacro %}")
    dbt.write("models/m.sql", "select 1")
    files = bundle(read(dbt.root), Target("dev", "main"), {"pay": "s.pay"}, {})
    assert sorted(files) == ["dbt/context.json", "dbt/dbt_project.yml", "dbt/macros/top.sql"]
    ours = ProjectDir(tmp_path / "ours")
    for rel, text in files.items():
        ours.write(rel, text)
    con = duckdb.connect()
    con.execute("create schema s; create table s.pay as select * from range(5) t(v)")

    def query(sql):
        result = con.execute(sql)
        return [d[0] for d in result.description], result.fetchall()

    text = (
        "{% set vs = dbt_utils.get_column_values(ref('pay'), 'v', order_by='v desc') %}"
        "select {{ vs | join(', ') }} from {{ this }} {{ top(var('n')) }}"
    )
    done = render(
        text,
        root=ours.root,
        digest="1",
        relpath="models/m.sql",
        this="s.m",
        incremental=False,
        query=query,
    )
    assert done == "select 4, 3, 2, 1, 0 from s.m limit 2"

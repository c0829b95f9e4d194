"""dbt_utils without `dbt_packages/`: `import dbt` expands its macros and generic tests natively
and the tables built are those dbt-duckdb builds with the real package (the expected values
below are what dbt 1.11 with dbt-duckdb 1.10 and dbt_utils 1.3 built from this project; what
needs the catalog or the data while compiling is reported instead, by name."""

from __future__ import annotations

import math

import pytest
from conftest import ProjectDir

pytest.importorskip("yaml", reason="needs PyYAML (the dbt extra)")

NOW = "2024-01-04T06:00"

UTILS = {
    "dbt_project.yml": """
        name: cov
        profile: cov
        models:
          cov:
            +materialized: table
        """,
    "packages.yml": """
        packages:
          - package: dbt-labs/dbt_utils
            version: 1.4.1
        """,
    "models/base.sql": """
        select * from (values
            (1, 'x', 'placed', 10, 'hidden', true),
            (2, null, 'it''s', 5, 'h', false),
            (3, 'z', 'placed', 7, 'h', null)) t(id, code, status, amount, "Secret", flag)
        """,
    "models/other.sql": """
        select 'w' as code, 4 as id, 2.5 as ratio
        """,
    "models/star_except.sql": """
        select {{ dbt_utils.star(ref('base'), except=['SECRET', 'not_a_column']) }}
        from {{ ref('base') }}
        """,
    "models/star_affixed.sql": """
        select {{ dbt_utils.star(from=ref('base'), except=['secret', 'flag'], prefix='b_',
                                 suffix='_v') }}
        from {{ ref('base') }}
        """,
    "models/star_joined.sql": """
        select {{ dbt_utils.star(ref('base'), relation_alias='b', except=['secret']) }},
               o.ratio
        from {{ ref('base') }} b left join {{ ref('other') }} o on o.id = b.id + 3
        """,
    "models/star_unquoted.sql": """
        select {{ dbt_utils.star(ref('other'), quote_identifiers=false, prefix='o_') }},
               {{ dbt_utils.star(ref('other'), relation_alias='q', rename={'code': 'c2'}) }}
        from {{ ref('other') }} q
        """,
    "models/pivoted.sql": """
        select amount > 6 as big,
          {{ dbt_utils.pivot('status', ['placed', "it's"]) }},
          {{ dbt_utils.pivot('status', ["it's"], quote_identifiers=false, prefix='n ',
                             agg='max', then_value='id', else_value='null') }}
        from {{ ref('base') }} {{ dbt_utils.group_by(1) }}
        """,
    "models/long.sql": """
        {{ dbt_utils.unpivot(ref('base'), cast_to='varchar', exclude=['id'],
                             remove=['Secret'], field_name='f', value_name='v') }}
        """,
    "models/unioned.sql": """
        {{ dbt_utils.union_relations([ref('base'), ref('other')], exclude=['secret', 'flag'],
                                     source_column_name='came_from') }}
        """,
    "models/unioned_some.sql": """
        {{ dbt_utils.union_relations([ref('other'), ref('base')], include=['ID', 'code'],
                                     source_column_name=none) }}
        """,
    "models/macros.sql": """
        select
          {{ dbt_utils.haversine_distance(48.85, 2.35, 51.5, -0.12) }} as miles,
          {{ dbt_utils.haversine_distance(48.85, 2.35, 51.5, -0.12, unit='km') }} as km,
          {{ dbt_utils.safe_add(['1', 'null', '2']) }} as added,
          {{ dbt_utils.safe_subtract(['10', 'null', '2']) }} as subtracted,
          {{ dbt_utils.safe_divide('7', '0') }} as by_zero,
          {{ dbt_utils.safe_divide('7', '2') }} as halved,
          {{ dbt_utils.width_bucket('5.0', '0', '10', '4') }} as bucket_edge,
          {{ dbt_utils.width_bucket('11', '0', '10', '4') }} as bucket_above,
          {{ dbt_utils.get_url_host("'https://ex.com/a/b?x=1&utm_source=news'") }} as host,
          {{ dbt_utils.get_url_path("'https://ex.com/a/b?x=1&utm_source=news'") }} as path,
          {{ dbt_utils.get_url_parameter("'https://ex.com/a/b?x=1&utm_source=news'",
                                         'utm_source') }} as source,
          {{ dbt_utils.get_url_parameter("'https://ex.com/a'", 'x') }} as no_param,
          '{{ dbt_utils.slugify('1st Place - Top!') }}' as slug,
          {{ dbt_utils.generate_surrogate_key(['1', 'null']) }} as sk,
          cast(1.5 as {{ dbt.type_float() }}) as f, cast(2 as {{ dbt.type_int() }}) as i,
          cast(2.5 as {{ dbt.type_numeric() }}) as n, cast(3 as {{ dbt.type_bigint() }}) as bi,
          cast('t' as {{ dbt.type_string() }}) as s,
          cast('2024-01-01' as {{ dbt.type_timestamp() }}) as ts,
          {{ dbt.datediff("date '2024-01-01'", "date '2024-01-17'", 'week') }} as weeks,
          {{ dbt.dateadd('quarter', 1, "date '2024-01-31'") }} as next_quarter,
          {{ dbt.last_day("date '2024-02-10'", 'month') }} as month_end
        """,
    "models/dupes.sql": """
        select * from (values (1, 'a', 1), (1, 'b', 2), (2, 'c', 1), (2, 'c', 1),
                              (3, null, 5), (3, 'd', 4)) t(k, v, n)
        """,
    "models/deduped.sql": """
        {{ dbt_utils.deduplicate(ref('dupes'), partition_by='k', order_by='n desc') }}
        """,
    "models/series.sql": "{{ dbt_utils.generate_series(5) }}",
    "models/spine.sql": """
        {{ dbt_utils.date_spine('week', "cast('2024-01-01' as date)",
                                "cast('2024-01-29' as date)") }}
        """,
    "models/cleaned.sql": "{{ dbt_utils.nullcheck_table(ref('blanks')) }}",
    "models/blanks.sql": "select '' as a, 1 as b, 'x' as c union all select 'y', 2, ''",
    "models/ranges.sql": """
        select * from (values (1, 0, 5), (1, 5, 9), (2, 0, 3), (2, 2, 6)) t(g, lo, hi)
        """,
    "models/schema.yml": """
        models:
          - name: base
            data_tests:
              - dbt_utils.equality:
                  compare_model: ref('star_except')
                  exclude_columns: [secret]
              - dbt_utils.fewer_rows_than:
                  compare_model: ref('dupes')
            columns:
              - name: status
                data_tests:
                  - dbt_utils.not_accepted_values:
                      values: ['shipped']
              - name: id
                data_tests:
                  - dbt_utils.sequential_values
          - name: other
            data_tests:
              - dbt_utils.equality:
                  compare_model: ref('star_except')
                  compare_columns: [id, code]
                  config: {severity: warn}
              - dbt_utils.fewer_rows_than:
                  compare_model: ref('ranges')
            columns:
              - name: code
                data_tests:
                  - dbt_utils.not_accepted_values:
                      values: ['w']
                      config: {severity: warn}
          - name: dupes
            columns:
              - name: k
                data_tests:
                  - dbt_utils.sequential_values:
                      config: {severity: warn}
          - name: ranges
            data_tests:
              - dbt_utils.fewer_rows_than:
                  compare_model: ref('base')
                  config: {severity: warn}
              - dbt_utils.mutually_exclusive_ranges:
                  lower_bound_column: lo
                  upper_bound_column: hi
                  partition_by: g
                  config: {severity: warn}
              - dbt_utils.mutually_exclusive_ranges:
                  lower_bound_column: lo
                  upper_bound_column: hi
                  config:
                    where: "g = 1"
          - name: spine
            columns:
              - name: date_week
                data_tests:
                  - dbt_utils.sequential_values:
                      interval: 7
                      datepart: day
        """,
}


def imported(tmp_path, files):
    dbt = ProjectDir(tmp_path / "dbt")
    for rel, text in files.items():
        dbt.write(rel, text)
    ours = ProjectDir(tmp_path / "ours")
    done = ours.cli("import", "dbt", str(dbt.root), "--out", str(ours.root), now=NOW)
    return ours, done


def columns(ours: ProjectDir, table: str) -> list[tuple[str, str]]:
    return ours.query(
        "select column_name, data_type from information_schema.columns "
        "where table_name = ? order by ordinal_position",
        [table],
    )


def test_dbt_utils_macros_build_what_dbt_builds(tmp_path):
    from datetime import date, datetime
    from decimal import Decimal

    ours, done = imported(tmp_path, UTILS)
    assert done.returncode == 0, done.stdout + done.stderr
    run = ours.cli("run", now=NOW)
    assert run.returncode == 0, run.stdout + run.stderr
    # star: names excluded case-insensitively (one the relation lacks is no error), prefix
    # and suffix, a relation alias in a join, unquoted, rename
    assert [c for c, _ in columns(ours, "star_except")] == [
        "id",
        "code",
        "status",
        "amount",
        "flag",
    ]
    assert [c for c, _ in columns(ours, "star_affixed")] == [
        "b_id_v",
        "b_code_v",
        "b_status_v",
        "b_amount_v",
    ]
    assert ours.query("select * from main.star_joined order by id") == [
        (1, "x", "placed", 10, True, Decimal("2.5")),
        (2, None, "it's", 5, False, None),
        (3, "z", "placed", 7, None, None),
    ]
    assert [c for c, _ in columns(ours, "star_unquoted")] == [
        "o_code",
        "o_id",
        "o_ratio",
        "c2",
        "id",
        "ratio",
    ]
    # pivot: a value with an apostrophe, quoted or slugified as the column's name
    assert columns(ours, "pivoted") == [
        ("big", "BOOLEAN"),
        ("placed", "HUGEINT"),
        ("it's", "HUGEINT"),
        ("n_its", "INTEGER"),
    ]
    assert ours.query("select * from main.pivoted order by big") == [
        (False, 0, 1, 2),
        (True, 2, 0, None),
    ]
    # unpivot keeps NULLs and writes booleans as dbt's text
    assert ours.query("select * from main.long order by all") == [
        (1, "amount", "10"),
        (1, "code", "x"),
        (1, "flag", "true"),
        (1, "status", "placed"),
        (2, "amount", "5"),
        (2, "code", None),
        (2, "flag", "false"),
        (2, "status", "it's"),
        (3, "amount", "7"),
        (3, "code", "z"),
        (3, "flag", None),
        (3, "status", "placed"),
    ]
    # union_relations: the source column first, the columns in order of first appearance
    assert [c for c, _ in columns(ours, "unioned")] == [
        "came_from",
        "id",
        "code",
        "status",
        "amount",
        "ratio",
    ]
    assert ours.query("select came_from, id, ratio from main.unioned order by id") == [
        ('"main"."main"."base"', 1, None),
        ('"main"."main"."base"', 2, None),
        ('"main"."main"."base"', 3, None),
        ('"main"."main"."other"', 4, Decimal("2.5")),
    ]
    assert [c for c, _ in columns(ours, "unioned_some")] == ["code", "id"]
    row = ours.query("select * from main.macros")[0]
    assert math.isclose(row[0], 213.33064260854243) and math.isclose(row[1], 343.3215363756317)
    assert row[2:] == (
        3,
        8,
        None,
        3.5,
        3.0,
        5.0,
        "ex.com",
        "a/b",
        "news",
        None,
        "_1st_place_top",
        "9902a3dc3ffe71035ef18229afae9987",
        1.5,
        2,
        Decimal("2.500000"),
        3,
        "t",
        datetime(2024, 1, 1),
        2,
        datetime(2024, 4, 30),
        date(2024, 2, 29),
    )
    assert [t for _, t in columns(ours, "macros")][14:] == [
        "FLOAT",  # dbt.type_float() is `float`: DuckDB's 4-byte FLOAT, as in dbt
        "INTEGER",
        "DECIMAL(28,6)",
        "BIGINT",
        "VARCHAR",
        "TIMESTAMP",
        "BIGINT",
        "TIMESTAMP",
        "DATE",
    ]
    # deduplicate drops a partition's first row when it holds a NULL (dbt's natural join)
    assert ours.query("select * from main.deduped order by k") == [(1, "b", 2), (2, "c", 1)]
    assert ours.query("select * from main.series") == [(1.0,), (2.0,), (3.0,), (4.0,), (5.0,)]
    assert columns(ours, "spine") == [("date_week", "TIMESTAMP")]
    assert ours.query("select * from main.spine order by 1") == [
        (datetime(2024, 1, d),) for d in (1, 8, 15, 22)
    ]
    assert ours.query("select * from main.cleaned order by b") == [(None, 1, "x"), ("y", 2, None)]
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    assert "the source column names the relation as schema.name" in report
    # the generic tests: pass and warn where dbt's passed and warned
    results = dict(ours.query("select check_name, status from orchestrator.check_results"))
    assert results == {
        "base__equality": "pass",
        "base__fewer_rows_than": "pass",
        "base__not_accepted_values_status": "pass",
        "base__sequential_values_id": "pass",
        "other__equality": "warn",
        "other__fewer_rows_than": "pass",
        "other__not_accepted_values_code": "warn",
        "dupes__sequential_values_k": "warn",
        "ranges__mutually_exclusive_ranges": "warn",  # overlapping in g = 2
        "ranges__mutually_exclusive_ranges_2": "pass",  # where g = 1
        "ranges__fewer_rows_than": "warn",
        "spine__sequential_values_date_week": "pass",
    }


NEEDS = {
    "dbt_project.yml": "name: needs\nmodels:\n  needs:\n    +materialized: table\n",
    "models/base.sql": "select 1 as id, 'a' as code, 2 as amount",
    "models/grouped.sql": """
        select {{ dbt_utils.star(ref('base'), except=['amount']) }}, sum(amount) as total
        from {{ ref('base') }}
        group by {{ dbt_utils.star(ref('base'), except=['amount']) }}
        """,
    "models/by_pattern.sql": """
        {% set rels = dbt_utils.get_relations_by_pattern('main', 'ba%') %}
        select 1 as x
        """,
    "models/filtered.sql": """
        {% set cols = dbt_utils.get_filtered_columns_in_relation(ref('base'), ['id']) %}
        select 1 as x
        """,
    "models/renamed.sql": """
        select {{ dbt_utils.star(ref('base'), rename={'id': 'key'}, prefix='p_') }}
        from {{ ref('base') }}
        """,
    "models/schema.yml": """
        models:
          - name: base
            data_tests:
              - dbt_utils.equality:
                  compare_model: ref('base')
                  precision: 2
        """,
}


def test_what_needs_the_catalog_is_reported_and_a_star_in_group_by_fails(tmp_path):
    ours, done = imported(tmp_path, NEEDS)
    assert done.returncode == 1
    report = (ours.root / "IMPORT_REPORT.md").read_text()
    for why in (
        "dbt_utils.get_relations_by_pattern asks the catalog while compiling",
        "dbt_utils.get_filtered_columns_in_relation asks the catalog while compiling",
        "with rename and prefix/suffix: an alias for each column needs the relation's column",
        "dbt_utils.equality with precision rounds the numeric columns it finds in the catalog",
    ):
        assert why in report
    # dbt writes the column list into the GROUP BY; DuckDB takes no star there: the model
    # fails to build, it never groups by something else
    run = ours.cli("run", now=NOW)
    assert run.returncode != 0
    assert "STAR expression is not supported here" in run.stdout + run.stderr
    assert ours.query("select * from main.base") == [(1, "a", 2)]


def test_slugify_makes_a_value_a_column_name_as_dbt_utils_does():
    from orchestrator.sql.dbt.dbt_utils import slugify

    assert [slugify(v) for v in ("1st Place - Top!", "It's A-b", None)] == [
        "_1st_place_top",
        "its_a_b",
        "",
    ]


def test_surrogate_keys_hash_null_as_each_macro_does():
    import duckdb

    from orchestrator.sql.dbt.dbt_utils import generate_surrogate_key, surrogate_key

    con = duckdb.connect()
    key = con.execute(f"select {generate_surrogate_key(['1', 'null'])}").fetchone()[0]
    assert key == "9902a3dc3ffe71035ef18229afae9987"  # dbt's, as in the build above
    old = con.execute(f"select {surrogate_key('1', 'null')}, {surrogate_key(['1', 'null'])}")
    assert old.fetchone() == ("eb4046d4d10c8ae654fd50bace243939",) * 2  # NULL as ''


def test_contradictory_or_catalog_needing_calls_are_refused_by_name():
    from orchestrator.sql.dbt.dbt_utils import natives
    from orchestrator.sql.dbt.errors import NeedsDatabase
    from orchestrator.sql.dbt.yamlfile import ImportProblem

    macros = natives(lambda text: None)
    with pytest.raises(ImportProblem, match="Both an exclude and include list"):
        macros["union_relations"](["a"], include=["x"], exclude=["y"])
    with pytest.raises(NeedsDatabase, match="get_relations_by_pattern asks the catalog"):
        macros["get_relations_by_pattern"]("main", "ba%")

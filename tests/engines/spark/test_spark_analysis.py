"""Spark's analysis of a run's models before it writes, without a JVM: an engine whose cursor
answers `describe` as Spark's analyser would (refusing what a test names) shows which refusals
stop the run with the model's file, which are left to the run, and that a model the run builds
stands in, by its query, for the models that read it."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.engines.engine import DuckDB
from orchestrator.engines.spark.analysis import _stood_in, refuse_unresolved
from orchestrator.engines.spark.native import Native, SparkError

pytest.importorskip("pyspark", reason="the analysis catches pyspark's own errors")


class Analyser(DuckDB):
    """A cursor on DuckDB that keeps each query Spark would analyse, and refuses those
    containing a key of `refusals` (lower case) with its error."""

    def __init__(self, refusals=None):
        super().__init__(duckdb.connect())
        self.raw.execute("CREATE SCHEMA s")  # the model's schema, for its search_path
        self.analysed: list[str] = []
        self.refusals = refusals or {}

    def cursor(self):
        return self

    def describe(self, query):
        assert isinstance(query, Native)
        self.analysed.append(str(query))
        for word, error in self.refusals.items():
            if word in query.lower():
                raise error
        return []


def _planned(project):
    from orchestrator.app.workspace import open_workspace

    project.model("s.a", "select 1 as x")
    project.model("s.b", "select x, nosuchfunc(x) as y from s.a")
    return open_workspace(project.root).dag, project.api_plan()


def test_sql_spark_cannot_analyse_names_the_models_file(project):
    dag, plan = _planned(project)
    engine = Analyser({"nosuchfunc": SparkError("[UNRESOLVED_ROUTINE] nosuchfunc")})
    with pytest.raises(ProjectError) as refused:
        refuse_unresolved(plan, dag, engine, {})
    assert refused.value.path == "models/s/b.sql"
    assert refused.value.detail.startswith(
        "Spark cannot run this model's SQL: [UNRESOLVED_ROUTINE] nosuchfunc (analysed before"
    )
    assert "nothing was written" in refused.value.detail


def test_a_model_the_run_builds_stands_in_for_what_reads_it(project):
    dag, plan = _planned(project)
    engine = Analyser()
    refuse_unresolved(plan, dag, engine, {})
    assert engine.analysed == [
        "select 1 as x",
        "SELECT x, NOSUCHFUNC(x) AS y FROM (SELECT 1 AS x) AS a",
    ]


@pytest.mark.parametrize(
    "error",
    [
        SparkError("[TABLE_OR_VIEW_NOT_FOUND] raw.events", transient=False),
        SparkError("lost an executor", transient=True),
    ],
)
def test_a_missing_input_or_a_failing_cluster_is_left_to_the_run(project, error):
    dag, plan = _planned(project)
    refuse_unresolved(plan, dag, Analyser({"nosuchfunc": error}), {})


def test_a_query_without_what_the_run_builds_is_left_as_it_is():
    text = "SELECT * FROM s.a JOIN t ON TRUE"
    assert _stood_in(text, {}) == text
    assert _stood_in(text, {"s.other": "SELECT 1 AS x"}) == text
    stood = _stood_in("SELECT * FROM s.a AS k", {"s.a": "SELECT 1 AS x"})
    assert stood == "SELECT * FROM (SELECT 1 AS x) AS k"

"""Before a Spark run writes anything, Spark analyses the SQL of each model the run will build:
names, functions and types are resolved and nothing runs (`session.sql` builds a plan lazily).
SQL that Spark cannot run (a function it does not have, a construct the transpiler carried over
wrongly) is then one error naming the model's file, exit 2, instead of a failed task per
partition and an alert. One analysis per model, for its first task.

A model that the run builds is stood in, for the models that read it, by its own query: what
reads it is analysed against the shape it is about to have, even before it first exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ...core.errors import ProjectError, WarehouseError
from ...core.tasks import Plan, Task
from ...plan.staleness import used_vars
from ...project.dag import DAG
from ...sql import dialects
from ...sql.model_sql import cursor_query, render_model
from ...statements import materialize
from .native import Native, SparkError


def refuse_unresolved(
    plan: Plan,
    dag: DAG,
    engine,
    variables: Mapping[str, str],
    default_schema: str = "main",
    session: Callable[[Task], list[tuple[str, list[str] | None]]] | None = None,
) -> None:
    """Raise ProjectError (the model's file, Spark's reason) when Spark cannot analyse the
    SQL of a model `plan` runs. What Spark cannot analyse yet because an input is not there
    (a source with no file) is left to the run, whose gates hold it back."""
    from pyspark.errors import PySparkException

    first = plan.first_tasks()
    if not first:
        return
    cur = engine.cursor()
    standing: dict[str, str] = {}  # a model this run builds -> its Spark SQL
    for name in dag.ordered(first):
        model, task = dag.models[name], first[name]
        try:
            rendered = render_model(
                model,
                model.window_literals(task.window),
                used_vars(model, variables),
                cursor_query(cur),
            )
            cur.execute(materialize.search_path(model.lookup_schema, default_schema))
            for source, files in session(task) if session else ():
                cur.bind_files(source, files)
            text = _stood_in(cur.model_sql(model, rendered), standing)
        except (WarehouseError, PySparkException):
            continue  # an input not there yet: the run's gates say so
        try:
            cur.describe(Native(text))
        except SparkError as exc:
            if exc.transient or "TABLE_OR_VIEW_NOT_FOUND" in str(exc):
                continue
            raise ProjectError(
                f"Spark cannot run this model's SQL: {exc} (analysed before the run; "
                "nothing was written)",
                model.relpath,
            ) from None
        standing[name.lower()] = text


def _stood_in(text: str, standing: Mapping[str, str]) -> str:
    """`text` with each model of `standing` it reads replaced by that model's query."""
    if not standing:
        return text
    import sqlglot
    from sqlglot import exp

    spark = dialects.spark_dialect()
    tree = sqlglot.parse_one(text, read=spark)
    replaced = False
    for table in list(tree.find_all(exp.Table)):
        key = f"{table.db}.{table.name}".lower()
        if table.db and key in standing:
            query = sqlglot.parse_one(standing[key], read=spark)
            table.replace(exp.Subquery(this=query, alias=exp.TableAlias(this=table.alias_or_name)))
            replaced = True
    return tree.sql(spark) if replaced else text

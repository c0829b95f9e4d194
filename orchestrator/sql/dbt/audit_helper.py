"""audit_helper's comparisons, natively as DuckDB SQL: the queries a team writes while moving a
model (compare the old relation with the new), with the columns audit_helper's give. What it
learns from the catalog (a relation's columns) is DuckDB's `* EXCLUDE` here, so both sides
are compared by the columns of each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .nodes import as_text
from .sqltext import literal
from .yamlfile import as_list


def compare_queries(
    a_query: Any, b_query: Any, primary_key: Any = None, summarize: bool = True, limit: Any = None
) -> str:
    """Each distinct row with whether it is in a, in b or both; summarized: the counts of
    each (in_a, in_b) pair with their share of the total."""
    records = (
        f"with a as (\n{a_query}\n), b as (\n{b_query}\n),\n"
        "all_records as (\n"
        "select *, true as in_a, true as in_b from (select * from a intersect select * from b)\n"
        "union all\n"
        "select *, true as in_a, false as in_b from (select * from a except select * from b)\n"
        "union all\n"
        "select *, false as in_a, true as in_b from (select * from b except select * from a)\n"
        ")\n"
    )
    if summarize:
        return (
            records + "select in_a, in_b, count(*) as count, "
            "round(100.0 * count(*) / sum(count(*)) over (), 2) as percent_of_total "
            "from all_records group by 1, 2 order by in_a desc, in_b desc"
        )
    order = f"{primary_key}, " if primary_key is not None else ""
    tail = f" limit {limit}" if limit else ""
    return (
        records + "select * from all_records where not (in_a and in_b) "
        f"order by {order}in_a desc, in_b desc{tail}"
    )


def compare_relations(
    a_relation: Any,
    b_relation: Any,
    exclude_columns: Any = (),
    primary_key: Any = None,
    summarize: bool = True,
    limit: Any = None,
) -> str:
    excluded = [f'"{c}"' for c in as_list(exclude_columns)]
    columns = f"* EXCLUDE ({', '.join(excluded)})" if excluded else "*"
    return compare_queries(
        f"select {columns} from {a_relation}",
        f"select {columns} from {b_relation}",
        primary_key,
        summarize,
        limit,
    )


def compare_row_counts(a_relation: Any, b_relation: Any) -> str:
    return (
        f"select {literal(as_text(a_relation))} as relation_name, count(*) as total_records "
        f"from {a_relation}\nunion all\n"
        f"select {literal(as_text(b_relation))} as relation_name, count(*) as total_records "
        f"from {b_relation}"
    )


def compare_column_values(
    a_query: Any,
    b_query: Any,
    primary_key: Any,
    column_to_compare: Any,
    emojis: bool = True,
    a_relation_name: str = "a",
    b_relation_name: str = "b",
) -> str:
    """Per status (a match, both null, missing from one side, null on one side, a different
    value), how many keys have it, in that order."""
    a, b, key = f"a_query.{column_to_compare}", f"b_query.{column_to_compare}", primary_key
    statuses = [
        (f"{a} = {b}", "✅: ", "perfect match"),
        (f"{a} is null and {b} is null", "✅: ", "both are null"),
        (f"a_query.{key} is null", "🤷: ", f"missing from {a_relation_name}"),
        (f"b_query.{key} is null", "🤷: ", f"missing from {b_relation_name}"),
        (f"{a} is null", "🤷: ", f"value is null in {a_relation_name} only"),
        (f"{b} is null", "🤷: ", f"value is null in {b_relation_name} only"),
        (f"{a} != {b}", "❌: ", "\u200dvalues do not match"),
    ]
    status = "".join(
        f" when {when} then {literal((sign if emojis else '') + text)}"
        for when, sign, text in statuses
    )
    order = "".join(f" when {when} then {i}" for i, (when, _, _) in enumerate(statuses))
    return (
        f"with a_query as (\n{a_query}\n), b_query as (\n{b_query}\n),\n"
        f"joined as (select case{status} else 'unknown' end as match_status, "
        f"case{order} else 7 end as match_order from a_query "
        f"full outer join b_query on a_query.{key} = b_query.{key}),\n"
        f"aggregated as (select {literal(column_to_compare)} as column_name, match_status, "
        "match_order, count(*) as count_records from joined "
        "group by column_name, match_status, match_order)\n"
        "select column_name, match_status, count_records, "
        "round(100.0 * count_records / sum(count_records) over (), 2) as percent_of_total "
        "from aggregated order by match_order"
    )


def natives() -> dict[str, Callable]:
    return {
        "compare_queries": compare_queries,
        "compare_relations": compare_relations,
        "compare_row_counts": compare_row_counts,
        "compare_column_values": compare_column_values,
    }

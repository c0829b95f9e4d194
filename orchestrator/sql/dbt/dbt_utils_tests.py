"""dbt_utils' generic tests that no header check of ours says, natively: their queries as
dbt_utils writes them (a row for each failure), for check files. `model` is the relation (or a
filtered subquery), `compare_model` the other relation, already resolved."""

from __future__ import annotations

from collections.abc import Callable

from .cross_database import dateadd
from .dbt_utils import slugify
from .errors import NeedsDatabase
from .sqltext import columns_except
from .yamlfile import ImportProblem, as_list


def equality(model, compare_model, compare_columns=None, exclude_columns=None, precision=None):
    if compare_columns and exclude_columns:
        raise ImportProblem(
            "Both a compare and an ignore list were provided to the `equality` macro. "
            "Only one is allowed"
        )
    if precision:
        raise NeedsDatabase(
            "dbt_utils.equality with precision rounds the numeric columns it finds in the "
            "catalog while compiling"
        )
    if compare_columns:
        cols = ", ".join(str(c) for c in as_list(compare_columns))
        a, b = f"select {cols} from a", f"select {cols} from b"
    else:
        # dbt lists the model's columns (the same set in both, or it refuses): b's rows
        # in a's column order by name, as UNION BY NAME aligns them
        cols = columns_except([str(c) for c in as_list(exclude_columns)])
        a = f"select {cols} from a"
        b = f"(select {cols} from a where false) union all by name (select {cols} from b)"
        b = f"select * from ({b})"
    return (
        f"with a as (select * from {model}), b as (select * from {compare_model}), "
        f"a_minus_b as ({a} except {b}), b_minus_a as ({b} except {a}), "
        "unioned as (select 'a_minus_b' as which_diff, a_minus_b.* from a_minus_b "
        "union all select 'b_minus_a' as which_diff, b_minus_a.* from b_minus_a) "
        "select * from unioned"
    )


def fewer_rows_than(model, compare_model, group_by_columns=()):
    """dbt fails it on the sum of the deltas (its fail_calc): the rows with one."""
    groups = [str(c) for c in as_list(group_by_columns)]
    select = f"{' ,'.join(groups)}, " if groups else ""
    join = "".join(f" and a.{c} = b.{c}" for c in groups)
    keys = ["id_dbtutils_test_fewer_rows_than", *groups]
    group = "group by " + ",".join(keys)
    pairs = "".join(f"a.{c} as {c}_a, b.{c} as {c}_b, " for c in keys)
    return (
        f"with a as (select {select}1 as id_dbtutils_test_fewer_rows_than, count(*) as "
        f"count_our_model from {model} {group}), b as (select {select}1 as "
        "id_dbtutils_test_fewer_rows_than, count(*) as count_comparison_model from "
        f"{compare_model} {group}), counts as (select {pairs}count_our_model, "
        "count_comparison_model from a full join b on a.id_dbtutils_test_fewer_rows_than "
        f"= b.id_dbtutils_test_fewer_rows_than{join}), final as (select *, case when "
        "count_our_model > count_comparison_model then (count_our_model - "
        "count_comparison_model) when count_our_model = count_comparison_model then 1 "
        "else 0 end as row_count_delta from counts) "
        "select * from final where coalesce(row_count_delta, 0) <> 0"
    )


def not_accepted_values(model, column_name, values, quote=True):
    listed = ",".join(f"'{v}'" if quote else str(v) for v in as_list(values))
    return (
        f"with all_values as (select distinct {column_name} as value_field from {model}) "
        f"select value_field from all_values where value_field in ({listed})"
    )


def sequential_values(model, column_name, interval=1, datepart=None, group_by_columns=()):
    groups = [str(c) for c in as_list(group_by_columns)]
    previous = f"previous_{slugify(column_name)}"
    select = f"{','.join(groups)}, " if groups else ""
    partition = f"partition by {','.join(groups)} " if groups else ""
    if datepart:
        step = dateadd(datepart, interval, previous)
        wrong = f"not(cast({column_name} as timestamp)= cast({step} as timestamp))"
    else:
        wrong = f"not({column_name} = {previous} + {interval})"
    return (
        f"with windowed as (select {select}{column_name}, lag({column_name}) over "
        f"({partition}order by {column_name}) as {previous} from {model}) "
        f"select * from windowed where {wrong}"
    )


def mutually_exclusive_ranges(
    model,
    lower_bound_column,
    upper_bound_column,
    partition_by=None,
    gaps="allowed",
    zero_length_range_allowed=False,
):
    operators = {"not_allowed": "=", "allowed": "<=", "required": "<"}
    if gaps not in operators:
        raise ImportProblem(
            "`gaps` argument for mutually_exclusive_ranges test must be one of "
            f"['not_allowed', 'allowed', 'required'] Got: '{gaps}'.'"
        )
    zero = "<=" if zero_length_range_allowed else "<"
    over = f"partition by {partition_by} " if partition_by else ""
    column = f"{partition_by} as partition_by_col, " if partition_by else ""
    return (
        f"with window_functions as (select {column}{lower_bound_column} as lower_bound, "
        f"{upper_bound_column} as upper_bound, lead({lower_bound_column}) over ({over}"
        f"order by {lower_bound_column}, {upper_bound_column}) as next_lower_bound, "
        f"row_number() over ({over}order by {lower_bound_column} desc, "
        f"{upper_bound_column} desc) = 1 as is_last_record from {model}) "
        f"select * from window_functions where not(coalesce(lower_bound {zero} "
        f"upper_bound, false) and coalesce(upper_bound {operators[gaps]} "
        "next_lower_bound, is_last_record, false))"
    )


def natives() -> dict[str, Callable]:
    """The tests as the macros dbt makes of them (`test_<name>`)."""
    return {
        "test_equality": equality,
        "test_fewer_rows_than": fewer_rows_than,
        "test_not_accepted_values": not_accepted_values,
        "test_sequential_values": sequential_values,
        "test_mutually_exclusive_ranges": mutually_exclusive_ranges,
    }

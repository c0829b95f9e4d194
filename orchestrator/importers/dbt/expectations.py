"""dbt_expectations' common tests, natively: a project that uses them converts without the
package installed (no `dbt_packages/`). Each test is what must hold, either for every row (a
row-level expression: our `expression(...)` check) or for the table or each of its groups (an
aggregate expression: a check file). Their semantics are dbt_expectations': a row whose
expression is NULL passes, `row_condition` filters the rows judged, and values are written
into the SQL as the YAML gives them (a date is written `"'2024-01-01'"`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...sql.dbt.yamlfile import ImportProblem, as_list
from .values import IDENT


@dataclass(frozen=True)
class Expectation:
    """What a test asserts: `expression` must be true for each row (or, `aggregate`, for the
    table or each group of `group_by`), among the rows `row_condition` keeps."""

    expression: str
    aggregate: bool = False
    group_by: tuple[str, ...] = ()
    row_condition: str | None = None

    def failing_rows(self, relation: str, where: str | None = None) -> str:
        """The query returning what fails, for a check file."""
        conditions = [f"({c})" for c in (where, self.row_condition) if c]
        if not self.aggregate:
            judged = " and ".join([*conditions, f"not ({self.expression})"])
            return f"select * from {relation} where {judged}"
        filtered = f" where {' and '.join(conditions)}" if conditions else ""
        groups = "".join(f"{g}, " for g in self.group_by)
        grouped = f" group by {', '.join(self.group_by)}" if self.group_by else ""
        return (
            f"select * from (select {groups}{self.expression} as expression "
            f"from {relation}{filtered}{grouped}) as judged where not (expression)"
        )


def _between(value: str, args: dict) -> str:
    low, high = args.get("min_value"), args.get("max_value")
    if low is None and high is None:
        raise ImportProblem("it needs min_value, max_value or both (dbt_expectations says so too)")
    strict = "" if args.get("strictly") else "="
    parts = []
    if low is not None:
        parts.append(f"{value} >{strict} {low}")
    if high is not None:
        parts.append(f"{value} <{strict} {high}")
    return parts[0] if len(parts) == 1 else f"({' and '.join(parts)})"


def _values(args: dict) -> str:
    quote = args.get("quote_values", True)
    values = as_list(args.get("value_set"))
    if not values:
        raise ImportProblem("value_set is empty")
    return ", ".join("'" + str(v).replace("'", "''") + "'" if quote else str(v) for v in values)


def _regex(column: str, pattern: Any, flags: Any) -> str:
    text = str(pattern).replace("'", "''")
    return f"regexp_matches({column}, '{text}', '{flags or ''}')"


def _patterns(column: str, args: dict, key: str, positive: bool) -> str:
    """A list of regexes or like patterns: any (or all) must match, or none."""
    found = as_list(args.get(key))
    if not found:
        raise ImportProblem(f"{key} is empty")
    if key.startswith("regex"):
        tests = [_regex(column, p, args.get("flags")) for p in found]
    else:
        tests = [f"{column} like '{str(p).replace(chr(39), chr(39) * 2)}'" for p in found]
    if not positive:
        return " and ".join(f"not {t}" for t in tests)
    joiner = " and " if str(args.get("match_on", "any")) == "all" else " or "
    return f"({joiner.join(tests)})"


def _column(column: str | None, test: str) -> str:
    if not column or not IDENT.match(str(column)):
        raise ImportProblem(f"{test} on column {column!r}: only plain column names are converted")
    return str(column)


def _row(column: str | None, test: str, args: dict) -> str | None:
    """The expression a row-level test asserts, or None when `test` is none of them."""
    pair_a, pair_b = args.get("column_A"), args.get("column_B")
    if test == "expect_column_pair_values_A_to_be_greater_than_B":
        return f"{pair_a} {'>=' if args.get('or_equal') else '>'} {pair_b}"
    if test == "expect_column_pair_values_to_be_equal":
        return f"{pair_a} = {pair_b}"
    if test == "expect_multicolumn_sum_to_equal":
        columns = as_list(args.get("column_list"))
        return f"{' + '.join(str(c) for c in columns)} = {args.get('sum_total')}"
    makers = {
        "expect_column_values_to_be_between": lambda c: _between(c, args),
        "expect_column_values_to_not_be_null": lambda c: f"{c} is not null",
        "expect_column_values_to_be_null": lambda c: f"{c} is null",
        # in_set: a NULL is in no set (dbt_expectations joins on the value)
        "expect_column_values_to_be_in_set": lambda c: (
            f"{c} is not null and {c} in ({_values(args)})"
        ),
        "expect_column_values_to_not_be_in_set": lambda c: f"{c} not in ({_values(args)})",
        "expect_column_values_to_match_regex": lambda c: _regex(
            c, args.get("regex"), args.get("flags")
        ),
        "expect_column_values_to_not_match_regex": lambda c: (
            "not " + _regex(c, args.get("regex"), args.get("flags"))
        ),
        "expect_column_values_to_match_regex_list": lambda c: _patterns(
            c, args, "regex_list", True
        ),
        "expect_column_values_to_not_match_regex_list": lambda c: _patterns(
            c, args, "regex_list", False
        ),
        "expect_column_values_to_match_like_pattern": lambda c: (
            f"{c} like '{args.get('like_pattern')}'"
        ),
        "expect_column_values_to_not_match_like_pattern": lambda c: (
            f"{c} not like '{args.get('like_pattern')}'"
        ),
        "expect_column_values_to_match_like_pattern_list": lambda c: _patterns(
            c, args, "like_pattern_list", True
        ),
        "expect_column_values_to_not_match_like_pattern_list": lambda c: _patterns(
            c, args, "like_pattern_list", False
        ),
        "expect_column_value_lengths_to_be_between": lambda c: _between(f"length({c})", args),
        "expect_column_value_lengths_to_equal": lambda c: f"length({c}) = {args.get('value')}",
    }
    maker = makers.get(test)
    return None if maker is None else maker(_column(column, test))


def _aggregate(column: str | None, test: str, args: dict) -> str | None:
    """The expression over the table (or each group) an aggregate test asserts, or None."""
    if test == "expect_table_row_count_to_be_between":
        return _between("count(*)", args)
    if test == "expect_table_row_count_to_equal":
        return f"count(*) = {args.get('value')}"
    functions = {
        "expect_column_min_to_be_between": "min",
        "expect_column_max_to_be_between": "max",
        "expect_column_mean_to_be_between": "avg",
        "expect_column_median_to_be_between": "median",
        "expect_column_sum_to_be_between": "sum",
        "expect_column_stdev_to_be_between": "stddev_samp",
    }
    if test in functions:
        return _between(f"{functions[test]}({_column(column, test)})", args)
    distinct = f"count(distinct {column})"
    found = {
        "expect_column_distinct_count_to_equal": lambda: f"{distinct} = {args.get('value')}",
        "expect_column_distinct_count_to_be_greater_than": lambda: (
            f"{distinct} > {args.get('value')}"
        ),
        "expect_column_distinct_count_to_be_less_than": lambda: f"{distinct} < {args.get('value')}",
        "expect_column_unique_value_count_to_be_between": lambda: _between(distinct, args),
        "expect_column_proportion_of_unique_values_to_be_between": lambda: _between(
            f"{distinct} * 1.0 / count(*)", args
        ),
    }.get(test)
    if found is None:
        return None
    _column(column, test)
    return found()


def expectation(test: str, column: str | None, args: dict) -> Expectation | None:
    """The test as what must hold, or None when it is none we know."""
    condition = args.get("row_condition")
    condition = str(condition).strip() if condition else None
    row = _row(column, test, args)
    if row is not None:
        return Expectation(row, row_condition=condition)
    total = _aggregate(column, test, args)
    if total is not None:
        groups = tuple(str(g) for g in as_list(args.get("group_by")))
        return Expectation(total, aggregate=True, group_by=groups, row_condition=condition)
    return None


def whole_table(test: str, column: str | None, relation: str, args: dict) -> str | None:
    """The failing-rows query of a test that is neither row-level nor one aggregate, or None."""
    condition = args.get("row_condition")
    extra = f" and ({condition})" if condition else ""
    if test in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
        columns = (
            [_column(column, test)]
            if test == "expect_column_values_to_be_unique"
            else [str(c) for c in as_list(args.get("column_list"))]
        )
        if not columns:
            raise ImportProblem("column_list is empty")
        ignore = str(args.get("ignore_row_if", "all_values_are_missing"))
        joiner = " and " if ignore == "all_values_are_missing" else " or "
        listed = ", ".join(columns)
        missing = joiner.join(f"{c} is null" for c in columns)
        return (
            f"select {listed}, count(*) as n_records from {relation} "
            f"where not ({missing}){extra} group by {listed} having count(*) > 1"
        )
    if test == "expect_row_values_to_have_recent_data":
        value = f"cast({_column(column, test)} as timestamp)"
        period, count = str(args.get("datepart", "day")), int(args.get("interval", 1))
        return (
            f"select * from (select max({value}) as max_timestamp from {relation} "
            f"where {value} <= now()::timestamp{extra}) as recency "
            f"where coalesce(max_timestamp, timestamp '1970-01-01') < "
            f"now()::timestamp - interval {count} {period}"
        )
    if test == "expect_column_to_exist":
        return f"select {_column(column, test)} from {relation} limit 0"
    return None

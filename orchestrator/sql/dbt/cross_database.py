"""dbt's cross-database macros (`dbt.dateadd`, `dbt.concat`, `dbt.type_string`, ...) as
dbt-duckdb renders them, natively: the same SQL text, so a model converts to what dbt would
have run. dbt_utils and dbt_date build on these."""

from __future__ import annotations

from collections.abc import Callable

from .errors import NeedsDatabase
from .sqltext import literal, trimmed
from .star import Star
from .yamlfile import ImportProblem, as_list

TYPES = {
    "type_string": "TEXT",
    "type_timestamp": "timestamp",
    "type_int": "integer",
    "type_bigint": "bigint",
    "type_float": "float",
    "type_numeric": "numeric(28,6)",
    "type_boolean": "boolean",
}
"""What dbt-duckdb renders (api.Column.translate_type; numeric through numeric_type): the same
names, so a type written into a string or compared stays as in dbt."""


def concat(fields):
    return " || ".join(trimmed(f) for f in as_list(fields))


def hash_(field):
    return f"md5(cast({trimmed(field)} as VARCHAR))"


def dateadd(datepart, interval, from_date_or_timestamp):
    """dbt-duckdb's text: a whole number of units, quarter and week as months and days."""
    unit, start = str(datepart).lower(), trimmed(from_date_or_timestamp)
    if unit == "quarter":
        return f"({start} + (cast({interval} as bigint) * 3) * interval 1 month)"
    if unit == "week":
        return f"({start} + (cast({interval} as bigint) * 7) * interval 1 day)"
    return f"({start} + cast({interval} as bigint) * interval 1 {unit})"


def datediff(first_date, second_date, datepart):
    """dbt-duckdb's text (its operands unparenthesized, as it writes them); weeks from the
    days between, by the day of the week of each end."""
    first, second = trimmed(first_date), trimmed(second_date)
    if datepart != "week":
        return f"(date_diff('{datepart}', {first}::timestamp, {second}::timestamp ))"
    return (
        f"({datediff(first, second, 'day')} // 7 + case when date_part('dow', ({first})"
        f"::timestamp) <= date_part('dow', ({second})::timestamp) then case when {first} "
        f"<= {second} then 0 else -1 end else case when {first} <= {second} then 1 else 0 "
        "end end)"
    )


def split_part(string_text, delimiter_text, part_number):
    return f"string_split({string_text}, {delimiter_text})[{part_number}]"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order = f" {order_by_clause}" if order_by_clause else ""
    if limit_num:
        return (
            f"list_aggr((array_agg({measure}{order}))[1:{limit_num}], 'string_agg', "
            f"{delimiter_text})"
        )
    return f"string_agg({measure}, {delimiter_text}{order})"


def safe_cast(field, type):  # noqa: A002
    """dbt-duckdb keeps dbt's default: a plain cast (a bad value fails the build)."""
    return f"cast({field} as {type})"


def length(expression):
    return f"length({expression})"


def position(substring_text, string_text):
    return f"position({substring_text} in {string_text})"


def replace(field, old_chars, new_chars):
    return f"replace({field}, {old_chars}, {new_chars})"


def right(string_text, length_expression):
    return f"right({string_text}, {length_expression})"


def last_day(date, datepart):
    """dbt's default_last_day (dbt-duckdb: a quarter as three months)."""
    start = f"date_trunc('{datepart}', {date})"
    if datepart == "quarter":
        return f"cast({dateadd('day', '-1', dateadd('month', '3', start))} as date)"
    return f"cast({dateadd('day', '-1', dateadd(datepart, '1', start))} as date)"


def string_literal(value):
    if isinstance(value, Star):
        raise NeedsDatabase(
            f"dbt_utils.star({value.relation}) as text: dbt writes the column list it "
            "reads from the catalog while compiling"
        )
    return literal(value)


def array_construct(inputs=(), data_type="integer"):
    items = as_list(inputs)
    return f"array[{', '.join(str(i) for i in items)}]" if items else f"array[]::{data_type}[]"


def generate_series(upper_bound):
    return f"select generate_series as generated_number from generate_series(1, {upper_bound})"


def powers_of_two(upper_bound):
    """How many powers of two reach `upper_bound` (dbt's helper of its generate_series)."""
    if int(upper_bound) <= 0:
        raise ImportProblem("upper bound must be positive")
    return max(1, (int(upper_bound) - 1).bit_length())


def intervals_between(*args, **kwargs):
    raise NeedsDatabase("get_intervals_between runs a query while compiling")


def date_spine(datepart, start_date, end_date) -> str:
    """One row a `datepart` from `start_date`, as many as the parts between the two ends (dbt
    counts them with a query while compiling, and refuses fewer than one: so does this query,
    when it runs), none past `end_date`; the values are dbt-duckdb's dateadd of each step."""
    name = f"date_{datepart}"
    count = datediff(start_date, end_date, datepart)
    step = dateadd(datepart, "_spine.i", start_date)
    return (
        f"select {name} from (select {step} as {name} from (select unnest(range(0, "
        f"case when _n.n > 0 then _n.n else error('upper bound must be positive') end)) as i "
        f"from (select {count} as n) as _n) as _spine) as all_periods where {name} <= {end_date}"
    )


def natives() -> dict[str, Callable]:
    """dbt's `dbt.*` macros as dbt-duckdb renders them, by name (a new dict each call: the
    renderer's namespaces may add to theirs)."""
    found: dict[str, Callable] = {
        name: (lambda value=value: value) for name, value in TYPES.items()
    }
    found.update(
        {
            "concat": concat,
            "hash": hash_,
            "dateadd": dateadd,
            "datediff": datediff,
            "date_trunc": lambda datepart, date: f"date_trunc('{datepart}', {date})",
            "split_part": split_part,
            "listagg": listagg,
            # dbt-duckdb's any_value is arbitrary(): the first value, NULL or not
            "any_value": lambda expression: f"arbitrary({expression})",
            "bool_or": lambda expression: f"bool_or({expression})",
            "cast_bool_to_text": lambda field: f"cast({field} as VARCHAR)",
            "safe_cast": safe_cast,
            "cast": lambda field, type: f"cast({field} as {type})",  # noqa: A006
            "length": length,
            "position": position,
            "replace": replace,
            "right": right,
            "last_day": last_day,
            "current_timestamp": lambda: "now()",
            "current_timestamp_backcompat": lambda: "now()",
            "escape_single_quotes": lambda expression: str(expression).replace("'", "''"),
            "string_literal": string_literal,
            "except": lambda: "except",
            "intersect": lambda: "intersect",
            "date": lambda year, month, day: f"make_date({year}, {month}, {day})",
            "equals": lambda expr1, expr2: f"({expr1} = {expr2})",
            "array_append": lambda array, new_element: f"array_append({array}, {new_element})",
            "array_concat": lambda array_1, array_2: f"array_cat({array_1}, {array_2})",
            "array_construct": array_construct,
            "generate_series": generate_series,
            "get_powers_of_two": powers_of_two,
            "get_intervals_between": intervals_between,
            "date_spine": date_spine,
        }
    )
    return found

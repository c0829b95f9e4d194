"""dbt_utils' SQL generators, natively as DuckDB SQL (as dbt-duckdb would render them), so a
project does not need dbt_utils installed and the SQL we write has no macro left in it. What
needs the database's catalog in dbt (the columns of a relation) uses DuckDB's own syntax
instead: `COLUMNS(...)`, `UNION ALL BY NAME`, `UNPIVOT INCLUDE NULLS`; what needs data
(`get_column_values`) or a list of relations is reported, never guessed. Its generic tests are
`dbt_utils_tests`', its `star` is `star`'s."""

from __future__ import annotations

import datetime as _datetime
import re
from collections.abc import Callable

from . import cross_database
from .cross_database import position, powers_of_two, replace, right, safe_cast, split_part
from .errors import NeedsDatabase
from .nodes import as_text
from .sqltext import columns_except, literal, quoted, trimmed
from .star import is_ephemeral, is_relation, star
from .yamlfile import ImportProblem, as_list

Note = Callable[[str], None]
"""Records a note on the node being converted (what differs from dbt, for the report)."""


def slugify(string=None) -> str:
    """A value made a column name as dbt_utils does: lower case, spaces and dashes as `_`, only
    letters, digits and `_`, and `_` before a leading digit."""
    if not string:
        return ""
    text = re.sub(r"[ -]+", "_", str(string).lower())
    text = re.sub(r"[^a-z0-9_]+", "", text)
    return f"_{text}" if text[:1].isdigit() else text


def _surrogate(field_list, null_text):
    fields = []
    for i, field in enumerate(as_list(field_list)):
        if i:
            fields.append("'-'")
        fields.append(f"coalesce(cast({trimmed(field)} as VARCHAR), '{null_text}')")
    return cross_database.hash_(cross_database.concat(fields))


def generate_surrogate_key(field_list):
    return _surrogate(field_list, "_dbt_utils_surrogate_key_null_")


def surrogate_key(*field_list):
    """The deprecated one: its fields as arguments or one list, NULL as ''."""
    fields = (
        field_list[0] if len(field_list) == 1 and isinstance(field_list[0], list) else field_list
    )
    return _surrogate(list(fields), "")


def union_relations_noting(note: Note) -> Callable:
    """`union_relations`, noting on the node how it differs from dbt's."""

    def union_relations(
        relations,
        column_override=None,
        include=(),
        exclude=(),
        source_column_name="_dbt_source_relation",
        where=None,
    ):
        include, exclude = as_list(include), as_list(exclude)
        if include and exclude:
            raise ImportProblem(
                "Both an exclude and include list were provided to the `union` macro. "
                "Only one is allowed"
            )
        note(
            "union_relations: columns matched by name (UNION ALL BY NAME), types unified by "
            "DuckDB (dbt casts to the first relation's), the source column names the relation "
            "as schema.name (dbt writes its database too)"
        )
        columns = columns_except(include, keep=True) if include else columns_except(exclude)
        return union_sql(relations, columns, column_override, source_column_name, where)

    return union_relations


def union_sql(relations, columns, column_override, source_column_name, where) -> str:
    """Each relation's `columns` (and its name as `source_column_name`), unioned by name,
    `column_override`'s columns cast."""
    if columns == "COLUMNS(*)":
        columns = "*"
    parts = []
    for relation in as_list(relations):
        label = (
            f"cast({literal(as_text(relation))} as TEXT) as {source_column_name}, "
            if source_column_name
            else ""
        )
        filtered = f" where {where}" if where else ""
        parts.append(f"(select {label}{columns} from {relation}{filtered})")
    unioned = "\nunion all by name\n".join(parts)
    if not column_override:
        return unioned
    casts = ", ".join(
        f"cast({quoted(c)} as {t}) as {quoted(c)}" for c, t in column_override.items()
    )
    return f"select * REPLACE ({casts}) from (\n{unioned}\n)"


def pivot(
    column,
    values,
    alias=True,
    agg="sum",
    cmp="=",
    prefix="",
    suffix="",
    then_value=1,
    else_value=0,
    quote_identifiers=True,
    distinct=False,
):
    out = []
    for value in as_list(values):
        name = f"{prefix}{value}{suffix}"
        named = ""
        if alias:
            named = f" as {quoted(name) if quote_identifiers else slugify(name)}"
        out.append(
            f"{agg}({'distinct ' if distinct else ''}case when {column} {cmp} "
            f"{literal(value)} then {then_value} else {else_value} end){named}"
        )
    return ",\n  ".join(out)


def unpivot(
    relation=None,
    cast_to="varchar",
    exclude=None,
    remove=None,
    field_name="field_name",
    value_name="value",
    quote_identifiers=False,
    **kwargs,
):
    """Every column but `exclude` and `remove` as rows of (name, value cast), NULLs kept
    (dbt unions one SELECT a column)."""
    relation = kwargs.pop("table", relation)
    if not relation:
        raise ImportProblem("Error: argument `relation` is required for `unpivot` macro.")
    keep = [str(c) for c in as_list(exclude)]
    drop = [str(c) for c in as_list(remove)]
    ident = quoted if quote_identifiers else str
    kept = f"{columns_except(keep, keep=True)}, " if keep else ""
    source = f"select {kept}cast({columns_except(keep + drop)} as {cast_to}) from {relation}"
    out = ", ".join([*(ident(c) for c in keep), ident(field_name), ident(value_name)])
    return (
        f"select {out} from ({source}) unpivot include nulls "
        f"({ident(value_name)} for {ident(field_name)} in ({columns_except(keep)}))"
    )


def deduplicate(relation, partition_by, order_by):
    """The first row of each partition by `order_by`. dbt_utils' default (DuckDB's) finds
    it with a natural join, so a row holding a NULL never matches: dropped here too."""
    return (
        "select * EXCLUDE (_dbt_rn) from (select *, row_number() over "
        f"(partition by {partition_by} order by {order_by}) as _dbt_rn from {relation}) "
        "where _dbt_rn = 1 and COLUMNS(*) is not null"
    )


def generate_series(upper_bound):
    """dbt_utils' own (not dbt-duckdb's): its numbers are sums of power(2, i), DOUBLE."""
    if isinstance(upper_bound, int):
        powers_of_two(upper_bound)  # a bound below one is dbt's compile error
    return (
        "select cast(generate_series as double) as generated_number "
        f"from generate_series(1, {upper_bound})"
    )


def haversine_distance(lat1, lon1, lat2, lon2, unit="mi"):
    """Miles on a sphere of radius 3961 (km: times 1.60934), in dbt_utils' order of
    operations so the floats are the same."""
    rates = {"mi": "1", "km": "1.60934"}
    if unit not in rates:
        raise ImportProblem(f"unit input must be one of 'mi' or 'km'. Got {unit}")
    return (
        f"2 * 3961 * asin(sqrt(power((sin(radians(({lat2} - {lat1}) / 2))), 2) + "
        f"cos(radians({lat1})) * cos(radians({lat2})) * "
        f"power((sin(radians(({lon2} - {lon1}) / 2))), 2))) * {rates[unit]}"
    )


def _fields_of(field_list) -> list:
    return [f for item in field_list for f in as_list(item)]


def safe_add(*field_list):
    return " +\n  ".join(f"coalesce({f}, 0)" for f in _fields_of(field_list))


def safe_subtract(*field_list):
    return " -\n  ".join(f"coalesce({f}, 0)" for f in _fields_of(field_list))


def width_bucket(expr, min_value, max_value, num_buckets):
    """The bucket of `expr` among `num_buckets` equal ones from min to max (0 below, n + 1
    above); a value on an edge goes up one, as in dbt_utils."""
    size = f"(({max_value} - {min_value}) / {num_buckets})"
    return (
        f"(case when mod(cast({expr} as numeric(28,6)), cast({size} as numeric(28,6))) = 0 "
        f"then 1 else 0 end) + least(ceil(({expr} - {min_value}) / {size}), "
        f"{num_buckets} + 1)"
    )


def get_url_host(field):
    """What is between the scheme and the first `/` or `?`, in dbt_utils' composition."""
    bare = field
    for scheme in ("'android-app://'", "'http://'", "'https://'"):
        bare = replace(bare, scheme, "''")
    return safe_cast(split_part(split_part(bare, "'/'", 1), "'?'", 1), "TEXT")


def get_url_path(field):
    """After the host up to the query string (without the leading `/`)."""
    bare = replace(replace(field, "'http://'", "''"), "'https://'", "''")
    slash = (
        f"coalesce(nullif({position(chr(39) + '/' + chr(39), bare)}, 0), "
        f"{position(chr(39) + '?' + chr(39), bare)} - 1)"
    )
    rest = right(bare, f"{cross_database.length(bare)}-{slash}")
    return safe_cast(split_part(rest, "'?'", 1), "TEXT")


def get_url_parameter(field, url_parameter):
    after = split_part(field, f"'{url_parameter}='", 2)
    return f"nullif({split_part(after, chr(39) + '&' + chr(39), 1)},'')"


def nullcheck(cols):
    """Empty strings as NULL, for columns (with `name` and `is_string()`) already known."""
    out = []
    for col in as_list(cols):
        name = col.name
        out.append(f"nullif({name}, '') as {name}" if col.is_string() else str(name))
    return ",".join(out)


def nullcheck_table(relation):
    """Every column of `relation`, its VARCHAR ones with '' as NULL."""
    return (
        "select case when typeof(COLUMNS(*)) = 'VARCHAR' and cast(COLUMNS(*) as VARCHAR) = ''"
        f' then null else COLUMNS(*) end AS "\\0" from {relation}'
    )


def pretty_time(format="%H:%M:%S"):  # noqa: A002
    return _datetime.datetime.now().strftime(format)


def pretty_log_format(message=""):
    return f"{pretty_time()} + {message}"


def _asks(name: str, why: str) -> Callable:
    """A macro that needs the database while compiling: raises NeedsDatabase saying `why`."""

    def call(*args, **kwargs):
        raise NeedsDatabase(f"dbt_utils.{name} {why} while compiling")

    return call


def natives(note: Note) -> dict[str, Callable]:
    """dbt_utils' macros by name (dbt's cross-database ones among them, as dbt_utils has
    them), natively; `note` records how one differs from dbt's."""
    found = cross_database.natives()
    found.update(
        {
            "generate_surrogate_key": generate_surrogate_key,
            "surrogate_key": surrogate_key,
            "star": star,
            "union_relations": union_relations_noting(note),
            "pivot": pivot,
            "unpivot": unpivot,
            "date_spine": cross_database.date_spine,
            "group_by": lambda n: "group by " + ",".join(str(i) for i in range(1, int(n) + 1)),
            "deduplicate": deduplicate,
            "generate_series": generate_series,
            "haversine_distance": haversine_distance,
            "degrees_to_radians": lambda degrees: f"(pi() * ({degrees}) / 180)",
            "safe_add": safe_add,
            "safe_subtract": safe_subtract,
            "safe_divide": lambda numerator, denominator: (
                f"({numerator}) / nullif(({denominator}), 0)"
            ),
            "width_bucket": width_bucket,
            "get_url_host": get_url_host,
            "get_url_path": get_url_path,
            "get_url_parameter": get_url_parameter,
            "nullcheck": nullcheck,
            "nullcheck_table": nullcheck_table,
            "slugify": slugify,
            "pretty_time": pretty_time,
            "pretty_log_format": pretty_log_format,
            "log_info": lambda message="": "",
            "_is_relation": is_relation,
            "_is_ephemeral": is_ephemeral,
            "get_column_values": _asks("get_column_values", "reads the data"),
            "get_single_value": _asks("get_single_value", "reads the data"),
            "get_query_results_as_dict": _asks("get_query_results_as_dict", "runs a query"),
            "get_relations_by_pattern": _asks("get_relations_by_pattern", "asks the catalog"),
            "get_relations_by_prefix": _asks("get_relations_by_prefix", "asks the catalog"),
            "get_filtered_columns_in_relation": _asks(
                "get_filtered_columns_in_relation", "asks the catalog"
            ),
            "get_intervals_between": _asks("get_intervals_between", "runs a query"),
        }
    )
    return found

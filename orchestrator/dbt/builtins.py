"""dbt's cross-database macros and dbt_utils' macros and generic tests, expanded natively into
DuckDB SQL at import time (as dbt-duckdb would render them), so a project does not need
dbt_utils installed and the SQL we write has no macro left in it. What needs the database's
catalog in dbt (the columns of a relation) uses DuckDB's own syntax instead: `COLUMNS(...)`,
`* NOT SIMILAR TO`, `RENAME`, `UNION ALL BY NAME`, `UNPIVOT INCLUDE NULLS`; what needs data
(`get_column_values`) or a list of relations or columns as values is reported, never guessed.
A star where DuckDB takes none (a GROUP BY) fails when the model is built."""

from __future__ import annotations

import datetime as _datetime
import re
from collections.abc import Callable
from typing import Any

from .jinja import NeedsDatabase, as_text
from .yamlfile import ImportProblem

Note = Callable[[str], None]


def _list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: Any) -> str:
    return str(value).strip()


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _quote(name: Any) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _named(names: list) -> str:
    """`('a', 'b')`: names lowercased, for a test on `lower(c)` (dbt_utils compares column
    names case-insensitively)."""
    return "(" + ", ".join(_literal(str(n).lower()) for n in names) + ")"


def _columns(names: list, keep: bool = False) -> str:
    """The relation's columns without (or, `keep`, only) `names`: DuckDB's COLUMNS with a
    lambda, where a name the relation lacks is no error (unlike `* EXCLUDE`), as in dbt."""
    if not names:
        return "COLUMNS(*)"
    return f"COLUMNS(lambda c: lower(c) {'in' if keep else 'not in'} {_named(names)})"


def cross_database() -> dict[str, Callable]:
    """dbt's `dbt.*` macros as dbt-duckdb renders them."""

    def concat(fields):
        return " || ".join(_text(f) for f in _list(fields))

    def hash_(field):
        return f"md5(cast({_text(field)} as VARCHAR))"

    def dateadd(datepart, interval, from_date_or_timestamp):
        """dbt-duckdb's text: a whole number of units, quarter and week as months and days."""
        unit, start = str(datepart).lower(), _text(from_date_or_timestamp)
        if unit == "quarter":
            return f"({start} + (cast({interval} as bigint) * 3) * interval 1 month)"
        if unit == "week":
            return f"({start} + (cast({interval} as bigint) * 7) * interval 1 day)"
        return f"({start} + cast({interval} as bigint) * interval 1 {unit})"

    def datediff(first_date, second_date, datepart):
        """dbt-duckdb's text (its operands unparenthesized, as it writes them); weeks from the
        days between, by the day of the week of each end."""
        first, second = _text(first_date), _text(second_date)
        if datepart != "week":
            return f"(date_diff('{datepart}', {first}::timestamp, {second}::timestamp ))"
        return (
            f"({datediff(first, second, 'day')} // 7 + case when date_part('dow', ({first})"
            f"::timestamp) <= date_part('dow', ({second})::timestamp) then case when {first} "
            f"<= {second} then 0 else -1 end else case when {first} <= {second} then 1 else 0 "
            "end end)"
        )

    def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
        order = f" {order_by_clause}" if order_by_clause else ""
        if limit_num:
            return (
                f"list_aggr((array_agg({measure}{order}))[1:{limit_num}], 'string_agg', "
                f"{delimiter_text})"
            )
        return f"string_agg({measure}, {delimiter_text}{order})"

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
        return _literal(value)

    def array_construct(inputs=(), data_type="integer"):
        items = _list(inputs)
        return f"array[{', '.join(str(i) for i in items)}]" if items else f"array[]::{data_type}[]"

    def generate_series(upper_bound):
        return f"select generate_series as generated_number from generate_series(1, {upper_bound})"

    # what dbt-duckdb renders (api.Column.translate_type; numeric through numeric_type): the
    # same names, so a type written into a string or compared stays as in dbt
    types = {
        "type_string": "TEXT",
        "type_timestamp": "timestamp",
        "type_int": "integer",
        "type_bigint": "bigint",
        "type_float": "float",
        "type_numeric": "numeric(28,6)",
        "type_boolean": "boolean",
    }
    found: dict[str, Callable] = {
        name: (lambda value=value: value) for name, value in types.items()
    }
    found.update(
        {
            "concat": concat,
            "hash": hash_,
            "dateadd": dateadd,
            "datediff": datediff,
            "date_trunc": lambda datepart, date: f"date_trunc('{datepart}', {date})",
            "split_part": lambda string_text, delimiter_text, part_number: (
                f"string_split({string_text}, {delimiter_text})[{part_number}]"
            ),
            "listagg": listagg,
            # dbt-duckdb's any_value is arbitrary(): the first value, NULL or not
            "any_value": lambda expression: f"arbitrary({expression})",
            "bool_or": lambda expression: f"bool_or({expression})",
            "cast_bool_to_text": lambda field: f"cast({field} as VARCHAR)",
            # dbt-duckdb keeps dbt's default: a plain cast (a bad value fails the build)
            "safe_cast": lambda field, type: f"cast({field} as {type})",  # noqa: A006
            "cast": lambda field, type: f"cast({field} as {type})",  # noqa: A006
            "length": lambda expression: f"length({expression})",
            "position": lambda substring_text, string_text: (
                f"position({substring_text} in {string_text})"
            ),
            "replace": lambda field, old_chars, new_chars: (
                f"replace({field}, {old_chars}, {new_chars})"
            ),
            "right": lambda string_text, length_expression: (
                f"right({string_text}, {length_expression})"
            ),
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
            "get_powers_of_two": _powers_of_two,
            "get_intervals_between": _intervals_between,
        }
    )
    found["date_spine"] = lambda datepart, start_date, end_date: _date_spine(
        found, datepart, start_date, end_date
    )
    return found


def _powers_of_two(upper_bound):
    """How many powers of two reach `upper_bound` (dbt's helper of its generate_series)."""
    if int(upper_bound) <= 0:
        raise ImportProblem("upper bound must be positive")
    return max(1, (int(upper_bound) - 1).bit_length())


def _intervals_between(*args, **kwargs):
    raise NeedsDatabase("get_intervals_between runs a query while compiling")


def _date_spine(cross: dict, datepart, start_date, end_date) -> str:
    """One row a `datepart` from `start_date`, as many as the parts between the two ends (dbt
    counts them with a query while compiling, and refuses fewer than one: so does this query,
    when it runs), none past `end_date`; the values are dbt-duckdb's dateadd of each step."""
    name = f"date_{datepart}"
    count = cross["datediff"](start_date, end_date, datepart)
    step = cross["dateadd"](datepart, "_spine.i", start_date)
    return (
        f"select {name} from (select {step} as {name} from (select unnest(range(0, "
        f"case when _n.n > 0 then _n.n else error('upper bound must be positive') end)) as i "
        f"from (select {count} as n) as _n) as _spine) as all_periods where {name} <= {end_date}"
    )


class Star(str):
    """What `dbt_utils.star` gives: DuckDB SQL selecting the relation's columns, which works
    where dbt writes its column list into a SELECT. Always a star expression (`COLUMNS(...)`,
    `* NOT SIMILAR TO`), so a place that takes no star (a GROUP BY, where a bare `*` would
    mean GROUP BY ALL) fails when the model is built instead of grouping differently."""

    relation: Any

    def split(self, *args, **kwargs):
        raise NeedsDatabase(
            f"dbt_utils.star({self.relation}) as a list: its columns are read from the "
            "catalog while compiling"
        )


_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def _star_sql(relation, alias, except_, prefix, suffix, rename) -> str:
    """dbt lists the columns it reads from the catalog; DuckDB's star expressions name the
    same ones when the query runs: a name excluded that the relation lacks is no error
    (`NOT SIMILAR TO`, case-insensitive as dbt compares), and `AS "prefix\\0suffix"` names
    each column as dbt's aliases do."""
    head = f"{alias}." if alias else ""
    if rename and (prefix or suffix):
        raise NeedsDatabase(
            f"dbt_utils.star({relation}) with rename and prefix/suffix: an alias for each "
            "column needs the relation's column list while compiling"
        )
    named = ""
    if prefix or suffix:
        pattern = prefix.replace("\\", "\\\\") + "\\0" + suffix.replace("\\", "\\\\")
        named = f" AS {_quote(pattern)}"
    if rename:  # DuckDB's EXCLUDE, unlike dbt, refuses a name the relation lacks: it fails
        dropped = f" EXCLUDE ({', '.join(_quote(c) for c in except_)})" if except_ else ""
        renamed = ", ".join(f"{_quote(k)} AS {v}" for k, v in rename.items())
        return f"COLUMNS({head}*{dropped} RENAME ({renamed}))"
    if except_:
        names = "|".join(_REGEX_SPECIAL.sub(r"\\\1", str(c)) for c in except_)
        return f"{head}* NOT SIMILAR TO {_literal(f'(?i)({names})')}{named}"
    return f"COLUMNS({head}*){named}"


def slugify(string=None) -> str:
    """A value made a column name as dbt_utils does: lower case, spaces and dashes as `_`, only
    letters, digits and `_`, and `_` before a leading digit."""
    if not string:
        return ""
    text = re.sub(r"[ -]+", "_", str(string).lower())
    text = re.sub(r"[^a-z0-9_]+", "", text)
    return f"_{text}" if text[:1].isdigit() else text


def dbt_utils(note: Note) -> dict[str, Callable]:
    """dbt_utils' macros, natively."""
    cross = cross_database()

    def surrogate(field_list, null_text):
        fields = []
        for i, field in enumerate(_list(field_list)):
            if i:
                fields.append("'-'")
            fields.append(f"coalesce(cast({_text(field)} as VARCHAR), '{null_text}')")
        return cross["hash"](cross["concat"](fields))

    def generate_surrogate_key(field_list):
        return surrogate(field_list, "_dbt_utils_surrogate_key_null_")

    def surrogate_key(*field_list):
        fields = (
            field_list[0]
            if len(field_list) == 1 and isinstance(field_list[0], list)
            else field_list
        )
        return surrogate(list(fields), "")

    def star(
        from_=None,
        relation_alias=False,
        except_=(),
        prefix="",
        suffix="",
        quote_identifiers=True,
        unquote_aliases=False,
        rename=None,
        **kwargs,
    ):
        except_ = [str(c) for c in _list(kwargs.pop("except", except_))]
        from_ = kwargs.pop("from", from_)
        alias = str(relation_alias) if relation_alias else ""
        rename = dict(rename or {})
        is_relation(from_, "star")
        is_ephemeral(from_, "star")
        made = Star(_star_sql(from_, alias, except_, str(prefix), str(suffix), rename))
        made.relation = from_
        return made

    def union_relations(
        relations,
        column_override=None,
        include=(),
        exclude=(),
        source_column_name="_dbt_source_relation",
        where=None,
    ):
        include, exclude = _list(include), _list(exclude)
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
        columns = _columns(include, keep=True) if include else _columns(exclude)
        if columns == "COLUMNS(*)":
            columns = "*"
        parts = []
        for relation in _list(relations):
            label = (
                f"cast({_literal(as_text(relation))} as TEXT) as {source_column_name}, "
                if source_column_name
                else ""
            )
            filtered = f" where {where}" if where else ""
            parts.append(f"(select {label}{columns} from {relation}{filtered})")
        unioned = "\nunion all by name\n".join(parts)
        if not column_override:
            return unioned
        casts = ", ".join(
            f"cast({_quote(c)} as {t}) as {_quote(c)}" for c, t in column_override.items()
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
        for value in _list(values):
            name = f"{prefix}{value}{suffix}"
            named = ""
            if alias:
                named = f" as {_quote(name) if quote_identifiers else slugify(name)}"
            out.append(
                f"{agg}({'distinct ' if distinct else ''}case when {column} {cmp} "
                f"{_literal(value)} then {then_value} else {else_value} end){named}"
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
        keep = [str(c) for c in _list(exclude)]
        drop = [str(c) for c in _list(remove)]
        ident = _quote if quote_identifiers else str
        kept = f"{_columns(keep, keep=True)}, " if keep else ""
        source = f"select {kept}cast({_columns(keep + drop)} as {cast_to}) from {relation}"
        out = ", ".join([*(ident(c) for c in keep), ident(field_name), ident(value_name)])
        return (
            f"select {out} from ({source}) unpivot include nulls "
            f"({ident(value_name)} for {ident(field_name)} in ({_columns(keep)}))"
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
            _powers_of_two(upper_bound)  # a bound below one is dbt's compile error
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

    def fields_of(field_list) -> list:
        return [f for item in field_list for f in _list(item)]

    def safe_add(*field_list):
        return " +\n  ".join(f"coalesce({f}, 0)" for f in fields_of(field_list))

    def safe_subtract(*field_list):
        return " -\n  ".join(f"coalesce({f}, 0)" for f in fields_of(field_list))

    def width_bucket(expr, min_value, max_value, num_buckets):
        """The bucket of `expr` among `num_buckets` equal ones from min to max (0 below, n + 1
        above); a value on an edge goes up one, as in dbt_utils."""
        size = f"(({max_value} - {min_value}) / {num_buckets})"
        return (
            f"(case when mod(cast({expr} as numeric(28,6)), cast({size} as numeric(28,6))) = 0 "
            f"then 1 else 0 end) + least(ceil(({expr} - {min_value}) / {size}), "
            f"{num_buckets} + 1)"
        )

    split, replace, cast = cross["split_part"], cross["replace"], cross["safe_cast"]

    def get_url_host(field):
        """What is between the scheme and the first `/` or `?`, in dbt_utils' composition."""
        bare = field
        for scheme in ("'android-app://'", "'http://'", "'https://'"):
            bare = replace(bare, scheme, "''")
        return cast(split(split(bare, "'/'", 1), "'?'", 1), "TEXT")

    def get_url_path(field):
        """After the host up to the query string (without the leading `/`)."""
        bare = replace(replace(field, "'http://'", "''"), "'https://'", "''")
        slash = (
            f"coalesce(nullif({cross['position'](chr(39) + '/' + chr(39), bare)}, 0), "
            f"{cross['position'](chr(39) + '?' + chr(39), bare)} - 1)"
        )
        rest = cross["right"](bare, f"{cross['length'](bare)}-{slash}")
        return cast(split(rest, "'?'", 1), "TEXT")

    def get_url_parameter(field, url_parameter):
        after = split(field, f"'{url_parameter}='", 2)
        return f"nullif({split(after, chr(39) + '&' + chr(39), 1)},'')"

    def nullcheck(cols):
        """Empty strings as NULL, for columns (with `name` and `is_string()`) already known."""
        out = []
        for col in _list(cols):
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

    def is_relation(obj, macro=""):
        if not hasattr(obj, "identifier"):
            raise ImportProblem(f"Macro {macro} expected a Relation but received the value: {obj}")
        return ""

    def is_ephemeral(obj, macro=""):
        name = str(getattr(obj, "identifier", ""))
        if name.startswith("__dbt__cte__"):
            raise ImportProblem(
                f"The `{macro}` macro cannot be used with ephemeral models, as it relies on the "
                f"information schema. `{name[len('__dbt__cte__') :]}` is an ephemeral model."
            )
        return ""

    def asks(name: str, why: str) -> Callable:
        def call(*args, **kwargs):
            raise NeedsDatabase(f"dbt_utils.{name} {why} while compiling")

        return call

    found = dict(cross)
    found.update(
        {
            "generate_surrogate_key": generate_surrogate_key,
            "surrogate_key": surrogate_key,
            "star": star,
            "union_relations": union_relations,
            "pivot": pivot,
            "unpivot": unpivot,
            "date_spine": lambda datepart, start_date, end_date: _date_spine(
                cross, datepart, start_date, end_date
            ),
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
            "get_column_values": asks("get_column_values", "reads the data"),
            "get_single_value": asks("get_single_value", "reads the data"),
            "get_query_results_as_dict": asks("get_query_results_as_dict", "runs a query"),
            "get_relations_by_pattern": asks("get_relations_by_pattern", "asks the catalog"),
            "get_relations_by_prefix": asks("get_relations_by_prefix", "asks the catalog"),
            "get_filtered_columns_in_relation": asks(
                "get_filtered_columns_in_relation", "asks the catalog"
            ),
            "get_intervals_between": asks("get_intervals_between", "runs a query"),
        }
    )
    return found


def tests() -> dict[str, Callable]:
    """dbt_utils' generic tests that no header check of ours says: their queries as dbt_utils
    writes them (a row for each failure), for check files. `model` is the relation (or a
    filtered subquery), `compare_model` the other relation, already resolved."""

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
            cols = ", ".join(str(c) for c in _list(compare_columns))
            a, b = f"select {cols} from a", f"select {cols} from b"
        else:
            # dbt lists the model's columns (the same set in both, or it refuses): b's rows
            # in a's column order by name, as UNION BY NAME aligns them
            cols = _columns([str(c) for c in _list(exclude_columns)])
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
        groups = [str(c) for c in _list(group_by_columns)]
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
        listed = ",".join(f"'{v}'" if quote else str(v) for v in _list(values))
        return (
            f"with all_values as (select distinct {column_name} as value_field from {model}) "
            f"select value_field from all_values where value_field in ({listed})"
        )

    def sequential_values(model, column_name, interval=1, datepart=None, group_by_columns=()):
        groups = [str(c) for c in _list(group_by_columns)]
        previous = f"previous_{slugify(column_name)}"
        select = f"{','.join(groups)}, " if groups else ""
        partition = f"partition by {','.join(groups)} " if groups else ""
        if datepart:
            step = cross["dateadd"](datepart, interval, previous)
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

    cross = cross_database()
    return {
        "test_equality": equality,
        "test_fewer_rows_than": fewer_rows_than,
        "test_not_accepted_values": not_accepted_values,
        "test_sequential_values": sequential_values,
        "test_mutually_exclusive_ranges": mutually_exclusive_ranges,
    }


def natives(note: Note, time_zone: str = "America/Los_Angeles") -> dict[str, dict[str, Callable]]:
    """namespace -> macro -> implementation; "" is the global one (dbt's own macros are
    callable unqualified too). `time_zone`: dbt_date's `dbt_date:time_zone` var."""
    from . import audit_helper
    from .dbt_date import natives as dates

    cross = cross_database()
    return {
        "": dict(cross),
        "dbt": cross,
        "dbt_utils": {**dbt_utils(note), **tests()},
        "dbt_date": dates(cross, time_zone),
        "audit_helper": audit_helper.natives(),
    }

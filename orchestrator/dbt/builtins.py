"""dbt's cross-database macros and dbt_utils' most used ones, expanded natively into DuckDB SQL
at import time (as dbt-duckdb would render them), so a project does not need dbt_utils
installed and the SQL we write has no macro left in it. What needs the database's catalog in
dbt (the columns of a relation) uses DuckDB's own syntax instead: `* EXCLUDE (...)`,
`UNION ALL BY NAME`, `COLUMNS(...)`; what needs data (`get_column_values`) is reported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .jinja import NeedsDatabase

Note = Callable[[str], None]


def _list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: Any) -> str:
    return str(value).strip()


def cross_database() -> dict[str, Callable]:
    """dbt's `dbt.*` macros as dbt-duckdb renders them."""

    def concat(fields):
        return " || ".join(_text(f) for f in _list(fields))

    def hash_(field):
        return f"md5(cast({_text(field)} as VARCHAR))"

    def dateadd(datepart, interval, from_date_or_timestamp):
        return f"date_add({_text(from_date_or_timestamp)}, interval ({_text(interval)}) {datepart})"

    def datediff(first_date, second_date, datepart):
        return (
            f"date_diff('{datepart}', {_text(first_date)}::timestamp, "
            f"{_text(second_date)}::timestamp)"
        )

    def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
        order = f" {order_by_clause}" if order_by_clause else ""
        if limit_num:
            raise NeedsDatabase("listagg with limit_num has no DuckDB rendering here")
        return f"string_agg({measure}, {delimiter_text}{order})"

    def last_day(date, datepart):
        return (
            f"cast(date_trunc('{datepart}', {date}) + interval 1 {datepart} "
            f"- interval 1 day as date)"
        )

    types = {
        "type_string": "VARCHAR",
        "type_timestamp": "TIMESTAMP",
        "type_int": "INTEGER",
        "type_bigint": "BIGINT",
        "type_float": "DOUBLE",
        "type_numeric": "NUMERIC(28,6)",
        "type_boolean": "BOOLEAN",
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
                f"split_part({string_text}, {delimiter_text}, {part_number})"
            ),
            "listagg": listagg,
            "any_value": lambda expression: f"any_value({expression})",
            "bool_or": lambda expression: f"bool_or({expression})",
            "cast_bool_to_text": lambda field: f"cast({field} as VARCHAR)",
            "safe_cast": lambda field, type: f"try_cast({field} as {type})",  # noqa: A006
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
            "string_literal": lambda value: "'" + str(value).replace("'", "''") + "'",
            "except": lambda: "except",
            "intersect": lambda: "intersect",
            "date": lambda year, month, day: f"make_date({year}, {month}, {day})",
        }
    )
    return found


def dbt_utils(note: Note) -> dict[str, Callable]:
    """The dbt_utils macros projects use most, natively."""
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
        **kwargs,
    ):
        except_ = kwargs.pop("except", except_)
        from_ = kwargs.pop("from", from_)
        if prefix or suffix:
            raise NeedsDatabase("dbt_utils.star with prefix/suffix needs the relation's columns")
        head = f"{relation_alias}.*" if relation_alias else "*"
        names = [f'"{c}"' if quote_identifiers else str(c) for c in _list(except_)]
        return f"{head} EXCLUDE ({', '.join(names)})" if names else head

    def union_relations(
        relations,
        exclude=None,
        include=None,
        column_override=None,
        source_column_name="_dbt_source_relation",
        where=None,
    ):
        if include or column_override:
            raise NeedsDatabase("dbt_utils.union_relations with include/column_override")
        note("union_relations: columns matched by name (UNION ALL BY NAME)")
        parts = []
        for relation in _list(relations):
            columns = "*" + (
                f" EXCLUDE ({', '.join(str(c) for c in _list(exclude))})" if exclude else ""
            )
            label = f", '{relation}' as {source_column_name}" if source_column_name else ""
            filtered = f" where {where}" if where else ""
            parts.append(f"select {columns}{label} from {relation}{filtered}")
        return "\nunion all by name\n".join(parts)

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
            named = (
                f' as "{name}"' if alias and quote_identifiers else (f" as {name}" if alias else "")
            )
            out.append(
                f"{agg}({'distinct ' if distinct else ''}case when {column} {cmp} "
                f"'{str(value).replace(chr(39), chr(39) * 2)}' then {then_value} "
                f"else {else_value} end){named}"
            )
        return ",\n  ".join(out)

    def unpivot(
        relation=None,
        cast_to="varchar",
        exclude=None,
        remove=None,
        field_name="field_name",
        value_name="value",
        **kwargs,
    ):
        relation = kwargs.pop("table", relation)
        keep = [str(c) for c in _list(exclude)]
        drop = [str(c) for c in _list(remove)]
        out = keep + drop
        rest = f"COLUMNS(* EXCLUDE ({', '.join(out)}))" if out else "COLUMNS(*)"
        kept = ", ".join(keep)
        select = f"select {kept + ', ' if kept else ''}{rest}::{cast_to} from {relation}"
        on = f"COLUMNS(* EXCLUDE ({kept}))" if keep else "COLUMNS(*)"
        return (
            f"select * from (unpivot ({select}) on {on} into name {field_name} value {value_name})"
        )

    def date_spine(datepart, start_date, end_date):
        return (
            f"select range as date_{datepart} from range(cast({start_date} as timestamp), "
            f"cast({end_date} as timestamp), interval 1 {datepart})"
        )

    def get_column_values(*args, **kwargs):
        raise NeedsDatabase("dbt_utils.get_column_values reads the data while compiling")

    def get_relations_by_pattern(*args, **kwargs):
        raise NeedsDatabase("dbt_utils.get_relations_by_pattern asks the catalog while compiling")

    found = dict(cross)
    found.update(
        {
            "generate_surrogate_key": generate_surrogate_key,
            "surrogate_key": surrogate_key,
            "star": star,
            "union_relations": union_relations,
            "pivot": pivot,
            "unpivot": unpivot,
            "date_spine": date_spine,
            "group_by": lambda n: "group by " + ",".join(str(i) for i in range(1, int(n) + 1)),
            "get_column_values": get_column_values,
            "get_relations_by_pattern": get_relations_by_pattern,
            "get_filtered_columns_in_relation": get_relations_by_pattern,
        }
    )
    return found


def natives(note: Note, time_zone: str = "America/Los_Angeles") -> dict[str, dict[str, Callable]]:
    """namespace -> macro -> implementation; "" is the global one (dbt's own macros are
    callable unqualified too). `time_zone`: dbt_date's `dbt_date:time_zone` var."""
    from . import audit_helper
    from .dbt_date import natives as dates

    cross = cross_database()
    return {
        "": dict(cross),
        "dbt": cross,
        "dbt_utils": dbt_utils(note),
        "dbt_date": dates(cross, time_zone),
        "audit_helper": audit_helper.natives(),
    }

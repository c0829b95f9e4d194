"""dbt_utils' `star` natively: dbt lists a relation's columns from the catalog while compiling;
DuckDB's star expressions (`COLUMNS(...)`, `* NOT SIMILAR TO`, `RENAME`) name the same ones
when the query runs. Also dbt_utils' checks that an argument is a relation and not ephemeral,
which `star` makes first."""

from __future__ import annotations

import re
from typing import Any

from .errors import NeedsDatabase
from .sqltext import literal, quoted
from .yamlfile import ImportProblem, as_list


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


def star_sql(relation, alias, except_, prefix, suffix, rename) -> str:
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
        named = f" AS {quoted(pattern)}"
    if rename:  # DuckDB's EXCLUDE, unlike dbt, refuses a name the relation lacks: it fails
        dropped = f" EXCLUDE ({', '.join(quoted(c) for c in except_)})" if except_ else ""
        renamed = ", ".join(f"{quoted(k)} AS {v}" for k, v in rename.items())
        return f"COLUMNS({head}*{dropped} RENAME ({renamed}))"
    if except_:
        names = "|".join(_REGEX_SPECIAL.sub(r"\\\1", str(c)) for c in except_)
        return f"{head}* NOT SIMILAR TO {literal(f'(?i)({names})')}{named}"
    return f"COLUMNS({head}*){named}"


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
    """dbt_utils.star: the relation's columns but `except`, aliased or renamed."""
    except_ = [str(c) for c in as_list(kwargs.pop("except", except_))]
    from_ = kwargs.pop("from", from_)
    alias = str(relation_alias) if relation_alias else ""
    rename = dict(rename or {})
    is_relation(from_, "star")
    is_ephemeral(from_, "star")
    made = Star(star_sql(from_, alias, except_, str(prefix), str(suffix), rename))
    made.relation = from_
    return made


def is_relation(obj, macro=""):
    """dbt_utils' `_is_relation`: a compile error unless `obj` is a relation."""
    if not hasattr(obj, "identifier"):
        raise ImportProblem(f"Macro {macro} expected a Relation but received the value: {obj}")
    return ""


def is_ephemeral(obj, macro=""):
    """dbt_utils' `_is_ephemeral`: a compile error for an ephemeral model (a CTE, no relation
    in the catalog)."""
    name = str(getattr(obj, "identifier", ""))
    if name.startswith("__dbt__cte__"):
        raise ImportProblem(
            f"The `{macro}` macro cannot be used with ephemeral models, as it relies on the "
            f"information schema. `{name[len('__dbt__cte__') :]}` is an ephemeral model."
        )
    return ""

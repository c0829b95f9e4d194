"""One generic dbt test on a model as our check: a header check line when one of ours says the
same (not_null, unique, accepted_values, relationships and dbt_utils' row tests), else a check
file with the query that returns its failing rows (tests that filter, judge the table as a
whole, dbt_expectations', dbt_utils' others, the project's own generic tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...sql.dbt.errors import MissingMacro, NeedsDatabase
from ...sql.dbt.nodes import RelationName, Rendering
from ...sql.dbt.yamlfile import ImportProblem
from . import expectations
from .values import IDENT, DbtModel, literal

if TYPE_CHECKING:
    from .conversion import Conversion

# configs dbt reads beside a test's arguments as well as under its `config:`
_CONFIG_KEYS = (
    "severity",
    "where",
    "warn_if",
    "error_if",
    "limit",
    "store_failures",
    "enabled",
    "tags",
    "meta",
)

_AGGREGATE_TESTS = frozenset(
    {
        "at_least_one",
        "not_constant",
        "recency",
        "equal_rowcount",
        "relationships_where",
        "cardinality_equality",
    }
)


def convert_test(
    conv: Conversion, name: str, model: DbtModel, column: str | None, kind: str, args: dict
) -> tuple[str | None, tuple[str, str] | None, list[str]]:
    """The test `kind` with `args` on `model` (and `column`): (its header check line, or its
    check file as (path, text)), and notes on what was not converted."""
    config = {**(args.pop("config", None) or {})}
    for key in _CONFIG_KEYS:
        if key in args:
            config.setdefault(key, args.pop(key))
    if config.get("enabled") is False:
        return None, None, ["disabled: not converted"]
    if model.config.get("materialized") == "ephemeral":
        raise ImportProblem("a test of an ephemeral model: dbt cannot run it either")
    warn = str(config.get("severity", "error")).lower() == "warn"
    notes: list[str] = []
    for key in ("warn_if", "error_if"):
        if key in config and str(config[key]).strip() not in ("!= 0", "!=0"):
            notes.append(f"{key} {config[key]} not converted: any failing row counts")
    if column is None:  # a model-level test names its column as an argument
        column = args.pop("column_name", None)
    relation = str(model.relation)
    where = config.get("where")
    if model.config.get("materialized") == "seed" and not where:
        where = "true"  # a seed has no header for checks: each becomes a check file
    short = kind.split(".")[-1]
    expression = _header_expression(conv, kind, short, column, args)
    if expression is None:
        line, file = _query_test(conv, name, model, kind, column, args, warn, where)
        return line, file, notes
    if where:
        file = filtered_check_file(
            conv, name, short, column, warn, expression, where, relation, args
        )
        return None, file, notes
    return f"-- check{' warn' if warn else ''}: {expression}", None, notes


def _header_expression(
    conv: Conversion, kind: str, short: str, column: str | None, args: dict
) -> str | None:
    """The check of ours that says what the test says row by row, e.g. `not_null(id)`; None
    when the test is not one of those."""
    if kind in ("not_null", "unique", "accepted_values", "relationships"):
        if not column or not IDENT.match(str(column)):
            raise ImportProblem(
                f"{kind} on column {column!r}: only plain column names are converted"
            )
        if kind in ("not_null", "unique"):
            return f"{kind}({column})"
        if kind == "accepted_values":
            values = args.get("values") or []
            quote = args.get("quote", True)
            rendered = [literal(v, quote) for v in values]
            return f"accepted_values({column}, {', '.join(rendered)})"
        to = relation_of(conv, str(args.get("to", "")))
        field = args.get("field")
        if not field or not IDENT.match(str(field)):
            raise ImportProblem(f"relationships: field {field!r} is not a column name")
        return f"relationships({column}, {to}.{field})"
    if short == "unique_combination_of_columns":
        columns = args.get("combination_of_columns") or []
        if not columns or not all(IDENT.match(str(c)) for c in columns):
            raise ImportProblem(f"unique_combination_of_columns: {columns!r} are not column names")
        return f"unique({', '.join(columns)})"
    if short == "expression_is_true":
        condition = str(args.get("expression", "")).strip()
        if column:
            condition = f"{column} {condition}"
        return f"expression({condition})"
    if short == "accepted_range":
        bounds = []
        inclusive = args.get("inclusive", True)
        if args.get("min_value") is not None:
            bounds.append(f"{column} {'>=' if inclusive else '>'} {args['min_value']}")
        if args.get("max_value") is not None:
            bounds.append(f"{column} {'<=' if inclusive else '<'} {args['max_value']}")
        if not column or not bounds:
            raise ImportProblem("accepted_range needs a column and min_value or max_value")
        return f"expression({column} is null or ({' and '.join(bounds)}))"
    if short == "not_empty_string":
        trimmed = f"trim({column})" if args.get("trim_whitespace", True) else column
        return f"expression({column} is null or {trimmed} <> '')"
    return None


def _query_test(
    conv: Conversion, name, model: DbtModel, kind: str, column, args: dict, warn, where
) -> tuple[str | None, tuple[str, str]]:
    """A test no header check says: its failing rows' query, as a check file (or, for a
    dbt_expectations test that judges each row, a header check after all)."""
    relation = str(model.relation)
    short = kind.split(".")[-1]
    if short in _AGGREGATE_TESTS:
        query = _aggregate_test(conv, short, column, relation, args)
        return None, _check_file(name, short, column, warn, query, where, relation)
    if short == "not_null_proportion":
        at_least = float(args.get("at_least", 0))
        query = (
            f"select 1 as failing from {relation} having coalesce(avg(case when "
            f"{column} is not null then 1.0 else 0.0 end), 0) < {at_least}"
        )
        return None, _check_file(name, short, column, warn, query, where, relation)
    if short.startswith("expect_") and (
        kind.startswith("dbt_expectations.") or f"test_{short}" not in conv.renderer.macros
    ):
        return _expectation(name, short, column, relation, args, warn, where)
    if _test_macro(conv, kind) is None and f"test_{short}" in _native_tests(conv, kind):
        # dbt_utils' other tests, natively: their query as a check file; the model they
        # compare with resolved as a relationships test's `to` is
        if "compare_model" in args:
            args["compare_model"] = relation_of(conv, str(args["compare_model"]))
        macro = _native_tests(conv, kind)[f"test_{short}"]
        return None, _generic_test(conv, name, model, macro, short, column, args, warn, where)
    macro = _test_macro(conv, kind)
    if macro is not None:
        return None, _generic_test(conv, name, model, macro, short, column, args, warn, where)
    raise ImportProblem(
        f"test '{kind}' has no equivalent among our checks and is no generic test of "
        "the project: write it as a check file"
    )


def _expectation(name, short, column, relation, args, warn, where):
    """A dbt_expectations test, natively: a header check when it judges each row and has no
    filter, else a check file."""
    found = expectations.expectation(short, column, args)
    if found is not None:
        if not found.aggregate and not found.row_condition and not where:
            return f"-- check{' warn' if warn else ''}: expression({found.expression})", None
        query = found.failing_rows(relation, where)
        return None, _check_file_text(name, short, column, relation, warn, query)
    target = f"(select * from {relation} where {where}) as filtered" if where else relation
    query = expectations.whole_table(short, column, target, args)
    if query is None:
        raise ImportProblem(
            f"test 'dbt_expectations.{short}' is not one we expand natively: install the "
            "package in dbt_packages/ (dbt deps) and import again, or write it as a check file"
        )
    return None, _check_file_text(name, short, column, relation, warn, query)


def _aggregate_test(
    conv: Conversion, short: str, column: str | None, relation: str, args: dict
) -> str:
    """dbt_utils tests that judge the table as a whole: a query returning a row when the
    test fails, for a check file."""
    if short == "at_least_one":
        return f"select 1 as failing from {relation} having count({column}) = 0"
    if short == "not_constant":
        return f"select 1 as failing from {relation} having count(distinct {column}) <= 1"
    if short == "recency":
        field, period = args.get("field"), str(args.get("datepart", "day"))
        interval = int(args.get("interval", 1))
        return (
            f"select 1 as failing from {relation} having max({field}) is null or "
            f"max({field}) < now()::timestamp - interval {interval} {period}"
        )
    other = relation_of(conv, str(args.get("compare_model", args.get("to", ""))))
    if short == "equal_rowcount":
        return (
            f"select 1 as failing from (select count(*) as n from {relation}) a, "
            f"(select count(*) as n from {other}) b where a.n <> b.n"
        )
    if short == "relationships_where":
        field = args.get("field")
        from_condition = args.get("from_condition", "1=1")
        to_condition = args.get("to_condition", "1=1")
        return (
            f"select * from {relation} where {column} is not null and ({from_condition}) "
            f"and {column} not in (select {field} from {other} where {to_condition})"
        )
    # cardinality_equality: the same distinct values on both sides
    field = args.get("field")
    return (
        f"(select {column} from {relation} except select {field} from {other}) union all "
        f"(select {field} from {other} except select {column} from {relation})"
    )


def _native_tests(conv: Conversion, kind: str) -> dict:
    """The generic tests we expand natively for the package `kind` names (dbt_utils), when
    it is not installed."""
    package = kind.rpartition(".")[0]
    if not package or package in conv.renderer.packages:
        return {}
    return {k: v for k, v in conv.renderer.builtins.get(package, {}).items() if k[:5] == "test_"}


def _test_macro(conv: Conversion, kind: str):
    """The generic test `kind` names (`x` or `package.x`) as a macro of the project, or of a
    package installed in dbt_packages/; None when neither defines it."""
    package, _, short = kind.rpartition(".")
    macro = f"test_{short}"
    if not package and macro in conv.renderer.macros:
        return conv.renderer.macros[macro]
    for name, found in conv.renderer.packages.items():
        if (not package or package == name) and macro in found:
            return found[macro]
    return None


def _generic_test(
    conv: Conversion, name, model, macro, short, column, args, warn, where
) -> tuple[str, str]:
    """A generic test the project defines (`{% test name(model, column_name) %}`): its
    query, rendered for this model and column, as a check file."""
    relation = str(model.relation)
    target = f"(select * from {relation} where {where})" if where else relation
    kwargs = {k: v for k, v in args.items() if k not in ("column_name", "model")}
    if column:
        kwargs["column_name"] = column
    rendering = Rendering(
        name, model.node.relpath, model.node.fqn, resource_type="test", this=model.relation
    )
    conv.bind()
    conv.renderer.node = rendering
    try:
        sql = str(macro(model=RelationName("", target), **kwargs))
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        raise ImportProblem(f"generic test {short}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the project's macro failing to render
        raise ImportProblem(f"generic test {short} does not render: {exc}") from None
    return _check_file_text(name, short, column, relation, warn, sql.strip())


def relation_of(conv: Conversion, text: str) -> str:
    """`ref('x')` or `source('s', 't')` as written in a relationships test: our name."""
    rendering = Rendering("test", "tests", [], resource_type="test")
    conv.bind()
    try:
        found = conv.renderer.render("{{ " + text + " }}" if "{{" not in text else text, rendering)
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        raise ImportProblem(f"relationships to {text}: {exc}") from None
    if rendering.refs:
        conv.other = str(rendering.refs[-1][0][-1])  # the model it reads, if one
    return found.strip()


def _check_file(name, short, column, warn, sql, where, relation) -> tuple[str, str]:
    """A check file for a query over the model, filtered by the test's `where` if it has one."""
    if where:
        sql = sql.replace(
            f"from {relation}", f"from (select * from {relation} where {where}) as filtered", 1
        )
    return _check_file_text(name, short, column, relation, warn, sql)


def filtered_check_file(
    conv: Conversion, name, short, column, warn, expression, where, relation, args
) -> tuple[str, str]:
    """A test with a header check's meaning but a `where` filter: the rows that fail it, among
    those the filter keeps, as a check file."""
    rows = f"(select * from {relation} where {where}) as filtered"
    if short == "not_null":
        sql = f"select * from {rows} where {column} is null"
    elif short == "unique":
        sql = (
            f"select {column}, count(*) as n from {rows} where {column} is not null "
            f"group by {column} having count(*) > 1"
        )
    elif short == "accepted_values":
        values = ", ".join(literal(v, args.get("quote", True)) for v in args.get("values") or [])
        sql = f"select * from {rows} where {column} is not null and {column} not in ({values})"
    elif short == "relationships":
        to = relation_of(conv, str(args.get("to", "")))
        sql = (
            f"select * from {rows} where {column} is not null and {column} not in "
            f"(select {args.get('field')} from {to})"
        )
    else:
        inner = expression[expression.index("(") + 1 : -1]
        if short == "unique_combination_of_columns":
            sql = f"select {inner}, count(*) as n from {rows} group by {inner} having count(*) > 1"
        else:
            sql = f"select * from {rows} where not ({inner})"
    return _check_file_text(name, short, column, relation, warn, sql)


def _check_file_text(name, short, column, relation, warn, sql) -> tuple[str, str]:
    """A test as a check file of ours: (its path, its text)."""
    file = f"checks/{name}__{short}{'_' + column if column else ''}.sql"
    head = [f"-- model: {relation}"] + (["-- severity: warn"] if warn else [])
    return file, "\n".join([*head, sql, ""])

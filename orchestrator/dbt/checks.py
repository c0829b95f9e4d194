"""dbt tests as our checks: generic tests as header checks (or check files when they filter
or judge the table as a whole), the project's own generic tests and singular tests as check
files of the model they check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import expectations
from .jinja import MissingMacro, NeedsDatabase, RelationName, Rendering
from .values import EXACT, HAND, IDENT, NOTES, DbtModel, Outcome, literal
from .yamlfile import ImportProblem

if TYPE_CHECKING:
    from .convert import Converter
    from .project import Node


def untangle(conv: Converter) -> None:
    """dbt tests run after every model; our checks run as their model is published, after
    the models they read. A test of A that reads B, where B reads A, would be a cycle: it
    becomes a check of B instead (run once both are built)."""
    for owner, other, line, file, fallback, outcome in conv.cross:
        if not conv.reaches(other, owner):
            continue
        mine, theirs = str(conv.models[owner].relation), str(conv.models[other].relation)
        if line:
            path = conv.models[owner].path
            conv.out.files[path] = conv.out.files[path].replace(line + "\n", "", 1)
            file = fallback
        if file is None:
            continue
        text = file[1].replace(f"-- model: {mine}\n", f"-- model: {theirs}\n", 1)
        conv.out.files[file[0]] = text
        outcome.ours = file[0]
        outcome.status = NOTES
        outcome.notes.append(f"checked as {other} is built (it reads {owner})")


def model_tests(
    conv: Converter, name: str, model: DbtModel
) -> tuple[list[str], dict[str, str], list[Outcome]]:
    props = conv.project.properties.get(name) or {}
    where_file = conv.project.property_files.get(name, model.node.relpath)
    found: list[tuple[str | None, Any]] = []
    for column in props.get("columns") or []:
        if not isinstance(column, dict) or "name" not in column:
            continue
        for test in (column.get("data_tests") or []) + (column.get("tests") or []):
            found.append((str(column["name"]), test))
    for test in (props.get("data_tests") or []) + (props.get("tests") or []):
        found.append((None, test))
    header: list[str] = []
    files: dict[str, str] = {}
    outcomes: list[Outcome] = []
    for column, test in found:
        kind, args = _test_parts(test)
        uid = f"test.{conv.project.name}.{kind.split('.')[-1]}_{name}" + (
            f"_{column}" if column else ""
        )
        conv.other = None
        try:
            line, file, notes = _test(conv, name, model, column, kind, dict(args))
        except ImportProblem as exc:
            outcomes.append(Outcome(uid, where_file, HAND, notes=[exc.detail]))
            continue
        if line:
            header.append(line)
        if file:  # a second test of the same kind on the same model gets a file of its own
            path, n = file[0], 2
            while path in files:
                path, n = f"{file[0][:-4]}_{n}.sql", n + 1
            file = (path, file[1])
            files[path] = file[1]
        outcome = Outcome(uid, where_file, NOTES if notes else EXACT, line or file[0], notes)
        outcomes.append(outcome)
        if conv.other in conv.models and conv.other != name:
            fallback = None
            if line and kind == "relationships":  # the same check as a file, if it must move
                warn = line.startswith("-- check warn")
                fallback = _where_file(
                    conv, name, kind, column, warn, "", "true", str(model.relation), dict(args)
                )
            conv.cross.append((name, conv.other, line, file, fallback, outcome))
    return header, files, outcomes


def _test(conv: Converter, name: str, model: DbtModel, column: str | None, kind: str, args: dict):
    config = {**(args.pop("config", None) or {})}
    for key in (
        "severity",
        "where",
        "warn_if",
        "error_if",
        "limit",
        "store_failures",
        "enabled",
        "tags",
        "meta",
    ):
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
    expression = None
    if kind in ("not_null", "unique", "accepted_values", "relationships"):
        if not column or not IDENT.match(str(column)):
            raise ImportProblem(
                f"{kind} on column {column!r}: only plain column names are converted"
            )
        if kind in ("not_null", "unique"):
            expression = f"{kind}({column})"
        elif kind == "accepted_values":
            values = args.get("values") or []
            quote = args.get("quote", True)
            rendered = [literal(v, quote) for v in values]
            expression = f"accepted_values({column}, {', '.join(rendered)})"
        else:
            to = relation_of(conv, str(args.get("to", "")))
            field = args.get("field")
            if not field or not IDENT.match(str(field)):
                raise ImportProblem(f"relationships: field {field!r} is not a column name")
            expression = f"relationships({column}, {to}.{field})"
    elif short == "unique_combination_of_columns":
        columns = args.get("combination_of_columns") or []
        if not columns or not all(IDENT.match(str(c)) for c in columns):
            raise ImportProblem(f"unique_combination_of_columns: {columns!r} are not column names")
        expression = f"unique({', '.join(columns)})"
    elif short == "expression_is_true":
        condition = str(args.get("expression", "")).strip()
        if column:
            condition = f"{column} {condition}"
        expression = f"expression({condition})"
    elif short == "accepted_range":
        bounds = []
        inclusive = args.get("inclusive", True)
        if args.get("min_value") is not None:
            bounds.append(f"{column} {'>=' if inclusive else '>'} {args['min_value']}")
        if args.get("max_value") is not None:
            bounds.append(f"{column} {'<=' if inclusive else '<'} {args['max_value']}")
        if not column or not bounds:
            raise ImportProblem("accepted_range needs a column and min_value or max_value")
        expression = f"expression({column} is null or ({' and '.join(bounds)}))"
    elif short == "not_empty_string":
        trimmed = f"trim({column})" if args.get("trim_whitespace", True) else column
        expression = f"expression({column} is null or {trimmed} <> '')"
    elif short in _AGGREGATE_TESTS:
        query = _aggregate_test(conv, short, column, relation, args)
        return None, _check_file(conv, name, short, column, warn, query, where, relation), notes
    elif short == "not_null_proportion":
        at_least = float(args.get("at_least", 0))
        return (
            None,
            _check_file(
                conv,
                name,
                short,
                column,
                warn,
                f"select 1 as failing from {relation} having coalesce(avg(case when "
                f"{column} is not null then 1.0 else 0.0 end), 0) < {at_least}",
                where,
                relation,
            ),
            notes,
        )
    elif short.startswith("expect_") and (
        kind.startswith("dbt_expectations.") or f"test_{short}" not in conv.renderer.macros
    ):
        line, file = _expectation(name, short, column, relation, args, warn, where)
        return line, file, notes
    elif _test_macro(conv, kind) is None and f"test_{short}" in _native_tests(conv, kind):
        # dbt_utils' other tests, natively: their query as a check file; the model they
        # compare with resolved as a relationships test's `to` is
        if "compare_model" in args:
            args["compare_model"] = relation_of(conv, str(args["compare_model"]))
        macro = _native_tests(conv, kind)[f"test_{short}"]
        return (
            None,
            _generic_test(conv, name, model, macro, short, column, args, warn, where),
            notes,
        )
    elif _test_macro(conv, kind) is not None:
        macro = _test_macro(conv, kind)
        return (
            None,
            _generic_test(conv, name, model, macro, short, column, args, warn, where),
            notes,
        )
    else:
        raise ImportProblem(
            f"test '{kind}' has no equivalent among our checks and is no generic test of "
            "the project: write it as a check file"
        )
    if where:
        return (
            None,
            _where_file(conv, name, short, column, warn, expression, where, relation, args),
            notes,
        )
    return f"-- check{' warn' if warn else ''}: {expression}", None, notes


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
    conv: Converter, short: str, column: str | None, relation: str, args: dict
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


def _native_tests(conv: Converter, kind: str) -> dict:
    """The generic tests we expand natively for the package `kind` names (dbt_utils), when
    it is not installed."""
    package = kind.rpartition(".")[0]
    if not package or package in conv.renderer.packages:
        return {}
    return {k: v for k, v in conv.renderer.builtins.get(package, {}).items() if k[:5] == "test_"}


def _test_macro(conv: Converter, kind: str):
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
    conv: Converter, name, model, macro, short, column, args, warn, where
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


def relation_of(conv: Converter, text: str) -> str:
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


def _check_file(
    conv: Converter, name, short, column, warn, sql, where, relation
) -> tuple[str, str]:
    if where:
        sql = sql.replace(
            f"from {relation}", f"from (select * from {relation} where {where}) as filtered", 1
        )
    return _check_file_text(name, short, column, relation, warn, sql)


def _where_file(conv: Converter, name, short, column, warn, expression, where, relation, args):
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


def singular_test(conv: Converter, node: Node) -> None:
    uid = f"test.{conv.project.name}.{node.name}"
    read: dict[str, str] = {}  # the models it reads (dbt's names) -> our relations
    conv.bind()
    plain_ref = conv.renderer.ref

    def ref(*args, **kwargs):
        found = plain_ref(*args, **kwargs)
        read.setdefault(str(args[-1]), str(found))
        return found

    conv.renderer.ref = ref
    rendering = Rendering(
        node.name,
        node.relpath,
        node.fqn,
        resource_type="test",
        settled=conv.project.tree_config("tests", node.fqn),
    )
    try:
        sql = conv.renderer.render(node.template(), rendering)
    except (ImportProblem, NeedsDatabase, MissingMacro) as exc:
        conv.out.problems.append(str(exc))
        conv.out.outcomes.append(Outcome(uid, node.relpath, HAND, notes=[str(exc)]))
        return
    if not read:
        conv.out.outcomes.append(
            Outcome(
                uid, node.relpath, HAND, notes=["it reads no model: a check belongs to a model"]
            )
        )
        return
    # dbt runs it once every model is built: ours checks the last of them to be built (one
    # that no other model it reads depends on), after the others, so it never makes a cycle
    last = next(m for m in read if not any(conv.reaches(o, m) for o in read if o != m))
    config = rendering.merged()
    warn = str(config.get("severity", "error")).lower() == "warn"
    head = [f"-- model: {read[last]}"] + (["-- severity: warn"] if warn else [])
    file = f"checks/{node.name}.sql"
    conv.out.files[file] = "\n".join(
        [*head, f"/* {node.relpath}, imported from dbt */", sql.strip(), ""]
    )
    conv.out.outcomes.append(Outcome(uid, node.relpath, EXACT, file))


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


def _check_file_text(name, short, column, relation, warn, sql) -> tuple[str, str]:
    """A test as a check file of ours: (its path, its text)."""
    file = f"checks/{name}__{short}{'_' + column if column else ''}.sql"
    head = [f"-- model: {relation}"] + (["-- severity: warn"] if warn else [])
    return file, "\n".join([*head, sql, ""])


def _test_parts(test: Any) -> tuple[str, dict]:
    if isinstance(test, str):
        return test, {}
    if isinstance(test, dict) and len(test) >= 1:
        if "test_name" in test or "name" in test and len(test) > 1 and "arguments" in test:
            kind = str(test.get("test_name") or test.get("name"))
            args = dict(test.get("arguments") or {})
            args.update(
                {k: v for k, v in test.items() if k not in ("test_name", "name", "arguments")}
            )
            return kind, args
        kind, args = next(iter(test.items()))
        args = dict(args or {})
        if isinstance(args.get("arguments"), dict):
            args = {**args.pop("arguments"), **args}
        return str(kind), args
    return str(test), {}

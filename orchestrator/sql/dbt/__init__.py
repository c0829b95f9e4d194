"""dbt's Jinja, rendered as dbt compiles it: the renderer `import dbt` uses on a dbt project,
and the one that renders imported models with `-- renderer: dbt` when they run. Its macros
(dbt's cross-database ones, dbt_utils, dbt_date, audit_helper) are written natively as DuckDB SQL.

| module | what it does |
|---|---|
| `yamlfile` | reads YAML with PyYAML (the `dbt` extra); a parse error names the file and line |
| `project` | `dbt_project.yml`, properties files, config precedence, the nodes on disk |
| `errors` | what rendering stops on: a database needed, a macro missing, a macro's `return` |
| `nodes` | the node being rendered, the relations `ref`/`source`/`this` give, the target |
| `context` | the names a template sees (`ref`, `config`, `var`, `this`, `adapter`...), filters |
| `jinja` | the renderer: loads the macros, renders a file as dbt would at compile time |
| `builtins` | the one list of native macros by namespace, from the modules below |
| `cross_database` | dbt's cross-database macros as dbt-duckdb renders them |
| `dbt_utils`, `star` | dbt_utils' SQL generators (`star` on its own) |
| `dbt_utils_tests` | dbt_utils' generic tests |
| `dbt_date`, `audit_helper` | dbt_date's and audit_helper's macros |
| `sqltext` | the small SQL pieces the native macros share |
| `bundle` | the `dbt/` folder written beside our project: its name and version hash |
| `runtime` | renders a model when it runs, its queries answered by the warehouse |

Imports: core, and the rest of `sql`.
"""

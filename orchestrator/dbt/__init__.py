"""`orchestrator import dbt`: adopt a dbt project in one command.

The dbt project is read, never modified, and no dbt installation is needed:

| module | what it does |
|---|---|
| `yamlfile` | reads YAML with PyYAML (the `dbt` extra); a parse error names the file and line |
| `project` | `dbt_project.yml`, properties files, config precedence, the nodes on disk |
| `jinja` | renders dbt's Jinja as dbt would at compile time (ref, source, config, var, macros) |
| `builtins` | dbt's cross-database macros and dbt_utils' most used ones, as DuckDB SQL |
| `seedtypes` | the column types dbt gives a seed |
| `values` | what became of each node (exactly, with notes, needs a hand); what a conversion makes |
| `convert` | the two passes over the project (parse, then render) |
| `sources`, `models`, `seeds`, `checks`, `hooks` | what each kind of node becomes |
| `write`, `report` | writes the new project and `IMPORT_REPORT.md` (never over an earlier one) |
"""

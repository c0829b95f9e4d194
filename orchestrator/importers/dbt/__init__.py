"""`orchestrator import dbt`: adopt a dbt project in one command.

The dbt project is read, never modified, and no dbt installation is needed:

| module | what it does |
|---|---|
| `seedtypes` | the column types dbt gives a seed |
| `values` | what became of each node (exactly, with notes, needs a hand); what a conversion makes |
| `convert` | the two passes over the project (`parse`, then render) |
| `conversion` | the state both passes share; `ref()` and `source()` as our relation names |
| `parse` | the first pass: each model's configs and relation name |
| `sources`, `models`, `seeds`, `checks`, `hooks` | what each kind of node becomes |
| `generic_tests` | one generic test as a header check or a check file |
| `write`, `report` | writes the new project and `IMPORT_REPORT.md` (never over an earlier one) |

Reading the dbt project and rendering its Jinja is `sql.dbt`'s (imported models that query the
warehouse while compiling are rendered by it again when they run).
"""

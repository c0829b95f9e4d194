"""The SQL users write: Jinja rendering, sqlglot parsing and the dependencies it finds, the
normalised hash that versions a model, parse errors in the SQL's own words, DuckDB-to-Spark
dialects, and a model's SQL for one window (ours, or dbt's Jinja for imported models that query
the warehouse while compiling: the `dbt` subpackage is that renderer), and column lineage: which
columns of what a query reads feed each column it outputs, and which it reads at all.

Imports: core.
"""

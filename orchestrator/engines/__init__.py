"""The warehouse boundary and what runs on it: the `Engine` protocol and DuckDB, the one-writer
lock, readers that never meet it, the journal that keeps the state on engines without
transactions, and the Spark engine (`spark`: session, writes, readiness, analysis).

Imports: core, sql, project, plan, statements, state.
"""

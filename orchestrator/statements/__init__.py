"""The SQL the tool writes against the warehouse: each kind of model's materialization
(view, table, partition overwrite, merge, snapshot, shadow swap), the SQL that judges checks,
and a unit test's inputs and expected rows.
Strings only: the engines run them.

Imports: core, sql, project, plan.
"""

"""The SQL the tool writes against the warehouse: each kind of model's materialization
(view, table, partition overwrite, merge, snapshot, shadow swap) and the SQL that judges checks.
Strings only: the engines run them.

Imports: core, sql, project, plan.
"""

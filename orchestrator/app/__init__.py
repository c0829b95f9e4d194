"""The commands as compositions of the layers below (`api`), and what they share: the
workspace (a loaded project and its DAG), the one-writer session, alerts and notifications, the
scheduler, read-only views of the state for people, the catalog of views, adoption of what dbt
built, dual-run verification, column lineage across the project, unit tests on in-memory
DuckDB, environments (diff, promote), and the JSON shapes the faces
print.

Imports: every layer below (core ... execution); never a face.
"""

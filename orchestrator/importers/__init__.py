"""Other tools' projects made ours: `dbt` (`orchestrator import dbt`).

Imports: the layers below, up to `app`.
"""

"""orchestrator: a SQL-native data orchestrator that lives inside the warehouse (DuckDB, or Spark).

The package's first level is its architecture, bottom up; each layer imports only from those
below it (`tests/test_layers.py` checks every import):

| layer | what lives there |
|---|---|
| `core` | values with no I/O: errors, status, clock, partitions, tasks, snapshot, fingerprints |
| `sql` | the SQL users write: rendering, parsing, dependencies, dialects, dbt's Jinja |
| `project` | the project as values and its loader: models, headers, checks, config, jobs, DAG |
| `plan` | pure decisions: the planner, what `retry` reruns, the remedy for a red partition |
| `statements` | the SQL the tool writes: materializations and checks |
| `state` | the `orchestrator` schema in the warehouse: one module per table family |
| `engines` | the warehouse boundary: DuckDB, Spark, the lock, readers, the journal |
| `sources` | what declared sources hold: arrival, freshness, drift, probes, fingerprints |
| `execution` | running a plan: workers, retries, one transaction per publish |
| `app` | the commands as compositions: api, session, scheduler, alerts, views |
| `importers`, `ui`, `cli` | the faces: `import dbt`, the web UI, the command line |
"""

__version__ = "0.1.0"

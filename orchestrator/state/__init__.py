"""The `orchestrator` schema, the state the tool keeps in the warehouse: one module per table
family, each holding the only SQL that names its tables.

| module | tables |
|---|---|
| `schema` | the DDL, the `readiness` view, migrations, `meta` (the schema version) |
| `builds` | `partitions`, `task_runs`, `check_results`, `freshness`, `models`, `source_views` |
| `runs` | `runs`, `plans`, and the typed rows `runs` and `status` read |
| `operations` | `ticks`, `sensor_marks`, `incidents`, `alerts`, `audit` |

The state tables are a public interface (see the README): users query them with plain SQL.
Timestamps are UTC. A partition's key is `all` for models that are not partitioned. Callers use
the functions below as `state.name(...)`, whichever module holds them.
"""

from .builds import (
    forget_model,
    forget_partitions,
    insert_check_results,
    insert_freshness,
    insert_task_runs,
    mark_partitions,
    partition_statuses,
    publish_partitions,
    recorded_models,
    relations,
    remember_source_view,
    replace_models,
    settle_partitions,
    snapshot,
    source_views,
)
from .mirror import state_copy_path, write_serving_copy, write_state_copy
from .operations import (
    TICK_COLUMNS,
    OpenIncident,
    Tick,
    Undelivered,
    add_alert,
    add_audit,
    add_sensor_marks,
    add_tick,
    close_incident,
    last_tick,
    late_ticks,
    open_incident,
    open_incidents,
    open_ticks,
    run_problems,
    sensor_marks,
    undelivered_alerts,
    update_delivery,
    update_tick,
)
from .runs import (
    BUILD_COMMANDS,
    RunRecord,
    abandon_running,
    final_statuses,
    finish_run,
    held_tasks,
    last_run_id,
    last_undone_run,
    partition_rows,
    planned_tasks,
    record_plan,
    run_row,
    run_tasks,
    run_vars,
    runs,
    start_run,
)
from .schema import SCHEMA, SCHEMA_VERSION, ensure, has_state, schema_version

__all__ = [
    "BUILD_COMMANDS",
    "RunRecord",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TICK_COLUMNS",
    "OpenIncident",
    "Tick",
    "Undelivered",
    "abandon_running",
    "add_alert",
    "add_audit",
    "add_sensor_marks",
    "add_tick",
    "close_incident",
    "ensure",
    "forget_model",
    "final_statuses",
    "finish_run",
    "forget_partitions",
    "has_state",
    "held_tasks",
    "insert_check_results",
    "insert_freshness",
    "insert_task_runs",
    "last_run_id",
    "last_undone_run",
    "last_tick",
    "late_ticks",
    "mark_partitions",
    "open_incident",
    "open_incidents",
    "open_ticks",
    "partition_rows",
    "partition_statuses",
    "planned_tasks",
    "publish_partitions",
    "recorded_models",
    "record_plan",
    "relations",
    "remember_source_view",
    "replace_models",
    "run_problems",
    "run_row",
    "run_tasks",
    "run_vars",
    "runs",
    "schema_version",
    "sensor_marks",
    "settle_partitions",
    "snapshot",
    "source_views",
    "start_run",
    "state_copy_path",
    "undelivered_alerts",
    "update_delivery",
    "update_tick",
    "write_serving_copy",
    "write_state_copy",
]

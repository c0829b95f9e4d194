"""dbt snapshots as our snapshot models (`-- kind: snapshot`): the same history, in the columns
dbt names (`dbt_scd_id`, `dbt_updated_at`, `dbt_valid_from`, `dbt_valid_to`), so models that
read a snapshot keep working. A `{% snapshot %}` block or a YAML snapshot (`relation:`) is a
model like any other here (parsed, named, rendered, its tests converted); this module says
what its header becomes, or why it needs a hand."""

from __future__ import annotations

from ...sql.dbt.yamlfile import ImportProblem, as_list
from .values import IDENT


def header(config: dict, notes: list[str]) -> list[str]:
    """The header of our snapshot for a dbt snapshot's config; ImportProblem when our snapshot
    cannot keep its history as dbt does."""
    if config.get("snapshot_meta_column_names"):
        raise ImportProblem(
            "snapshot_meta_column_names renames dbt's columns; ours keep dbt's names "
            "(dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to)"
        )
    if config.get("dbt_valid_to_current"):
        raise ImportProblem(
            "dbt_valid_to_current: ours keep dbt_valid_to NULL for a current row (read "
            "`coalesce(dbt_valid_to, ...)` instead)"
        )
    hard = _hard_deletes(config)
    for key in ("unique_key", "strategy"):
        if not config.get(key):
            raise ImportProblem(f"a snapshot needs a {key} (dbt refuses it without one too)")
    keys = [str(k).strip() for k in as_list(config.get("unique_key"))]
    if not all(IDENT.match(k) for k in keys):
        raise ImportProblem(
            f"unique_key {config.get('unique_key')!r}: ours take column names (compute the key "
            "as a column of the query)"
        )
    strategy = str(config.get("strategy") or "")
    lines = ["-- kind: snapshot", f"-- unique_key: {', '.join(keys)}", f"-- strategy: {strategy}"]
    updated_at = config.get("updated_at")
    if strategy == "timestamp" or (strategy == "check" and updated_at):
        if not updated_at or not IDENT.match(str(updated_at)):
            raise ImportProblem(f"updated_at {updated_at!r}: ours take a column name")
        lines.append(f"-- updated_at: {updated_at}")
    if strategy == "check":
        columns = config.get("check_cols")
        if columns == "all":
            lines.append("-- check_cols: all")
        elif as_list(columns) and all(IDENT.match(str(c)) for c in as_list(columns)):
            lines.append(f"-- check_cols: {', '.join(str(c) for c in as_list(columns))}")
        else:
            raise ImportProblem(f"check_cols {columns!r}: ours take column names or 'all'")
    elif strategy != "timestamp":
        raise ImportProblem(f"strategy {strategy!r}: ours are timestamp and check")
    if hard != "ignore":
        lines.append(f"-- hard_deletes: {hard}")
    if config.get("target_database"):
        notes.append(
            f"target_database '{config['target_database']}' ignored: everything is in one warehouse"
        )
    return lines


def _hard_deletes(config: dict) -> str:
    """What dbt does with a key that vanished from the query (its adapters' rule)."""
    legacy, hard = config.get("invalidate_hard_deletes"), config.get("hard_deletes")
    if legacy is not None and hard is not None:
        raise ImportProblem("invalidate_hard_deletes and hard_deletes are both set: dbt refuses it")
    if legacy is True or hard == "invalidate":
        return "invalidate"
    if hard == "new_record":
        raise ImportProblem(
            "hard_deletes: new_record (a deletion row with dbt_is_deleted) is not kept by ours: "
            "use invalidate (the row's dbt_valid_to is set)"
        )
    if hard in (None, "ignore") or legacy is False:
        return "ignore"
    raise ImportProblem(f"hard_deletes {hard!r}: dbt takes ignore, invalidate or new_record")

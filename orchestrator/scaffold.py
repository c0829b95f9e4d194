"""`orchestrator init`: the templates of a new project, written only where nothing exists yet."""

from __future__ import annotations

from pathlib import Path

from .model import CONFIG_FILE

INIT_TOML = """\
# orchestrator project settings (every key is optional)
warehouse = "warehouse.duckdb"   # the DuckDB file, relative to this folder
default_schema = "main"          # schema of models placed directly under models/
# threads = 4                    # worker threads (default: the core count)

# [vars]                         # defaults for {{ var('name') }}; --var name=value overrides
# region = "eu"

# [sources."raw.orders"]         # an external source; with `path`, a view over its files
# path = "data/orders/*.csv"
"""

INIT_MODEL = """\
-- kind: table
-- owner: analytics
select 1 as id, 'hello' as greeting
"""


def scaffold(root: Path) -> list[Path]:
    """Create what is missing of a project skeleton; returns what it created."""
    root.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    config = root / CONFIG_FILE
    if not config.exists():
        config.write_text(INIT_TOML, encoding="utf-8")
        created.append(config)
    for folder in (root / "models", root / "checks"):
        if not folder.exists():
            folder.mkdir()
            created.append(folder)
    models = list((root / "models").rglob("*.sql"))
    if not models:
        example = root / "models" / "staging" / "hello.sql"
        example.parent.mkdir(parents=True, exist_ok=True)
        example.write_text(INIT_MODEL, encoding="utf-8")
        created.append(example)
    return created

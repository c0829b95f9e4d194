"""The embedded example's dashboard refresh: a step that runs after reporting.revenue_dashboard
is rebuilt (`[steps.refresh_dashboard]` in orchestrator.toml). A real one would call the BI
tool's API; this one records what it was told in logs/dashboard_refreshes.jsonl, offline."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

told = {k: v for k, v in os.environ.items() if k.startswith("ORCHESTRATOR_")}
line = {"refreshed_at": datetime.now(UTC).isoformat(timespec="seconds"), **told}
log = Path("logs") / "dashboard_refreshes.jsonl"
log.parent.mkdir(parents=True, exist_ok=True)
with log.open("a", encoding="utf-8") as out:
    out.write(json.dumps(line) + "\n")
print(f"dashboard refreshed for run {told.get('ORCHESTRATOR_RUN_ID')}")

"""project.python_models: a Python model's header, declared columns, what it reads and its
version, read without running it; bad files are one error naming the file and line."""

from __future__ import annotations

import pytest

from orchestrator.core.errors import ProjectError
from orchestrator.project import python_models as pm

SOURCE = '''#!/usr/bin/env python
# kind: incremental
# partition_by: paid_on
# start: 2026-10-01
# columns: payment_id BIGINT, paid_on DATE, amount DECIMAL(18, 2)
# owner: payments
"""Payments from the processor's API."""
import json
import helpers


def model(ctx):
    orders = ctx.table("staging.stg_orders")
    extra = ctx.query("select 1 from raw.refunds r join staging.stg_orders o using (order_id)")
    return [{"payment_id": 1, "paid_on": ctx.start, "amount": ctx.var("fee")}] + [ctx.vars["x"]]
'''


def test_the_header_reads_as_a_sql_header_at_the_same_lines():
    found = pm.read(SOURCE, "models/raw/payments.py")
    lines = found.header.splitlines()
    assert lines[1] == "-- kind: incremental" and lines[5] == "-- owner: payments"
    assert lines[4] == ""  # the columns line is read apart
    assert found.declared == (
        ("payment_id", "BIGINT"),
        ("paid_on", "DATE"),
        ("amount", "DECIMAL(18, 2)"),
    )


def test_what_it_reads_and_the_vars_it_uses():
    found = pm.read(SOURCE, "models/raw/payments.py")
    assert set(found.tables) == {"staging.stg_orders", "raw.refunds"}
    assert set(found.vars) == {"fee", "x"}
    assert found.imports == ("json", "helpers")


def test_the_version_follows_the_file_and_the_projects_own_modules(tmp_path):
    (tmp_path / "helpers.py").write_text("RATE = 1\n")
    local = pm.local_modules(tmp_path, ("json", "helpers"))
    assert local == [tmp_path / "helpers.py"]
    first = pm.version_of(SOURCE, local, "table")
    assert pm.version_of(SOURCE, local, "table") == first
    (tmp_path / "helpers.py").write_text("RATE = 2\n")
    assert pm.version_of(SOURCE, local, "table") != first
    assert pm.version_of(SOURCE + "\n# more\n", local, "table") != pm.version_of(
        SOURCE, local, "table"
    )


@pytest.mark.parametrize(
    "source, message, line",
    [
        ("def model(ctx)\n    return []\n", "Python syntax error", 1),
        ("def extract(ctx):\n    return []\n", "no function model\\(ctx\\)", None),
        ("# columns: id\ndef model(ctx):\n    return []\n", "bad value for 'columns'", 1),
        ("def model(ctx):\n    return ctx.query('select from')\n", "SQL syntax error", None),
    ],
)
def test_bad_files_name_the_file_and_line(source, message, line):
    with pytest.raises(ProjectError, match=message) as err:
        pm.read(source, "models/s/m.py")
    assert "models/s/m.py" in str(err.value)
    if line is not None:
        assert f"models/s/m.py:{line}" in str(err.value)

"""The one list of native macros by namespace (`sql.dbt.builtins`): dbt's own callable qualified
and unqualified, dbt_utils' generators with its generic tests, dbt_date's in the zone given."""

from __future__ import annotations

from orchestrator.sql.dbt.builtins import natives


def test_each_package_has_its_namespace():
    found = natives(lambda text: None)
    assert set(found) == {"", "dbt", "dbt_utils", "dbt_date", "audit_helper"}
    assert found[""]["dateadd"] is found["dbt"]["dateadd"]
    assert found[""] is not found["dbt"]  # the renderer may add to the global one
    assert {"star", "test_equality", "generate_surrogate_key"} <= set(found["dbt_utils"])
    assert "compare_relations" in found["audit_helper"]


def test_dbt_date_reads_the_clock_in_the_zone_given():
    assert "'America/Los_Angeles'" in natives(lambda text: None)["dbt_date"]["today"]()
    assert "'Europe/Paris'" in natives(lambda text: None, "Europe/Paris")["dbt_date"]["today"]()


def test_what_differs_from_dbt_is_noted():
    notes: list[str] = []
    union = natives(notes.append)["dbt_utils"]["union_relations"]
    union(["a", "b"])
    assert notes and "UNION ALL BY NAME" in notes[0]

"""The importer's values and small helpers: the closest known name for a message, values
written as SQL literals, and where a converted model's file goes."""

from __future__ import annotations

from pathlib import Path

from orchestrator.importers.dbt.values import DbtModel, close, literal
from orchestrator.sql.dbt.nodes import RelationName
from orchestrator.sql.dbt.project import Node


def test_the_closest_known_name_is_offered_or_nothing():
    assert close("ordrs", ["orders", "customers"]) == " (did you mean 'orders'?)"
    assert close("zzz", ["orders"]) == ""
    assert close("a", []) == ""


def test_values_are_written_as_sql_literals():
    assert literal("it's") == "'it''s'"
    assert literal(3) == "'3'"  # quoted unless told otherwise (accepted_values quotes)
    assert literal(3, quote=False) == "3"
    assert literal(2.5, quote=False) == "2.5"
    assert literal(True) == "true" and literal(False, quote=False) == "false"


def test_a_models_file_goes_under_its_schema_named_by_its_identifier():
    node = Node("model", "orders", Path("models/orders.sql"), "models/orders.sql", ["p", "orders"])
    model = DbtModel(node, {}, relation=RelationName("main_stg", "customers"))
    assert model.path == "models/main_stg/customers.sql"

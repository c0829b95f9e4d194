"""What one dbt render is about (`sql.dbt.nodes`): the relations `ref()`/`source()`/`this` give,
dbt's target, and a node's configs, its own `config()` over the tree's, accumulated ones added."""

from __future__ import annotations

from orchestrator.sql.dbt.nodes import RelationName, Rendering, Target, as_config_list, as_text


def test_a_relation_renders_as_schema_dot_name_with_dbts_attributes():
    r = RelationName("marts", "orders", dbt_text='"db"."marts"."orders"')
    assert str(r) == "marts.orders" and f"from {r}" == "from marts.orders"
    assert (r.schema, r.identifier, r.name, r.database, r.is_table) == (
        "marts",
        "orders",
        "orders",
        "main",
        True,
    )
    assert str(r.include(schema=False)) == "orders"
    assert str(RelationName("", "t")) == "t"


def test_as_text_is_how_dbt_writes_a_relation_into_a_value():
    assert as_text(RelationName("s", "t", dbt_text='"main"."s"."t"')) == '"main"."s"."t"'
    assert as_text(RelationName("s", "t")) == "s.t"
    assert as_text("plain") == "plain"


def test_a_target_reads_like_a_dict():
    target = Target("dev", "analytics", threads=4)
    assert (target.get("schema"), target.get("threads"), target.get("nope", "x")) == (
        "analytics",
        4,
        "x",
    )


def test_own_configs_win_and_accumulated_ones_add_up():
    node = Rendering(
        "m",
        "models/m.sql",
        ["p", "m"],
        settled={"materialized": "view", "tags": "a", "post_hook": ["x"]},
        config={"materialized": "table", "tags": ["b"]},
    )
    assert node.merged() == {"materialized": "table", "tags": ["a", "b"], "post_hook": ["x"]}
    assert as_config_list("one") == ["one"]
    assert as_config_list({"sql": "x"}) == [{"sql": "x"}]
    assert as_config_list(None) == []

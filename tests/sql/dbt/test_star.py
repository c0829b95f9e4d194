"""dbt_utils' `star` natively (`sql.dbt.star`): DuckDB star expressions that select the columns dbt
would list from the catalog, run on DuckDB; and the relation checks it makes first."""

from __future__ import annotations

import duckdb
import pytest

from orchestrator.sql.dbt.errors import NeedsDatabase
from orchestrator.sql.dbt.nodes import RelationName
from orchestrator.sql.dbt.star import Star, is_ephemeral, is_relation, star
from orchestrator.sql.dbt.yamlfile import ImportProblem

BASE = RelationName("s", "base")


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute('create schema s; create table s.base as select 1 as id, 2 as "Secret", 3 as a_b')
    return con


def names(con, sql: str) -> list[str]:
    return [d[0] for d in con.execute(f"select {sql} from s.base b").description]


def test_star_is_every_column(con):
    assert names(con, star(BASE)) == ["id", "Secret", "a_b"]


def test_except_is_case_insensitive_and_a_name_the_relation_lacks_is_no_error(con):
    assert names(con, star(BASE, except_=["SECRET", "nope"])) == ["id", "a_b"]
    assert names(con, star(**{"from": BASE, "except": "secret"})) == ["id", "a_b"]
    # regex characters in a name are the name's own: `a.b` is not `a_b`
    assert names(con, star(BASE, except_=["a.b"])) == ["id", "Secret", "a_b"]


def test_prefix_suffix_and_a_relation_alias(con):
    made = star(BASE, relation_alias="b", except_=["secret"], prefix="p_", suffix="_s")
    assert names(con, made) == ["p_id_s", "p_a_b_s"]


def test_rename_renames_and_with_a_prefix_needs_the_catalog(con):
    assert names(con, star(BASE, rename={"id": "key"})) == ["key", "Secret", "a_b"]
    with pytest.raises(NeedsDatabase, match="rename and prefix/suffix"):
        star(BASE, rename={"id": "key"}, prefix="p_")


def test_a_star_is_sql_not_a_column_list():
    made = star(BASE)
    assert isinstance(made, Star) and made.relation is BASE
    with pytest.raises(NeedsDatabase, match="as a list"):
        made.split(",")


def test_only_a_relation_that_is_not_ephemeral_is_taken():
    assert is_relation(BASE, "star") == "" and is_ephemeral(BASE, "star") == ""
    with pytest.raises(ImportProblem, match="expected a Relation but received the value: base"):
        star("base")
    with pytest.raises(ImportProblem, match="`orders` is an ephemeral model"):
        star(RelationName("", "__dbt__cte__orders"))

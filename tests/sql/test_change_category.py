"""sql.change_category: which output columns an edit adds, removes or computes differently, and
whether it can change the rows (then every column may change)."""

from __future__ import annotations

import pytest

from orchestrator.sql.change_category import ColumnChanges, compare


@pytest.mark.parametrize(
    "before, after, expected",
    [
        ("select a, b from t", "select a, b from t", ColumnChanges()),
        ("select a, b from t", "select a,  b  from t -- same", ColumnChanges()),
        ("select a from t", "select a, b + 1 as c from t", ColumnChanges(added=("c",))),
        ("select a, b from t", "select a from t", ColumnChanges(removed=("b",))),
        ("select a, b from t", "select a, b * 2 as b from t", ColumnChanges(changed=("b",))),
        ("select * from t", "select *, 1 as x from t", ColumnChanges(added=("x",))),
        ("select a from t", "select a, rank() over () as n from t", ColumnChanges(added=("n",))),
        (
            "select a, sum(b) as s from t group by a",
            "select a, sum(b) as s, max(c) as m from t group by a",
            ColumnChanges(added=("m",)),
        ),
    ],
)
def test_changes_that_keep_the_rows(before, after, expected):
    assert compare(before, after) == expected


@pytest.mark.parametrize(
    "before, after",
    [
        ("select a from t", "select a from t where a > 0"),
        ("select a from t", "select a from u"),
        ("select a from t join u using (k)", "select a from t left join u using (k)"),
        ("with x as (select 1 as a) select a from x", "with x as (select 2 as a) select a from x"),
        ("select a from t", "select distinct a from t"),
        ("select a from t", "select a, count(*) as n from t"),
        ("select a from t", "select a, unnest(l) as v from t"),
        ("select a, sum(b) s from t group by all", "select a, c, sum(b) s from t group by all"),
        ("select a from t union all select a from u", "select a from t union all select a from v"),
        ("select a from t limit 5", "select a from t limit 6"),
    ],
)
def test_changes_that_may_change_the_rows(before, after):
    assert compare(before, after).rows

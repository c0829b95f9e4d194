"""What rendering dbt's Jinja stops on (`sql.dbt.errors`): a database needed (rendered at run time
when it only queries), a macro or package missing with what to do, a macro's `return`."""

from __future__ import annotations

import pytest

from orchestrator.sql.dbt.errors import (
    MacroReturn,
    MissingMacro,
    MissingPackage,
    NeedsDatabase,
    QueriesAtRun,
)


def test_a_query_at_compile_time_is_a_database_need():
    with pytest.raises(NeedsDatabase, match="run_query"):
        raise QueriesAtRun("run_query() queries the database while compiling")


def test_a_missing_package_names_it_and_says_what_to_do():
    missing = MissingPackage("fivetran_utils", "timestamp_add")
    assert isinstance(missing, MissingMacro) and missing.package == "fivetran_utils"
    assert str(missing) == (
        "fivetran_utils.timestamp_add: the package fivetran_utils (packages.yml) is not "
        "installed in dbt_packages/ and not one we expand natively: run `dbt deps` and import "
        "again"
    )


def test_a_return_carries_its_value():
    assert MacroReturn([1, 2]).value == [1, 2]

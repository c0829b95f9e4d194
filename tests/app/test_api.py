"""app.api is the table of operations the faces call: each name it gives is the operation of
the module its docstring names, and every name it gives comes from one of them. (The operations
themselves are tested in test_building, test_published, test_queries, test_maintenance.)"""

from __future__ import annotations

import re

from orchestrator.app import api, building, maintenance, published, queries

MODULES = {
    "building": building,
    "published": published,
    "queries": queries,
    "maintenance": maintenance,
}


def table() -> dict[str, list[str]]:
    """module -> the operations its row of api's docstring names."""
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", api.__doc__, re.MULTILINE)
    return {module: re.findall(r"`(\w+)`", operations) for module, operations in rows}


def test_every_operation_of_the_table_is_the_one_of_its_module():
    listed = table()
    assert set(listed) == set(MODULES)
    for module, operations in listed.items():
        for name in operations:
            if name in ("backfill", "retry"):  # commands that `run` serves
                continue
            assert getattr(api, name) is getattr(MODULES[module], name), name


def test_every_name_the_api_gives_comes_from_an_operations_module():
    for name in api.__all__:
        homes = [
            m for m, module in MODULES.items() if getattr(module, name, None) is getattr(api, name)
        ]
        assert homes, name

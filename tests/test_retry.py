"""retry_request: what `retry` reruns, from a previous run's rows, with no database."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.errors import NothingToRetry
from orchestrator.retry import PreviousRun, retry_request
from orchestrator.tasks import Request

MODELS = {"a": None, "b": None, "c": None}
REQUEST = Request(selected=frozenset(MODELS), now=datetime(2024, 1, 10), vars={"x": "cli"})


def test_failed_and_unfinished_tasks_are_retried_and_rebuilds_aside_whole():
    previous = PreviousRun(
        7,
        planned=[("a", "k1", "write"), ("a", "k2", "write"), ("b", "all", "swap"), ("c", "k", "w")],
        final={("a", "k1"): "success", ("a", "k2"): "failed", ("b", "all"): "failed"},
        held=[("c", "k9", "skipped"), ("c", "k8", "waiting")],
        vars={"x": "run", "y": "run"},
    )
    request = retry_request(MODELS, previous, REQUEST)
    assert request.selected == {"a", "b", "c"}
    assert request.retry == {"a": {"k2"}, "c": {"k", "k9"}}
    assert request.retry_whole == {"b"}
    assert dict(request.vars) == {"x": "cli", "y": "run"}


def test_a_run_that_succeeded_leaves_nothing_to_retry():
    previous = PreviousRun(3, [("a", "k", "write")], {("a", "k"): "success"}, [], {})
    with pytest.raises(NothingToRetry, match="run 3 left nothing to retry") as raised:
        retry_request(MODELS, previous, REQUEST)
    assert raised.value.exit_code == 0

"""ui.pages.diff through the real server on 127.0.0.1: `ui --env NAME` serves the environment's
diff page (SQL diff, columns, data diff) and its JSON; production's server says how to get
one."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

from changes import STAGED_DOUBLED, changes_project
from conftest import NOW, get

from orchestrator.ui.server import serve


@contextmanager
def serving_env(project, env):
    server = serve(project.root, None, "127.0.0.1", 0, env)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_diff_page_of_an_environment(project, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_NOW", NOW.isoformat())  # the server plans as the CLI did
    changes_project(project)
    project.cli("run", check=True)
    project.model("staging.events", STAGED_DOUBLED)
    project.cli("run", "--env", "dev", check=True)
    with serving_env(project, "dev") as base:
        status, html = get(f"{base}/diff")
        assert status == 200
        assert "Environment dev against production" in html
        assert 'class="category category-breaking">breaking' in html
        assert 'class="diff-added">+' in html and "environment <b>dev</b>" in html
        page = json.loads(get(f"{base}/api/diff")[1])
        events = next(m for m in page["models"] if m["model"] == "staging.events")
        assert events["data"]["only_in_env"] == 4
        # the overview of an environment lists its copies beside production's models
        overview = json.loads(get(f"{base}/api/")[1])
        states = {m["model"]: m["readiness"] for m in overview["models"]}
        assert states["staging__dev.events"] == "complete"
        # production's model, whose SQL here differs from its build, is stale as `status` says
        assert states["staging.events"] == "stale"
    with serving_env(project, None) as base:
        status, html = get(f"{base}/diff")
        assert status == 200 and "orchestrator ui --env NAME" in html

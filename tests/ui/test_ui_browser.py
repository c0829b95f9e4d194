"""The UI in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven by
selenium): every page loads without console errors, the grid shows exactly the states of the
partitions, a click on a model opens its page, a check's failing rows are shown. Screenshots of
each page go to tests/screenshots/ (git-ignored), to look at."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SLOW_DAYS, serving

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them with apt-get)",
)
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _problems(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def test_every_page_in_a_real_browser(estate, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(exist_ok=True)
    with serving(estate) as base:
        pages = {
            "overview": "/",
            "model-daily": "/models/s.daily",
            "model-checked": "/models/s.checked",
            "runs": "/runs",
            "run": "/runs/1",
            "sources": "/sources",
            "alerts": "/alerts",
            "partitions": "/partitions?start=2024-01-01",
            "lineage": "/lineage",
        }
        for name, path in pages.items():
            browser.get(base + path)
            assert browser.find_element(By.TAG_NAME, "h1").text
            if name == "lineage":  # laid out in a worker: wait for it to draw
                WebDriverWait(browser, 30).until(
                    lambda d: d.execute_script(
                        "return document.getElementById('lineage').dataset.ready"
                    )
                )
            assert _problems(browser) == [], (path, _problems(browser))
            browser.save_screenshot(str(SHOTS / f"{name}.png"))

        browser.get(base + "/models/s.daily")
        cells = {
            c.get_attribute("data-partition"): (c.get_attribute("data-state"), c.text)
            for c in browser.find_elements(By.CSS_SELECTOR, ".grid .cell")
        }
        assert cells == {
            "2024-01-01": ("complete", "C"),
            "2024-01-02": ("complete", "C"),
            "2024-01-03": ("waiting", "W"),
            "2024-01-04": ("complete", "C"),
        }

        browser.get(base + "/")
        shown = {}
        for row in browser.find_elements(By.CSS_SELECTOR, "main section table tbody tr"):
            cells = row.find_elements(By.TAG_NAME, "td")
            if len(cells) == 8:  # the models table
                badge = cells[0].find_element(By.CSS_SELECTOR, ".badge")
                shown[cells[1].text] = (badge.get_attribute("title"), badge.text.split()[0])
        assert shown == {  # one of each: failed, check_failed, blocked, waiting, stale
            "s.broken": ("failed", "F"),
            "s.checked": ("failed", "F"),
            "s.after_broken": ("blocked", "B"),
            "s.daily": ("waiting", "W"),
            "s.changing": ("stale", "S"),
            "s.good": ("complete", "C"),
        }
        browser.find_element(By.LINK_TEXT, "s.broken").click()
        assert browser.current_url.endswith("/models/s.broken")
        assert browser.find_element(By.TAG_NAME, "h1").text == "s.broken"
        assert (
            "then: orchestrator run +s.broken"
            in browser.find_element(By.CSS_SELECTOR, ".commands").text
        )

        browser.get(base + "/lineage")
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script("return document.getElementById('lineage').dataset.ready")
        )
        drawn = {
            g.get_attribute("data-id"): g.get_attribute("data-state")
            for g in browser.find_elements(By.CSS_SELECTOR, "#lineage g.node")
        }
        assert drawn["s.broken"] == "failed" and drawn["s.daily"] == "waiting"
        assert drawn["s.after_broken"] == "blocked"
        assert drawn["raw.events"] == "source" and len(drawn) == 8
        # every edge says its direction: an arrowhead at the reader, and a title naming both
        edges = browser.find_elements(By.CSS_SELECTOR, "#lineage path.edge")
        heads = browser.find_elements(By.CSS_SELECTOR, "#lineage path.arrowhead")
        assert edges and len(heads) == len(edges)
        titles = {e.find_element(By.TAG_NAME, "title").get_attribute("textContent") for e in edges}
        assert "s.broken → s.after_broken" in titles
        browser.find_element(By.CSS_SELECTOR, '#lineage g.node[data-id="s.daily"]').click()
        WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/models/s.daily"))
        assert _problems(browser) == []

        # one click from a red or waiting cell to its cause chain
        browser.get(base + "/models/s.daily")
        browser.find_element(By.CSS_SELECTOR, 'a.why .cell[data-partition="2024-01-03"]').click()
        assert browser.current_url.endswith("/models/s.daily/why/2024-01-03")
        assert "Why is s.daily[2024-01-03] waiting?" in browser.find_element(By.TAG_NAME, "h1").text
        browser.save_screenshot(str(SHOTS / "why.png"))
        assert _problems(browser) == []

        browser.get(base + "/models/s.checked")
        # the failing rows as a table: their columns as headers, NULL said as NULL
        sample = browser.find_element(By.CSS_SELECTOR, "table.sample")
        headers = [th.text for th in sample.find_elements(By.TAG_NAME, "th")]
        assert [h.lower() for h in headers] == ["x"]
        assert [td.text for td in sample.find_elements(By.TAG_NAME, "td")] == ["NULL"]


def test_the_report_opens_from_disk_with_no_network(estate, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    target = tmp_path / "report.html"
    assert estate.cli("report", "-o", str(target), now="2024-01-05T06:00").returncode == 0
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(target.as_uri())
        assert driver.find_element(By.TAG_NAME, "h1").text == "Is today's data ready?"
        # the lineage is drawn in the page itself (no worker from disk), its nodes are anchors
        drawn = driver.find_elements(By.CSS_SELECTOR, "#lineage g.node")
        assert len(drawn) == 8
        driver.find_element(By.CSS_SELECTOR, '#lineage g.node[data-id="s.broken"]').click()
        assert driver.current_url.endswith("#model-s.broken")
        driver.find_element(By.LINK_TEXT, "s.daily").click()
        assert driver.current_url.endswith("#model-s.daily")
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "report.png"))
        requests = [
            json.loads(e["message"])["message"]["params"]["request"]["url"]
            for e in driver.get_log("performance")
            if '"Network.requestWillBeSent"' in e["message"]
        ]
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        assert _problems(driver) == []
    finally:
        driver.quit()


def test_a_page_shows_a_run_in_progress_then_its_result(project, browser):
    """Open on the overview while a backfill runs: the banner shows its progress (polled from
    the lock's side file), and when the run ends the page shows its result, with no errors."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    project.seed("create schema raw; create table raw.knob as select 10::bigint as n")
    project.model("s.days", SLOW_DAYS)
    project.cli("run", check=True)
    project.seed("update raw.knob set n = 300000000")  # two seconds a partition, or so
    with serving(project) as base:
        browser.get(base + "/")
        live = browser.find_element(By.ID, "live")
        assert not live.is_displayed()  # nothing runs
        run = project.cli_background(
            "backfill", "s.days", "--start", "2024-01-01", "--end", "2024-01-07", "--threads", "1"
        )
        try:
            WebDriverWait(browser, 60, poll_frequency=0.1).until(
                lambda d: "tasks done" in d.find_element(By.ID, "live").text
            )
            assert "Run 2 (orchestrator backfill" in browser.find_element(By.ID, "live").text
            SHOTS.mkdir(exist_ok=True)
            browser.save_screenshot(str(SHOTS / "overview-running.png"))
            out, err = run.communicate(timeout=300)
        finally:
            run.kill()
        assert run.returncode == 0, err
        # the page reloads itself when the run has ended, and shows how it ended (an element
        # found just before the reload is stale: the next poll finds it again)
        WebDriverWait(
            browser, 90, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
        ).until(
            lambda d: (
                not d.find_element(By.ID, "live").is_displayed()
                and "backfill" in d.find_element(By.CSS_SELECTOR, "section:last-of-type tbody").text
            )
        )
        first = browser.find_element(By.CSS_SELECTOR, "section:last-of-type tbody tr").text
        assert first.startswith("2 backfill success")
        assert _problems(browser) == []


def test_a_columns_lineage_on_the_example_and_one_click_to_where_it_comes_from(tmp_path, browser):
    """The embedded example, built: on marts.revenue_daily each column lists the columns it
    is computed from and those it feeds; a click goes to that column of the other model, whose
    row is marked."""
    from conftest import REPO, ProjectDir
    from selenium.webdriver.common.by import By

    for name in ("models", "checks", "examples"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "orchestrator.toml", tmp_path / "orchestrator.toml")
    example = ProjectDir(tmp_path)
    example.cli("run", now=None, check=True)
    SHOTS.mkdir(exist_ok=True)
    with serving(example) as base:
        browser.get(base + "/models/marts.revenue_daily")
        row = browser.find_element(By.ID, "column-marts.revenue_daily.net_revenue")
        fed_by, feeds = (c.text.splitlines() for c in row.find_elements(By.TAG_NAME, "td")[2:4])
        assert fed_by == [
            "marts.fct_orders.captured_amount",
            "marts.fct_orders.processor_fees",
            "staging.stg_refunds.amount",
            "staging.stg_subscriptions.monthly_price",
        ]
        assert feeds == [
            "marts.revenue_monthly.net_revenue",
            "reporting.revenue_dashboard.month_to_date",
            "reporting.revenue_dashboard.net_revenue",
            "reporting.revenue_dashboard.rolling_7d_avg",
        ]
        assert _problems(browser) == []
        browser.save_screenshot(str(SHOTS / "model-revenue-daily.png"))
        row.find_element(By.PARTIAL_LINK_TEXT, "captured_amount").click()
        assert browser.current_url.endswith(
            "/models/marts.fct_orders#column-marts.fct_orders.captured_amount"
        )
        marked = browser.find_element(By.CSS_SELECTOR, "tr:target")
        assert marked.get_attribute("id") == "column-marts.fct_orders.captured_amount"
        assert "staging.stg_payments.amount" in marked.text
        browser.save_screenshot(str(SHOTS / "model-column-target.png"))

"""The platform as its users see it: the real Dagster webserver and daemon (`fraud-assets
ui`) on a free loopback port, with instance storage in the test PostgreSQL server, driven
by headless Chromium.

One UI for the module (starting it costs ~10-20 s). Days, relative to today:
  D0         materialized in-process by the demo's own code path before the UI looks: its
             run must be in the UI (same instance)
  D1         materialized from the UI (Materialize all -> one partition -> Launch 1 run)
  latest 3   a backfill of the three latest days launched from the UI (the latest as of
             the launch: feeds exist through TODAY, so a run across midnight still works)
  BAD        a feed with 10% bad amounts: the blocking quarantine check fails and says why
Screenshots: FRAUD_TEST_ARTIFACTS (default /tmp/fraud-assets-artifacts).
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import fraud_assets.definitions as definitions_module
from fraud_assets.demo import GeneratorConfig, generate
from fraud_assets.ui_command import LOCATION_NAME
from fraud_assets_tests.conftest import reset_database
from fraud_assets_tests.feeds import good_record, write_feed
from fraud_assets_tests.ui import dagster_api as api
from fraud_assets_tests.ui.browser import (
    artifacts_dir,
    browser_missing,
    dismiss_community_popup,
    headless_chromium,
    screenshot,
    wait_for_text,
)
from fraud_assets_tests.ui.server import UIServer, running_ui, wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS = ("postgres_transactions", "s3_partitioned_parquet", "fraud_features", "fraud_alerts")
TODAY = dt.datetime.now(dt.UTC).date()
D0, D1, BAD = (TODAY - dt.timedelta(days=n) for n in (8, 7, 5))
SCHEDULE = "daily_fraud_detection_after_midnight_utc"
LINEAGE = "/assets/fraud_alerts?view=lineage&lineageScope=upstream&lineageDepth=5"
RUN_TIMEOUT_S = 600  # a Spark run; on a 2-core machine shared with other Spark jobs it took minutes

pytestmark = pytest.mark.skipif(bool(browser_missing()), reason=browser_missing() or "")


def _fresh_database(conninfo: str, name: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _write_bad_day(landing: Path) -> None:
    """60 good records and 6 with a negative amount: 9% quarantined, over the 1% limit."""
    records = [
        good_record(f"UIBAD{i:05d}", f"{BAD.isoformat()}T{8 + i // 10:02d}:{i % 60:02d}:00Z")
        for i in range(66)
    ]
    for record in records[-6:]:
        record["amount"] = "-5.00"
    day = landing / "transactions" / f"date={BAD.isoformat()}"
    shutil.rmtree(day, ignore_errors=True)  # only this feed for the day
    write_feed(day / "bad_feed.csv", records)


@pytest.fixture(scope="module")
def ui(postgres, tmp_path_factory) -> Iterator[dict]:
    reset_database(postgres)
    home = tmp_path_factory.mktemp("ui-home")
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    # Its own instance database: the UI shows only this module's runs.
    _fresh_database(postgres.conninfo, "dagster_ui")
    landing, lake = home / "landing", home / "lake"
    generate(
        GeneratorConfig(start=D0, days=(TODAY - D0).days + 1, transactions_per_day=150, seed=11),
        landing,
        home / "ground_truth",
    )
    _write_bad_day(landing)
    overrides = {
        "FRAUD_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_DB": "dagster_ui",
        "FRAUD_LANDING_URI": str(landing),
        "FRAUD_LAKE_URI": str(lake),
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in overrides.items():
            mp.setenv(key, value)
        # The code location binds its resources when it is imported, as a deployment does;
        # the suite imported it (collecting other tests) before this module moved FRAUD_HOME
        # and the landing, so the demo path below must see a location bound afresh.
        importlib.reload(definitions_module)
        log = artifacts_dir() / "ui.log"  # kept with the screenshots
        print(f"UI log: {log}")
        with running_ui(dict(os.environ), log) as server:
            # The demo's path (`fraud-assets demo` -> materialize_days, in this process, on
            # DagsterInstance.get()) while the UI runs: its run must show up there.
            from dagster import DagsterInstance, RunsFilter

            from fraud_assets.cli import materialize_days

            assert materialize_days([D0])
            # The daemon's sensors launch runs of their own meanwhile (a freshness check):
            # the demo's run is the newest of the daily job, not the newest of all.
            demo_runs = DagsterInstance.get().get_run_records(
                filters=RunsFilter(job_name="daily_fraud_detection"), limit=1
            )
            yield {"server": server, "demo_run_id": demo_runs[0].dagster_run.run_id, "home": home}
    importlib.reload(definitions_module)  # bound to the suite's environment again


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with headless_chromium() as driver:
        yield driver


def _open(driver, server: UIServer, path: str) -> None:
    driver.get(server.url + path)
    dismiss_community_popup(driver)


def _launch_from_materialize_dialog(
    driver, server: UIServer, selection: str, button: str, page: str = LINEAGE
) -> None:
    """The user's way: 'Materialize all…' on `page`, type the partitions, launch."""
    _open(driver, server, page)
    wait_for_text(driver, ["Materialize all"], 60)
    next(
        b for b in driver.find_elements(By.TAG_NAME, "button") if "Materialize all" in b.text
    ).click()
    wait_for_text(driver, ["Partition selection"], 30)
    dialog = driver.find_element(By.CSS_SELECTOR, ".bp5-dialog")
    box = next(
        i for i in dialog.find_elements(By.TAG_NAME, "input") if i.get_attribute("type") == "text"
    )
    box.click()
    box.send_keys(selection, Keys.ENTER)
    wait_for_text(driver, [button], 30)
    screenshot(driver, f"launch-{selection.strip('[]').replace('...', '_to_')}")
    next(b for b in dialog.find_elements(By.TAG_NAME, "button") if b.text.strip() == button).click()


def _wait_run(server: UIServer, partition: str) -> dict:
    def finished():
        runs = api.runs_for_partition(server, partition)
        return runs[0] if runs and runs[0]["status"] in api.FINISHED else None

    return wait_for(finished, RUN_TIMEOUT_S, f"the run for {partition} to finish", interval=2)


def test_asset_graph_shows_the_four_assets_with_their_story(ui, browser):
    server = ui["server"]
    _open(browser, server, "/assets/fraud_alerts?view=lineage&lineageScope=upstream&lineageDepth=5")
    wait_for_text(browser, [*ASSETS, "ingest", "lake", "detection"], 60)
    screenshot(browser, "asset-graph")
    # Zoomed out to fit every node, the graph drops the check labels: the Checks tab lists them.
    _open(browser, server, "/assets/fraud_alerts?view=checks")
    wait_for_text(browser, ["scores_and_levels_consistent", "alert_rate_within_band"], 60)
    screenshot(browser, "fraud-alerts-checks")
    _open(browser, server, "/assets/fraud_alerts")
    wait_for_text(
        browser,
        ["Description", "Columns", "risk_level", "fraud-data-engineering", "PySpark", "Postgres"],
        60,
    )
    screenshot(browser, "fraud-alerts-overview")


def test_the_demo_runs_are_in_the_ui(ui, browser):
    server, run_id = ui["server"], ui["demo_run_id"]
    assert api.run_status(server, run_id) == "SUCCESS"
    _open(browser, server, f"/runs/{run_id}")
    wait_for_text(browser, ["Success", "daily_fraud_detection"], 60)
    screenshot(browser, "demo-run")


def test_schedule_for_yesterday_can_be_turned_on(ui, browser):
    server = ui["server"]
    assert api.schedule_status(server, SCHEDULE) == "STOPPED"
    _open(browser, server, f"/locations/{LOCATION_NAME}/schedules/{SCHEDULE}")
    wait_for_text(browser, [SCHEDULE, "daily_fraud_detection"], 60)
    toggle = browser.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
    browser.execute_script("arguments[0].click();", toggle)
    wait_for(lambda: api.schedule_status(server, SCHEDULE) == "RUNNING", 30, "the schedule to run")
    screenshot(browser, "schedule-on")
    browser.execute_script(
        "arguments[0].click();", browser.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
    )
    wait_for(lambda: api.schedule_status(server, SCHEDULE) == "STOPPED", 30, "the schedule to stop")


def test_materialize_one_day_from_the_ui(ui, browser):
    server = ui["server"]
    _launch_from_materialize_dialog(browser, server, D1.isoformat(), "Launch 1 run")
    run = _wait_run(server, D1.isoformat())
    _open(browser, server, f"/runs/{run['runId']}")
    wait_for_text(browser, [run["runId"][:8]], 60)
    screenshot(browser, "one-day-run")
    assert run["status"] == "SUCCESS", server.log_tail()
    for asset in ASSETS:
        assert api.materialized_partitions(server, asset, [D1.isoformat()]) == {D1.isoformat()}
    # The day's story in the materialization metadata.
    _open(browser, server, "/assets/fraud_alerts?view=events")
    wait_for_text(browser, ["alerts_by_risk_level", "rules_fired", "alert_volume"], 60)
    screenshot(browser, "fraud-alerts-metadata")


def test_backfill_three_days_from_the_ui(ui, browser):
    server = ui["server"]
    # The three latest partitions, taken at launch. A backfill from the asset graph also
    # targets every later partition whose features look back on the chosen days (the
    # lookback's partition mapping), so a range that is not the latest would pull in later
    # days, and those must be in the lake. CI once crossed midnight between a range
    # computed at import and the launch: the new day was pulled in and had no lake data.
    latest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    days = [(latest - dt.timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    _launch_from_materialize_dialog(browser, server, f"[{days[0]}...{days[-1]}]", "Launch backfill")
    backfill = wait_for(
        lambda: next((b for b in api.backfills(server) if b["status"] not in ("REQUESTED",)), None),
        RUN_TIMEOUT_S,
        "the backfill to finish",
        interval=2,
    )
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (backfill, server.log_tail())
    for asset in ASSETS:
        assert api.materialized_partitions(server, asset, days) == set(days), asset
    _open(browser, server, f"/runs/b/{backfill['id']}")
    wait_for_text(browser, ["Succeeded", days[0], days[-1]], 60)
    screenshot(browser, "backfill")
    _open(browser, server, "/assets/fraud_alerts?view=partitions")
    wait_for_text(browser, [days[-1]], 60)
    screenshot(browser, "fraud-alerts-partitions")


def test_a_failed_check_explains_itself(ui, browser):
    server = ui["server"]
    _launch_from_materialize_dialog(browser, server, BAD.isoformat(), "Launch 1 run")
    run = _wait_run(server, BAD.isoformat())
    assert run["status"] == "FAILURE"
    _open(browser, server, "/assets/postgres_transactions?view=checks")
    wait_for_text(browser, ["Checks (2)", "Failed"], 60)
    # The list truncates long names in the middle ("quarantine_rate…ithin_threshold").
    browser.find_element(By.XPATH, "//*[starts-with(text(), 'quarantine_rate')]").click()
    body = wait_for_text(
        browser,
        ["quarantine_rate_within_threshold", "Failed", "explanation", BAD.isoformat()],
        60,
    )
    screenshot(browser, "failed-check")
    # Counts and sample keys, readable without opening anything.
    assert "6 of 66 records quarantined" in body
    assert "non_positive_amount 6" in body
    assert "bad_feed.csv record" in body and "UIBAD00060" in body

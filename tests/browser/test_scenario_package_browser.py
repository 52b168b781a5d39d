"""A scenario package named in STUDIO_SCENARIOS, seen in Chromium: its page in the navigation and its
card on the Overview, next to the built-in four."""

import os
import subprocess
import sys

import pytest

from tests.workspace.test_scenario_package import ROOT, make_customers, write_package


@pytest.mark.browser
def test_the_package_page_is_in_the_navigation(tmp_path, page, screenshot_dir):
    from tests.conftest import run_app

    package = write_package(tmp_path / "ext")
    env = {"PYTHONPATH": os.pathsep.join([str(package.parent), str(ROOT)]), "STUDIO_SCENARIOS": "churn_scenario"}
    data = tmp_path / "customers.csv"
    make_customers(400, seed=0).to_csv(data, index=False)
    done = subprocess.run([sys.executable, "-m", "core", "train", "--scenario", "churn", "--data", str(data),
                           "--save", str(tmp_path / "runs" / "churn-1")], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env, "STUDIO_RUNS_DIR": str(tmp_path / "runs")}, timeout=300)
    assert done.returncode == 0, done.stderr
    with run_app(tmp_path, env=env) as url:
        page.goto(url)
        page.get_by_text("Which subscribers will leave next month?").wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_role("link", name="Credit scoring").wait_for()
        titles = nav.inner_text()
        # The Overview's card links the new page and reads its saved run like any other scenario's.
        page.get_by_role("link", name="Open customer churn").wait_for()
        page.get_by_text("ROC-AUC").first.wait_for()
        card_text = page.get_by_text("Open customer churn").count()
        page.get_by_text("Which subscribers will leave next month?").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "scenario_package_overview.png"))
        nav.get_by_role("link", name="Customer churn").click()
        page.get_by_role("heading", name="Customer churn").wait_for()
        page.get_by_text("Subscribers (CSV)").wait_for()
        page.screenshot(path=str(screenshot_dir / "scenario_package_page.png"))
        assert not page.get_by_text("Traceback").count()
    # Its place follows its declared order: after the four built-in scenarios, before the workspace pages.
    order = [t for t in ("Credit scoring", "Quality inspection", "Customer churn", "Runs") if t in titles]
    assert order == ["Credit scoring", "Quality inspection", "Customer churn", "Runs"]
    assert card_text == 1

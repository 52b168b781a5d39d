"""The Monitor page in Chromium retraining a demand run: the sales history with the new weeks is
uploaded beside the retrain button, the challenger is trained, its verdict against the champion shown.
Screenshots are kept."""

from __future__ import annotations

import pytest

from tests.conftest import clipped_texts, run_app
from tests.monitor.test_retrain_demand import forecasts_with_sales

pytestmark = pytest.mark.browser


def test_a_demand_challenger_from_the_monitor_page(saved_demo_runs, tmp_path, browser, screenshot_dir):
    loop = forecasts_with_sales(saved_demo_runs["demand"], tmp_path)
    context = browser.new_context(viewport={"width": 1440, "height": 2200})
    page = context.new_page()
    page.set_default_timeout(240_000)
    with run_app(tmp_path) as url:
        page.goto(f"{url}/monitor")
        page.get_by_text("Close the loop").wait_for()
        page.get_by_text("Month", exact=True).click()
        page.get_by_text("Latest month: 2026-01-01", exact=False).wait_for()
        assert page.get_by_role("button", name="Train a challenger").is_disabled()  # no history uploaded yet
        page.locator("input[type=file]").nth(1).set_input_files(str(loop["work"] / "history_new.csv"))
        page.get_by_text("history_new.csv").wait_for()
        page.get_by_role("button", name="Train a challenger").click()
        try:
            page.get_by_text("MAE on 56 comparison rows", exact=False).wait_for()
        finally:
            page.screenshot(path=str(screenshot_dir / "monitor_demand_challenger.png"), full_page=True)
        assert page.get_by_text("demand-1-challenger-1", exact=False).count() >= 1
        assert page.locator("[data-testid=stException]").count() == 0
        assert clipped_texts(page) == []
    context.close()

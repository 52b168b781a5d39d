"""The Monitor page in Chromium: three weeks of logged predictions (the last one drifted), outcomes
uploaded through the page, the alerts, charts and table a person reads. Screenshots are kept."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import click_tab, clipped_texts, run_app
from tests.monitor.helpers import applications, log_batch, make_run

pytestmark = pytest.mark.browser
WEEKS = ((31, "2024-05-06", 0.0), (32, "2024-05-13", 0.3), (33, "2024-05-20", 1.5))


def test_monitor_page_in_the_browser(tmp_path, browser, screenshot_dir):
    run = make_run(tmp_path / "runs", sharpen=2.0)  # over-confident scores: the page says it calibrated them
    batches = [applications(500, seed=s, shift=shift, start=w, days=7) for s, w, shift in WEEKS]
    for batch in batches:
        log_batch(run, batch, sharpen=2.0)
    outcomes = tmp_path / "outcomes.csv"
    pd.concat(batches[:2])[["applicant_id", "default"]].to_csv(outcomes, index=False)  # the last week: not yet
    context = browser.new_context(viewport={"width": 1440, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(120_000)
    with run_app(tmp_path) as url:
        page.goto(f"{url}/monitor")
        page.get_by_text("Close the loop").wait_for()
        assert page.get_by_text("Latest week: 2024-05-20 to 2024-05-26").count() == 1
        assert page.get_by_text("calibrated with", exact=False).count() >= 1
        assert page.get_by_text("The model's scores shifted", exact=False).count() >= 1
        page.locator("[data-testid=stPlotlyChart]").first.wait_for()  # the page is drawn to its end
        page.get_by_role("button", name="Train a challenger").wait_for()
        page.screenshot(path=str(screenshot_dir / "monitor_before_outcomes.png"), full_page=True)

        page.locator("input[type=file]").first.set_input_files(str(outcomes))
        page.get_by_role("button", name="Record outcomes").click()
        page.get_by_text("1,000 outcome(s) received: 1,000 matched a logged prediction, 0 did not.").wait_for()
        page.reload()  # the monitor is read again with the outcomes
        page.get_by_text("Close the loop").wait_for()
        page.locator("[data-testid=stPlotlyChart]").first.wait_for()
        page.screenshot(path=str(screenshot_dir / "monitor_performance.png"), full_page=True)
        assert page.get_by_text("Realized ROC-AUC", exact=True).count() >= 1
        assert clipped_texts(page) == []

        for tab, marker in (("Drift", "Drift over time"), ("Volume", "Rows scored and outcomes received"),
                            ("Decisions", "Decision mix over time"),
                            ("Table", "Download the table (CSV)")):
            click_tab(page, tab)
            page.get_by_text(marker).first.wait_for()
            page.screenshot(path=str(screenshot_dir / f"monitor_{tab.lower()}.png"), full_page=True)
        assert page.locator("[data-testid=stException]").count() == 0
    context.close()

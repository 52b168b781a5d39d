"""The demand training as a job in a worker process, in Chromium: live progress with Cancel, a cancelled
training keeps nothing, and a reload during a training finds it again and shows its result."""

import re

import pytest

from tests.conftest import click_tab
from tests.demand.page_steps import fill_small_settings


@pytest.mark.browser
def test_demand_training_job_progress_cancel_and_reload(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/demand")
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    fill_small_settings(page, 200)
    page.get_by_role("button", name="Train forecast model").click()
    page.get_by_text("Training running for").first.wait_for(timeout=120_000)
    epoch = page.get_by_text(re.compile(r"^Epoch \d+ of \d+ — loss \d"))  # epochs of every averaged network
    epoch.first.wait_for(timeout=180_000)  # the worker reports its epochs, polled by the page
    epoch.first.evaluate("e => e.scrollIntoView({block: 'start'})")  # the panel and its curve on screen
    page.wait_for_timeout(2500)  # a poll or two: the training curve is drawn
    page.screenshot(path=str(screenshot_dir / "demand_job_running.png"), full_page=True)
    assert page.get_by_role("button", name="Cancel").count() == 1
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The training was cancelled; nothing of it was kept").wait_for(timeout=30_000)
    assert page.get_by_text("Model trained:").count() == 0
    page.screenshot(path=str(screenshot_dir / "demand_job_cancelled.png"), full_page=True)

    # A reload while a training runs starts a new session: the browser's key in the address finds the job.
    fill_small_settings(page, 2)
    page.get_by_role("button", name="Train forecast model").click()
    page.get_by_text("Training running for").first.wait_for(timeout=120_000)
    assert "s=" in page.url
    page.reload()
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    page.get_by_text("Model trained:").first.wait_for(timeout=300_000)
    click_tab(page, "Backtest")
    page.get_by_role("heading", name="Backtest: network vs baselines").wait_for()
    page.screenshot(path=str(screenshot_dir / "demand_job_after_reload.png"), full_page=True)
    assert not page.get_by_text("Traceback").count()
    assert not page.locator("[data-testid='stException']").count()

"""The fraud page's training as a job in a real browser (worker processes): its live progress, found
again after a visit to another page and after a reload, and Cancel, which stops it and keeps nothing;
then a short training and the imbalance comparison, a job of its own on the trained run."""

import re

import pytest

from tests.conftest import click_tab


@pytest.mark.browser
def test_fraud_training_progress_survives_reload_and_cancels(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Column mapping").wait_for(timeout=90_000)
    page.get_by_role("button", name="Train model").wait_for()
    epochs = page.get_by_label("Epochs (early stopping)")
    epochs.fill("200")  # long enough to be caught running
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    running = page.get_by_text("Training running for")
    running.wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"Epoch \d+ of 200")).wait_for(timeout=300_000)  # the worker's epochs, polled
    page.wait_for_timeout(1500)
    running.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_job_running.png"), full_page=False)
    assert page.get_by_role("button", name="Cancel").count() == 1
    assert "s=" in page.url  # the browser's key: a reload finds its job again

    page.get_by_role("link", name="Credit scoring").click()  # leave the page while it trains...
    page.get_by_text("Train a Keras network against").wait_for(timeout=60_000)
    page.get_by_role("link", name="Fraud detection").click()  # ...and come back: the job is found again
    page.get_by_text("Training running for").wait_for(timeout=120_000)
    page.reload()
    page.get_by_text("Training running for").wait_for(timeout=120_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The training was cancelled; nothing of it was kept.").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    page.get_by_text("The training was cancelled").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_job_cancelled.png"), full_page=False)
    assert page.get_by_text("Model trained:").count() == 0
    assert page.get_by_text("Training running for").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0

    epochs = page.get_by_label("Epochs (early stopping)")
    epochs.fill("2")
    epochs.press("Tab")
    explained = page.get_by_label("Alerts explained (SHAP)")
    explained.fill("20")
    explained.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained:").first.wait_for(timeout=300_000)
    click_tab(page, "Imbalance comparison")
    panel = page.get_by_role("tabpanel", name="Imbalance comparison")
    panel.get_by_label("Epochs per strategy").fill("1")
    panel.get_by_label("Epochs per strategy").press("Tab")
    panel.get_by_role("button", name="Compare strategies").click()
    panel.get_by_text("ranks fraud best").wait_for(timeout=300_000)  # the recommendation, from the worker's table
    page.wait_for_timeout(1000)
    panel.get_by_text("ranks fraud best").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_job_comparison.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0

"""The fraud page in a real browser: train on the sample, read the results, open the alert queue."""

import pytest


@pytest.mark.browser
def test_fraud_page_trains_and_shows_alert_queue(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Column mapping").wait_for(timeout=90_000)
    page.get_by_text("Fraud rate").wait_for(timeout=60_000)
    page.get_by_role("button", name="Train model").wait_for()
    page.screenshot(path=str(screenshot_dir / "fraud_setup.png"), full_page=False)
    epochs = page.get_by_label("Epochs (early stopping)")
    epochs.fill("4")
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("PR-AUC (headline)").wait_for(timeout=300_000)
    page.wait_for_timeout(1500)
    page.get_by_text("PR-AUC (headline)").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_performance.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Keras network").count() >= 1

    page.get_by_role("tab", name="Alert policy").click()
    page.get_by_text("Optimal: savings vs no model").wait_for()
    page.wait_for_timeout(1000)
    page.get_by_text("Review fee per alert").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_policy.png"), full_page=False)

    page.get_by_role("tab", name="Alert queue").click()
    page.get_by_role("button", name="Download alert queue (CSV)").wait_for()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(screenshot_dir / "fraud_queue.png"), full_page=False)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download alert queue (CSV)").click()
    text = open(dl.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("rank,") and "top_reasons" in text.splitlines()[0]
    assert "typical" in text

    page.get_by_role("tab", name="Explanations").click()
    page.get_by_text("Top reasons:").first.wait_for()
    page.wait_for_timeout(1000)
    page.get_by_text("Top reasons:").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_explain.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0

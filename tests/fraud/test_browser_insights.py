"""Browser test: lift and gains on the fraud page's Performance tab and per-feature dependence on its
Explanations tab, drawn in Chromium."""

import pytest

from tests.conftest import click_tab, plotly_chart as _chart


@pytest.mark.browser
def test_fraud_lift_and_dependence(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Fraud rate").wait_for(timeout=90_000)
    epochs = page.get_by_label("Epochs (early stopping)")
    epochs.fill("2")
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("PR-AUC (headline)").wait_for(state="attached", timeout=300_000)
    click_tab(page, "Performance")
    gains = _chart(page, "Cumulative gains")
    assert "perfect ranking" in gains.inner_text() and "Keras network" in gains.inner_text()
    page.get_by_text("Reviewing the riskiest 20% of transactions catches").wait_for()
    page.get_by_text("Lift and cumulative gains").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_lift_section.png"), full_page=False)

    click_tab(page, "Explanations")
    flip = page.get_by_text("What would flip this alert")
    flip.wait_for()
    flip.scroll_into_view_if_needed()
    page.get_by_text("alert threshold").first.wait_for()  # core's answer for the riskiest transaction
    page.screenshot(path=str(screenshot_dir / "fraud_flip.png"), full_page=False)
    page.get_by_text("How one feature moves the prediction").wait_for()
    assert _chart(page, "SHAP dependence:").is_visible()
    assert "single rows (ICE)" in _chart(page, "Partial dependence:").inner_text()
    page.get_by_text("How one feature moves the prediction").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_dependence.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0

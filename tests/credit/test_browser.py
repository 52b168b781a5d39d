"""Browser test: the credit page trains on the sample and shows metrics and the SHAP chart."""

import pytest

from tests.conftest import click_tab


@pytest.mark.browser
def test_credit_page_trains_and_explains(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/credit")
    page.get_by_text("Training options").wait_for(timeout=90_000)
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("2")
    rows = page.get_by_label("Use at most this many rows (0 = all)")
    rows.fill("1200")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").wait_for(timeout=240_000)
    click_tab(page, "Performance")
    page.get_by_text("ROC-AUC").first.wait_for()
    assert page.get_by_text("Network against the baselines").is_visible()
    click_tab(page, "Explanations")
    page.get_by_text("What drives the predicted risk").wait_for()
    shap_chart = page.locator(".js-plotly-plot").filter(has_text="Global importance (mean |SHAP|)")
    shap_chart.wait_for()
    assert shap_chart.is_visible()
    page.screenshot(path=str(screenshot_dir / "credit_explanations.png"), full_page=True)

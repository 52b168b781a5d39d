"""Browser test: the credit page trains on the sample and shows metrics and the SHAP chart."""

import pytest

from tests.conftest import click_tab, clipped_texts


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


@pytest.mark.browser
def test_credit_page_trains_and_explains(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/credit")
    page.get_by_text("Training options").wait_for(timeout=90_000)
    # The data preview names the analyst's columns in words (the file's name is on hover).
    preview = headers(page)
    assert "Applicant ID" in preview and "Loan amount" in preview and not [h for h in preview if "_" in h], preview
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("2")
    rows = page.get_by_label("Use at most this many rows (0 = all)")
    rows.fill("1200")
    # Sensitive columns are called out before training, with the way to use one as a feature.
    callout = page.get_by_text("Kept out of the model: age, sex.")
    assert callout.is_visible()
    assert page.get_by_role("button", name="Use age as a feature").is_visible()
    # The blend with the best baseline is tried by default; one click turns it off.
    blend = page.get_by_role("checkbox", name="Blend with the best baseline")
    assert blend.is_checked()
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").first.wait_for(timeout=240_000)
    # Which model is recommended (saved, scored and explained) is said under what was trained.
    recommended = page.get_by_text("Ensemble used").or_(page.get_by_text("Recommended model: the Keras network"))
    recommended.first.wait_for()
    recommended.first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_recommended.png"))
    trained = page.get_by_text("Model trained:").first.inner_text()
    assert "of 2 epochs" in trained and "weights of epoch" in trained
    assert page.get_by_text("Kept out of this model: age, sex").is_visible()
    page.get_by_text("Model trained").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_trained.png"))
    assert clipped_texts(page) == []  # form labels and tiles are read whole
    click_tab(page, "Performance")
    page.get_by_text("(the best baseline)").first.wait_for()
    brier = page.locator('[data-testid="stMetric"]').filter(has_text="Brier score")
    brier.first.wait_for()  # the tiles are drawn after the verdict on a busy server
    assert brier.count() == 1  # plain names
    assert clipped_texts(page) == []
    assert page.get_by_text("Network against the baselines").is_visible()
    click_tab(page, "Explanations")
    page.get_by_text("What drives the predicted risk").wait_for()
    shap_chart = page.locator(".js-plotly-plot").filter(has_text="Global importance (mean |SHAP|)")
    shap_chart.wait_for()
    assert shap_chart.is_visible()
    page.screenshot(path=str(screenshot_dir / "credit_explanations.png"), full_page=True)

"""Browser test: lift and gains, per-feature dependence and 'what would flip this decision' on the
credit page, drawn in Chromium."""

import pytest

from tests.conftest import click_tab, plotly_chart as _chart


@pytest.mark.browser
def test_credit_lift_dependence_and_flip(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/credit")
    page.get_by_text("Training options").wait_for(timeout=90_000)
    page.get_by_label("Epochs (early stopping may end sooner)").fill("2")
    page.get_by_label("Use at most this many rows (0 = all)").fill("1200")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").first.wait_for(timeout=240_000)

    click_tab(page, "Performance")
    gains = _chart(page, "Cumulative gains")
    assert gains.is_visible() and "perfect ranking" in gains.inner_text() and "random" in gains.inner_text()
    assert _chart(page, "Lift by decile").is_visible()
    page.get_by_text("Declining the riskiest 20% of applicants catches").wait_for()
    page.get_by_role("button", name="Download the decile table (CSV)").wait_for()
    gains.screenshot(path=str(screenshot_dir / "credit_gains.png"))
    page.get_by_text("Lift and cumulative gains").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_lift_section.png"), full_page=False)

    click_tab(page, "Explanations")
    page.get_by_text("How one feature moves the prediction").wait_for()
    dep = _chart(page, "SHAP dependence:")
    pdp = _chart(page, "Partial dependence:")
    assert dep.is_visible() and pdp.is_visible() and "single rows (ICE)" in pdp.inner_text()
    page.get_by_text("How one feature moves the prediction").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_dependence.png"), full_page=False)

    click_tab(page, "What-if")
    page.get_by_text("What would flip this decision").wait_for()
    answer = page.locator("[data-testid='stAlert']").filter(has_text="instead of").or_(
        page.locator("[data-testid='stAlert']").filter(has_text="No change within the allowed ranges"))
    answer.first.wait_for(timeout=60_000)
    assert page.get_by_text("Never changed: Age").count() == 0  # age is not a feature here: nothing to hold
    page.get_by_text("What would flip this decision").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_flip.png"), full_page=False)
    answer.first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_flip_answer.png"), full_page=False)

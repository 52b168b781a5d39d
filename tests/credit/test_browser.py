"""Browser tests of the credit page on one training they share (one page for the module, 2 epochs on
1,200 rows): metrics and the SHAP chart; then lift and gains, per-feature dependence and 'what would
flip this decision', drawn in Chromium."""

import pytest

from tests.conftest import click_tab, clipped_texts, plotly_chart as _chart, shared_page

pytestmark = pytest.mark.browser


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


def _open_and_set(page, app_url) -> None:
    page.goto(f"{app_url}/credit")
    page.get_by_text("Training options").wait_for(timeout=90_000)
    page.get_by_label("Epochs (early stopping may end sooner)").fill("2")
    page.get_by_label("Use at most this many rows (0 = all)").fill("1200")


def _train(shared) -> None:
    shared.page.get_by_role("button", name="Train model").click()
    shared.page.get_by_text("Model trained").first.wait_for(timeout=240_000)
    shared.trained = True


@pytest.fixture(scope="module")
def shared(browser):
    with shared_page(browser) as s:
        yield s


@pytest.fixture
def trained(shared, app_url):
    """The shared page with the training on it (trained here when the first test did not get so far)."""
    if not shared.trained:
        _open_and_set(shared.page, app_url)
        _train(shared)
    return shared.page


def test_credit_page_trains_and_explains(app_url, shared, screenshot_dir):
    page = shared.page
    _open_and_set(page, app_url)
    # The data preview names the analyst's columns in words (the file's name is on hover).
    preview = headers(page)
    assert "Applicant ID" in preview and "Loan amount" in preview and not [h for h in preview if "_" in h], preview
    # Sensitive columns are called out before training, with the way to use one as a feature.
    callout = page.get_by_text("Kept out of the model: age, sex.")
    assert callout.is_visible()
    assert page.get_by_role("button", name="Use age as a feature").is_visible()
    # The blend with the best baseline is tried by default; one click turns it off.
    blend = page.get_by_role("checkbox", name="Blend with the best baseline")
    assert blend.is_checked()
    _train(shared)
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


def test_credit_lift_dependence_and_flip(trained, screenshot_dir):
    page = trained
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

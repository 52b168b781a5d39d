"""Browser tests of the credit page on one training they share (one page for the module, 2 epochs on
1,200 rows, 50 rows explained): metrics and the SHAP chart; lift and gains, per-feature dependence and
'what would flip this decision'; last, one true story: the results say which data they were trained
on and warn when the page shows other data, one decline rule, proxies kept out of reason codes, the
Save button in the Export tab."""

import pytest

from tests.conftest import click_tab, clipped_texts, plotly_chart as _chart

pytestmark = pytest.mark.browser


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


def body(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def settle(page) -> None:
    """Wait until the rerun has redrawn the page (no element left over from before it, shown faded)."""
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=120_000)
    page.wait_for_timeout(500)


def _open_and_set(page, app_url) -> None:
    page.goto(f"{app_url}/credit")
    page.get_by_text("Training options").wait_for(timeout=90_000)
    page.get_by_label("Epochs (early stopping may end sooner)").fill("2")
    page.get_by_label("Use at most this many rows (0 = all)").fill("1200")
    page.get_by_label("Rows explained with SHAP").fill("50")


def _train(shared) -> None:
    shared.page.get_by_role("button", name="Train model").click()
    shared.page.get_by_text("Model trained").first.wait_for(timeout=240_000)
    shared.trained = True


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
    tabs = page.get_by_role("tab").all_inner_texts()
    assert tabs[0] == "Data & training" and tabs[-1] == "Export"
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


def test_credit_results_belong_to_their_data_and_keep_proxies_out(trained, app_workdir, screenshot_dir, tmp_path):
    page = trained
    page.set_default_timeout(90_000)
    other = tmp_path / "my_applicants.csv"
    other.write_text("income,debt,default\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(60)))
    label = page.get_by_text("Results of the model trained on the bundled sample "
                             "(credit_applications.csv, 1,200 applications)")
    label.wait_for(timeout=300_000)

    # One decline rule: the grade table counts the approved and declined of each grade (a grade the
    # line cuts is split), and the what-if's decision reads as the table writes it.
    click_tab(page, "Scorecard")
    heads = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    heads.filter(has_text="Declined").first.wait_for(state="attached")
    assert {"Grade", "Approved", "Declined", "Decision"} <= set(heads.all_text_contents())
    page.screenshot(path=str(screenshot_dir / "story_credit_scorecard.png"))
    click_tab(page, "What-if")
    page.get_by_text("The line: P(default)").first.wait_for()
    decision = page.locator("[data-testid='stMetric']").filter(has_text="Decision")
    assert decision.locator("[data-testid='stMetricValue']").inner_text() in ("Approve", "Decline")
    assert "APPROVE" not in body(page) and "Review" not in body(page)
    page.screenshot(path=str(screenshot_dir / "story_credit_what_if.png"))

    # Proxies: out of reason codes by default, the toggle says which.
    click_tab(page, "Reason codes")
    toggle = page.locator("label").filter(has_text="Keep features that may stand in for a protected attribute")
    toggle.wait_for()
    assert "Region" in toggle.inner_text() and toggle.locator("input").is_checked()
    page.get_by_text("Left out of every reason").wait_for()
    page.screenshot(path=str(screenshot_dir / "story_credit_reasons.png"))

    # The Save button is in the Export tab, and says where it saves without a server path.
    click_tab(page, "Export")
    page.get_by_role("button", name="Save to workspace").wait_for()
    assert "Saved into the main runs folder" in body(page) and str(app_workdir) not in body(page)

    # Other data on the page: the results say whose they are.
    click_tab(page, "Data & training")
    page.get_by_text("Upload my file").click()
    warning = page.get_by_text("These results are not for the data on this page")
    warning.wait_for(timeout=120_000)
    settle(page)
    assert "no data is loaded now" in body(page) and label.count() == 0
    page.screenshot(path=str(screenshot_dir / "story_credit_no_data.png"))
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Loan applications")
    uploader.locator("input[type=file]").set_input_files(str(other))
    page.get_by_text("the data now loaded in 'Data & training' is other data").wait_for(timeout=120_000)
    settle(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / "story_credit_other_data.png"))
    # Back on the sample: the label again, no warning.
    page.get_by_text("Bundled sample (5,000 applications)").click()
    label.wait_for(timeout=120_000)
    assert warning.count() == 0

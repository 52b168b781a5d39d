"""The fraud page in a real browser, on one page its tests share (one session for the module):

* the training as a job in worker processes: its live progress, found again after a visit to another
  page and after a reload, and Cancel, which stops it and keeps nothing; the job mechanics every page
  shares (a second visitor, the spare worker, a killed worker) are tested once, on the credit page, in
  tests/browser/test_jobs_browser.py;
* then, in the same session, the training the other tests read (2 epochs on the sample, 20 alerts explained;
  the module's fixture trains it when that test did not get so far): the results, the alert queue, a transaction
  explained and a newly uploaded file scored;
* lift and gains on the Performance tab and per-feature dependence on the Explanations tab;
* last, the imbalance comparison, a job of its own on the trained run."""

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import click_tab, clipped_texts, plotly_chart as _chart
from tests.drawn import drawn

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "fraud_transactions.csv.gz"
pytestmark = pytest.mark.browser


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


def _small_settings(page) -> None:
    """A small training: these tests check what the page shows of it, not how good the model is."""
    for label, value in (("Epochs (early stopping)", "2"), ("Alerts explained (SHAP)", "20")):
        box = page.get_by_label(label)
        box.fill(value)
        box.press("Tab")


def _open_and_set(page, app_url) -> None:
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Column mapping").wait_for(timeout=90_000)
    page.get_by_text("Fraud rate").wait_for(timeout=60_000)
    page.get_by_role("button", name="Train model").wait_for()
    _small_settings(page)


def _train(shared) -> None:
    shared.page.get_by_role("button", name="Train model").click()
    shared.page.get_by_text("Model trained:").first.wait_for(timeout=300_000)  # on the Data & training tab
    shared.trained = True


@pytest.fixture
def trained(shared, app_url):
    """The shared page with the training on it (trained here when the first test did not get so far)."""
    if not shared.trained:
        _open_and_set(shared.page, app_url)
        _train(shared)
    return shared.page


def test_fraud_training_progress_survives_reload_and_cancels(app_url, shared, screenshot_dir):
    page = shared.page
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
    drawn(page)
    page.get_by_text("The training was cancelled").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_job_cancelled.png"), full_page=False)
    assert page.get_by_text("Model trained:").count() == 0
    assert page.get_by_text("Training running for").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    shared.done.add("cancelled")


def test_fraud_page_trains_and_shows_alert_queue(app_url, shared, screenshot_dir, tmp_path):
    """Trains in the session the job test left after its Cancel (or on the page opened afresh)."""
    page = shared.page
    if "cancelled" in shared.done and not shared.trained:
        page.get_by_text("Column mapping").wait_for(timeout=90_000)
        page.get_by_text("Fraud rate").wait_for(timeout=60_000)
        _small_settings(page)
    else:
        _open_and_set(page, app_url)
    page.screenshot(path=str(screenshot_dir / "fraud_setup.png"), full_page=False)
    assert page.get_by_role("checkbox", name="Blend with the best baseline").is_checked()  # on by default
    _train(shared)
    # Which model is recommended (saved, scored and explained) is said under what was trained.
    recommended = page.get_by_text("Ensemble used").or_(page.get_by_text("Recommended model: the Keras network"))
    recommended.first.wait_for()
    recommended.first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_recommended.png"), full_page=False)
    click_tab(page, "Performance")
    page.get_by_text("PR-AUC (headline)").first.wait_for(timeout=120_000)
    drawn(page)
    page.get_by_text("PR-AUC (headline)").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_performance.png"), full_page=False)
    assert clipped_texts(page) == []
    assert page.locator("[data-testid='stException']").count() == 0
    # The tiles come first; the comparison with the baselines is drawn after them.
    page.get_by_text("Keras network").first.wait_for(state="attached", timeout=120_000)
    assert page.get_by_text("Keras network").count() >= 1

    click_tab(page, "Alert policy")
    page.get_by_text("Optimal: savings vs no model").wait_for()
    drawn(page)
    page.get_by_text("Review fee per alert").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_policy.png"), full_page=False)
    assert clipped_texts(page) == []
    savings = page.locator('[data-testid="stMetric"]').filter(has_text="Optimal: savings vs no model")
    assert "€" in savings.inner_text()  # money with its currency

    click_tab(page, "Alert queue")
    page.get_by_role("button", name="Download alert queue (CSV)").wait_for()
    drawn(page)
    page.screenshot(path=str(screenshot_dir / "fraud_queue.png"), full_page=False)
    # Plain headers on screen (money with its currency); the CSV below keeps the machine names.
    shown = headers(page.get_by_role("tabpanel", name="Alert queue"))
    assert {"Rank", "Risk", "Fraud (true outcome)", "Amount (€)"} <= set(shown), shown
    assert not [h for h in shown if "_" in h or h in ("label", "risk", "rank")], shown
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download alert queue (CSV)").click()
    text = open(dl.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("rank,") and "top_reasons" in text.splitlines()[0]
    assert "typical" in text

    click_tab(page, "Explanations")
    reasons = page.get_by_role("tabpanel", name="Explanations").get_by_text("Top reasons:")
    reasons.wait_for()
    drawn(page)
    reasons.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_explain.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0

    new = tmp_path / "new_transactions.csv"
    pd.read_csv(SAMPLE).tail(150).drop(columns="is_fraud").to_csv(new, index=False)
    click_tab(page, "Score a new file")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").last.set_input_files(str(new))
    page.get_by_role("button", name="Download scored file (CSV)").wait_for(timeout=120_000)
    drawn(page)
    page.get_by_role("tabpanel", name="Score a new file").get_by_text("reasons for the 50 riskiest") \
        .scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_score_new.png"))
    assert page.locator("[data-testid='stException']").count() == 0


def test_fraud_lift_and_dependence(trained, screenshot_dir):
    page = trained
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


def test_imbalance_comparison_is_a_job_on_the_trained_run(trained, screenshot_dir):
    page = trained
    click_tab(page, "Imbalance comparison")
    panel = page.get_by_role("tabpanel", name="Imbalance comparison")
    panel.get_by_label("Epochs per strategy").fill("1")
    panel.get_by_label("Epochs per strategy").press("Tab")
    panel.get_by_role("button", name="Compare strategies").click()
    panel.get_by_text("ranks fraud best").wait_for(timeout=300_000)  # the recommendation, from the worker's table
    drawn(page)
    panel.get_by_text("ranks fraud best").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_job_comparison.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0

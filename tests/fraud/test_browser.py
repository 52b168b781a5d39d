"""The fraud page in a real browser: train on the sample, read the results, open the alert queue,
explain a transaction and score a newly uploaded file."""

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import click_tab, clipped_texts

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "fraud_transactions.csv.gz"


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


@pytest.mark.browser
def test_fraud_page_trains_and_shows_alert_queue(app_url, page, screenshot_dir, tmp_path):
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Column mapping").wait_for(timeout=90_000)
    page.get_by_text("Fraud rate").wait_for(timeout=60_000)
    page.get_by_role("button", name="Train model").wait_for()
    page.screenshot(path=str(screenshot_dir / "fraud_setup.png"), full_page=False)
    epochs = page.get_by_label("Epochs (early stopping)")
    epochs.fill("4")
    epochs.press("Tab")
    assert page.get_by_role("checkbox", name="Blend with the best baseline").is_checked()  # on by default
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained:").first.wait_for(timeout=300_000)  # on the Data & training tab
    # Which model is recommended (saved, scored and explained) is said under what was trained.
    recommended = page.get_by_text("Ensemble used").or_(page.get_by_text("Recommended model: the Keras network"))
    recommended.first.wait_for()
    recommended.first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_recommended.png"), full_page=False)
    click_tab(page, "Performance")
    page.get_by_text("PR-AUC (headline)").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    page.get_by_text("PR-AUC (headline)").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_performance.png"), full_page=False)
    assert clipped_texts(page) == []
    assert page.locator("[data-testid='stException']").count() == 0
    # The tiles come first; the comparison with the baselines is drawn after them.
    page.get_by_text("Keras network").first.wait_for(state="attached", timeout=120_000)
    assert page.get_by_text("Keras network").count() >= 1

    click_tab(page, "Alert policy")
    page.get_by_text("Optimal: savings vs no model").wait_for()
    page.wait_for_timeout(1000)
    page.get_by_text("Review fee per alert").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_policy.png"), full_page=False)
    assert clipped_texts(page) == []
    savings = page.locator('[data-testid="stMetric"]').filter(has_text="Optimal: savings vs no model")
    assert "€" in savings.inner_text()  # money with its currency

    click_tab(page, "Alert queue")
    page.get_by_role("button", name="Download alert queue (CSV)").wait_for()
    page.wait_for_timeout(1000)
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
    page.wait_for_timeout(1000)
    reasons.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_explain.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0

    new = tmp_path / "new_transactions.csv"
    pd.read_csv(SAMPLE).tail(150).drop(columns="is_fraud").to_csv(new, index=False)
    click_tab(page, "Score a new file")
    page.locator("[data-testid='stFileUploaderDropzoneInput']").last.set_input_files(str(new))
    page.get_by_role("button", name="Download scored file (CSV)").wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    page.get_by_role("tabpanel", name="Score a new file").get_by_text("reasons for the 50 riskiest") \
        .scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_score_new.png"))
    assert page.locator("[data-testid='stException']").count() == 0

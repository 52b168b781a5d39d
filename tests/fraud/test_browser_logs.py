"""The fraud page in a real browser with fraud logs as they are published:

* a log timed in seconds since its first transaction (the creditcard-style generator of
  tests/fraud/test_elapsed_time.py: two days, V1..V28, Amount, Class, no ids): the guessed unit, the
  split in time order and the missing ids are said on screen, and the model trains;
* the look-alike card-transaction log (scripts/make_card_log.py): the card number is kept as the
  customer key under a keyed pseudonym, said under the uploader, and no raw number is on the page.

Screenshots of the notices are kept in tests/_screenshots (fraud_elapsed_*.png, fraud_card_key.png)."""

import sys
from pathlib import Path

import pytest

from tests.conftest import click_tab, clipped_texts
from tests.drawn import drawn
from tests.fraud.test_elapsed_time import creditcard_like

ROOT = Path(__file__).resolve().parents[2]


def _upload(page, app_url, path: Path) -> None:
    page.goto(f"{app_url}/fraud")
    page.get_by_text("Upload my file").wait_for(timeout=90_000)
    page.get_by_text("Upload my file").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(path))


@pytest.mark.browser
def test_elapsed_seconds_log_notices_and_training(app_url, page, screenshot_dir, tmp_path):
    data = tmp_path / "creditcard.csv"
    creditcard_like(n=3000, seed=4).to_csv(data, index=False)
    _upload(page, app_url, data)
    page.get_by_text("read as seconds since the log's start").first.wait_for(timeout=120_000)
    page.get_by_text("it is split in time order").first.wait_for()
    page.get_by_text("Time unit").first.scroll_into_view_if_needed()
    drawn(page)
    page.screenshot(path=str(screenshot_dir / "fraud_elapsed_notices.png"), full_page=True)
    page.get_by_text("Share of the span tested").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_elapsed_split.png"), full_page=False)
    text = page.inner_text("body")
    assert "'Time' holds numbers from" in text and "No customer / card or terminal / merchant column" in text
    assert "Share of the span tested" in text and "1970" not in text
    assert page.locator("[data-testid='stException']").count() == 0
    assert clipped_texts(page) == []
    # A small training (the notices are the subject here, not the model): one epoch, the fewest alerts explained.
    for label, value in (("Epochs (early stopping)", "1"), ("Alerts explained (SHAP)", "20")):
        box = page.get_by_label(label)
        box.fill(value)
        box.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained:").first.wait_for(timeout=300_000)  # on the Data & training tab
    click_tab(page, "Performance")
    page.get_by_text("PR-AUC (headline)").first.wait_for(timeout=120_000)
    click_tab(page, "Data & training")  # the notices sit with the training's summary
    drawn(page)
    page.get_by_text("trains on the log's own columns").last.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_elapsed_trained.png"), full_page=False)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlert']").filter(has_text="Expected").count() == 0


@pytest.mark.browser
def test_card_number_kept_as_keyed_pseudonym_on_the_page(app_url, page, screenshot_dir, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_card_log import make_card_transactions

    df = make_card_transactions(120, days=50, seed=3)
    data = tmp_path / "card_transactions.csv"
    df.to_csv(data, index=False)
    _upload(page, app_url, data)
    page.get_by_text("Kept as a key").wait_for(timeout=120_000)
    page.get_by_text("Column mapping").wait_for(timeout=60_000)
    page.get_by_text("Fraud rate").wait_for(timeout=60_000)
    drawn(page)
    page.get_by_text("Kept as a key").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "fraud_card_key.png"), full_page=False)
    text = page.inner_text("body")
    assert "card number kept as the customer / card key, replaced by a keyed pseudonym" in text
    assert "street (street addresses)" in text and "dob (dates of birth)" in text
    raw = {str(v) for v in df["cc_num"].unique()}
    assert not [v for v in raw if v in page.content()]
    assert page.locator("[data-testid='stException']").count() == 0

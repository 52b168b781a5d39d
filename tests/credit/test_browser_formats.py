"""Browser test: a workbook of two sheets on the credit page, the second sheet picked, an outcome of
three values whose third is left out, training, and what the page then says."""

import io
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import clipped_texts


def workbook(path) -> pd.DataFrame:
    """Writes a workbook whose first sheet ("About") holds two notes and whose second ("Loans") holds
    400 applications with income, loan, region and a status of good / bad / unknown; returns them."""
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({"income": rng.normal(40_000, 9_000, n).round(0), "loan": rng.integers(1_000, 20_000, n),
                       "region": rng.choice(["North", "South", "East"], n),
                       "status": rng.choice(["good", "bad", "unknown"], n, p=[0.6, 0.3, 0.1])})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["Loans exported in May", "status: good / bad / unknown"]}).to_excel(
            xw, sheet_name="About", index=False)
        df.to_excel(xw, sheet_name="Loans", index=False)
    path.write_bytes(buf.getvalue())
    return df


def choose(page, box: str, option: str) -> None:
    page.get_by_role("combobox", name=box).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.browser
def test_workbook_sheet_and_three_valued_outcome_train(app_url, page, screenshot_dir, tmp_path):
    df = workbook(tmp_path / "loans.xlsx")
    unknown = int((df["status"] == "unknown").sum())
    page.goto(f"{app_url}/credit")
    page.get_by_text("Training options").wait_for(timeout=90_000)
    page.get_by_text("Upload my file").click()
    page.locator("input[type=file]").first.set_input_files(str(tmp_path / "loans.xlsx"))
    page.get_by_role("combobox", name="Sheet").wait_for(timeout=60_000)
    choose(page, "Sheet", "Loans")
    page.get_by_text("400 rows × 4 columns").wait_for(timeout=60_000)
    page.get_by_text("3 outcome values in").wait_for()
    positive = page.get_by_role("combobox", name="Value that means default (positive class)")
    for _ in range(300):  # a loaded server may still show the first sheet's box beside the new one for a moment
        if positive.count() == 1:
            break
        page.wait_for_timeout(200)
    assert positive.input_value() == "bad"
    page.get_by_text("repaid only for the values I pick; leave the rest out").click()
    page.get_by_text(f"{unknown} rows are left out of training and testing (unknown: {unknown})").wait_for()
    page.get_by_text("Values that mean repaid").wait_for()
    page.get_by_text("good", exact=True).last.wait_for()  # the picked value, drawn in the multiselect
    page.get_by_text(f"{unknown} rows are left out").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_formats_outcome.png"))
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("2")
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").first.wait_for(timeout=240_000)
    trained = page.get_by_text("Model trained:").first.inner_text()
    counts = re.search(r"([\d,]+) training and ([\d,]+) test applicants", trained)
    assert sum(int(g.replace(",", "")) for g in counts.groups()) == len(df) - unknown, trained
    left_out = page.get_by_text(f"Left out {unknown} row(s) whose 'status' is neither 'bad' (positive) nor 'good'")
    left_out.wait_for()
    left_out.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "credit_formats_trained.png"))
    assert clipped_texts(page) == []
    exceptions = page.locator("[data-testid='stException']")
    assert not exceptions.count(), exceptions.first.inner_text()[:2000]

"""The demand page in Chromium: train on the sample, see the backtest, policy and a SHAP waterfall."""

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import click_tab, clipped_texts
from tests.demand.page_steps import fill_small_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.browser
def test_demand_page_trains_and_explains(app_url, page, screenshot_dir, tmp_path):
    page.goto(f"{app_url}/demand")
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    fill_small_settings(page)
    page.get_by_role("button", name="Train forecast model").click()
    page.get_by_text("Model trained:").first.wait_for(timeout=240_000)  # on the Data & training tab
    click_tab(page, "Forecast")
    page.get_by_role("heading", name="Forecast", exact=True).wait_for()
    click_tab(page, "Backtest")
    page.get_by_role("heading", name="Backtest: network vs baselines").wait_for()
    page.get_by_text("(the best baseline)", exact=False).first.wait_for()
    page.get_by_text("Recommended forecast", exact=False).first.wait_for()  # the saved forecast, named
    page.screenshot(path=str(screenshot_dir / "demand_backtest.png"))
    assert clipped_texts(page) == []
    click_tab(page, "Inventory")
    page.get_by_role("heading", name="Inventory policy").wait_for()
    page.get_by_text("Backtest cost — network policy").wait_for()
    click_tab(page, "Explanations")
    page.get_by_role("button", name="Explain this forecast").click()
    page.get_by_text("drivers of P50").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)  # let Plotly finish drawing before the screenshot
    page.screenshot(path=str(screenshot_dir / "demand.png"), full_page=True)
    # The waterfall names the network's inputs in words, its axis in plain units, no "= " left blank.
    assert page.get_by_text("Push on the forecast (+0.10 ≈ 10 % more demand)").count() == 1
    assert page.get_by_text("log demand vs recent level", exact=True).count() == 0
    raw = re.compile(r"^(lag \d|Lag \d|recent level|smoothed seasonal reference)")
    assert page.locator("svg text").filter(has_text=raw).count() == 0
    assert not page.get_by_text("Traceback").count()
    assert not page.locator("[data-testid='stException']").count()
    # Upload a weekly file with other column names: the mapping is guessed and the report shows it.
    df = pd.read_csv(ROOT / "sample_data" / "demand_sales.csv", parse_dates=["date"])
    weekly = (df[df["store"] == "S1"].groupby(["product", pd.Grouper(key="date", freq="W-SUN")])["units"].sum()
              .reset_index().rename(columns={"date": "Day", "units": "Qty", "product": "sku"}))
    weekly.to_csv(tmp_path / "weekly.csv", index=False)
    click_tab(page, "Data & training")
    page.get_by_text("Upload my file").click()
    page.locator("input[type='file']").set_input_files(str(tmp_path / "weekly.csv"))
    try:
        page.get_by_text("weekly", exact=True).wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(screenshot_dir / "demand_upload.png"))
    page.screenshot(path=str(screenshot_dir / "demand_upload.png"))
    assert not page.locator("[data-testid='stException']").count()

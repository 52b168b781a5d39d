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
    # On this weekly file the validation weeks pick the network's blend with the moving average (CLI, same
    # settings: MAE 41.4 against the network's 43.8): the warnings and the charts describe the blend, named.
    fill_small_settings(page)
    page.get_by_role("button", name="Train forecast model").click()
    # The sample's results stay on screen until the weekly file's model has trained: wait for its name.
    page.get_by_text(re.compile(r"Results of the model trained on weekly\.csv")).wait_for(timeout=300_000)
    click_tab(page, "Backtest")
    try:
        page.get_by_role("heading", name="Backtest: recommended blend vs baselines").wait_for()
    finally:
        page.wait_for_timeout(1500)  # let Plotly finish drawing before the screenshot
        page.screenshot(path=str(screenshot_dir / "demand_blend_backtest.png"))
    # The warnings and trust flags name the blend ("The network's own settings" of the training form may stay).
    assert page.get_by_text(re.compile(r"The network( has the largest bias|'s P10–P90|'s MASE|'s (holiday-weighted )?MAE)")
                            ).count() == 0
    assert page.get_by_text(re.compile(r"^The recommended blend's P10–P90 interval|^The recommended blend's MAE")).count()
    charts = page.locator("[data-testid='stPlotlyChart']:visible")
    charts.first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "demand_blend_by_step.png"))
    charts.last.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "demand_blend_by_series.png"))
    legend = page.locator(".legendtext")
    assert legend.filter(has_text=re.compile(r"^Recommended: Ensemble")).count() >= 2  # by step and by series
    assert legend.filter(has_text="Keras network alone").count() == 1
    click_tab(page, "Forecast")
    page.wait_for_timeout(1500)
    assert legend.filter(has_text="P50 (backtest, recommended blend)").count() == 1
    assert legend.filter(has_text="P50 (backtest, network alone)").count() == 1
    charts.first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "demand_blend_forecast.png"))
    assert not page.locator("[data-testid='stException']").count()

"""The demand page in Chromium, on one small training its tests share (one page for the module):

* the training as a job in a worker process: live progress with Cancel, a cancelled training keeps
  nothing, and a reload during a training finds it again and shows its result; that result is the
  training the other tests read (the module's fixture trains it when that test did not get so far).
  The job mechanics every page shares (another page and back, a second visitor, the spare worker, a
  killed worker) are tested once, on the credit page, in tests/browser/test_jobs_browser.py;
* the backtest, the policy and a SHAP waterfall in words;
* one input's SHAP dependence in plain words, after the overall importance;
* last, a weekly upload with other column names: the mapping is guessed and the report shows it; a
  model trained on it is the recommended blend, which the warnings and charts name."""

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import click_tab, clipped_texts, pick
from tests.demand.page_steps import fill_small_settings
from tests.drawn import drawn

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser


@pytest.fixture
def trained(shared, app_url):
    """The shared page with the small training's result on it."""
    page = shared.page
    if not shared.trained:
        page.goto(f"{app_url}/demand")
        page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
        fill_small_settings(page)
        page.get_by_role("button", name="Train forecast model").click()
        page.get_by_text("Model trained:").first.wait_for(timeout=240_000)  # on the Data & training tab
        shared.trained = True
    return page


def test_demand_training_job_progress_cancel_and_reload(app_url, shared, screenshot_dir):
    page = shared.page
    page.goto(f"{app_url}/demand")
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    fill_small_settings(page, 200)
    page.get_by_role("button", name="Train forecast model").click()
    page.get_by_text("Training running for").first.wait_for(timeout=120_000)
    epoch = page.get_by_text(re.compile(r"^Epoch \d+ of \d+ — loss \d"))  # epochs of every averaged network
    epoch.first.wait_for(timeout=180_000)  # the worker reports its epochs, polled by the page
    epoch.first.evaluate("e => e.scrollIntoView({block: 'start'})")  # the panel and its curve on screen
    curve = page.locator("[data-testid='stPlotlyChart']").filter(has_text=re.compile("loss", re.I))
    curve.locator(".main-svg").first.wait_for()  # the training curve, drawn at a poll
    page.screenshot(path=str(screenshot_dir / "demand_job_running.png"), full_page=True)
    assert page.get_by_role("button", name="Cancel").count() == 1
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The training was cancelled; nothing of it was kept").wait_for(timeout=30_000)
    assert page.get_by_text("Model trained:").count() == 0
    page.screenshot(path=str(screenshot_dir / "demand_job_cancelled.png"), full_page=True)

    # A reload while a training runs starts a new session: the browser's key in the address finds the job.
    fill_small_settings(page, 2)
    page.get_by_role("button", name="Train forecast model").click()
    page.get_by_text("Training running for").first.wait_for(timeout=120_000)
    assert "s=" in page.url
    page.reload()
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    page.get_by_text("Model trained:").first.wait_for(timeout=300_000)
    shared.trained = True  # the small training the next tests read
    click_tab(page, "Backtest")
    page.get_by_role("heading", name="Backtest: network vs baselines").wait_for()
    page.screenshot(path=str(screenshot_dir / "demand_job_after_reload.png"), full_page=True)
    assert not page.get_by_text("Traceback").count()
    assert not page.locator("[data-testid='stException']").count()


def test_demand_page_trains_and_explains(trained, screenshot_dir):
    page = trained
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
    drawn(page)  # Plotly has drawn before the screenshot
    page.screenshot(path=str(screenshot_dir / "demand.png"), full_page=True)
    # The waterfall names the network's inputs in words, its axis in plain units, no "= " left blank.
    assert page.get_by_text("Push on the forecast (+0.10 ≈ 10 % more demand)").count() == 1
    assert page.get_by_text("log demand vs recent level", exact=True).count() == 0
    raw = re.compile(r"^(lag \d|Lag \d|recent level|smoothed seasonal reference)")
    assert page.locator("svg text").filter(has_text=raw).count() == 0
    assert not page.get_by_text("Traceback").count()
    assert not page.locator("[data-testid='stException']").count()


def test_demand_dependence_of_one_input(trained, screenshot_dir):
    page = trained
    click_tab(page, "Explanations")
    page.get_by_role("heading", name="How one input moves the forecast").wait_for()
    page.get_by_text("Compute the overall importance above").wait_for()
    page.get_by_role("button", name="Compute overall importance").click()
    page.get_by_text("SHAP dependence:").first.wait_for(timeout=180_000)
    drawn(page)  # Plotly has drawn before the screenshot
    first = page.locator("[data-testid='stPlotlyChart']").filter(has_text="SHAP dependence:")
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "demand_dependence.png"))
    first.screenshot(path=str(screenshot_dir / "demand_dependence_chart.png"))
    assert page.get_by_text(re.compile(r"^Each of the 150 training windows explained above")).count() == 1
    pick(page, "Input", "Day of the week")
    page.get_by_text("SHAP dependence: Day of the week").wait_for(timeout=60_000)
    drawn(page)
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="SHAP dependence: Day of the week")
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(screenshot_dir / "demand_dependence_weekday.png"))
    # Weekdays in the week's order along the axis, the axes in words, no engineered name left raw.
    ticks = [t for t in chart.locator("g.xtick text").all_text_contents() if t]
    week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert len(ticks) >= 2 and ticks == [d for d in week if d in ticks]
    assert chart.get_by_text("Push on the forecast (+0.10 ≈ 10 % more demand)").count() == 1
    raw = re.compile(r"^(lag \d|recent level|smoothed seasonal reference|past promo|day of week)")
    assert chart.locator("svg text").filter(has_text=raw).count() == 0
    assert clipped_texts(page) == []
    assert not page.get_by_text("Traceback").count()
    assert not page.locator("[data-testid='stException']").count()


def test_weekly_upload_with_other_names_after_a_training(trained, screenshot_dir, tmp_path):
    """Upload a weekly file with other column names: the mapping is guessed and the report shows it; then
    a model trained on it, the network kept where the blend's lead on validation is inside the noise."""
    page = trained
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
    assert not page.locator("[data-testid='stException']").count()
    # On this weekly file the blend with the moving average scores lower on the validation weeks (CLI, same
    # settings: MAE 41.4 against the network's 43.8), but inside the noise of redrawing series and weeks: the
    # network is kept, and the page says why. (The saved blend's page is covered by test_saved_figures.py.)
    fill_small_settings(page)
    page.get_by_role("button", name="Train forecast model").click()
    # The sample's results stay on screen until the weekly file's model has trained: wait for its name.
    page.get_by_text(re.compile(r"Results of the model trained on weekly\.csv")).wait_for(timeout=300_000)
    click_tab(page, "Backtest")
    try:
        page.get_by_role("heading", name="Backtest: network vs baselines").wait_for()
    finally:
        drawn(page)  # Plotly has drawn before the screenshot
        page.screenshot(path=str(screenshot_dir / "demand_weekly_backtest.png"))
    line = page.get_by_text(re.compile(r"scored lower on the validation periods .* but inside the noise"))
    assert line.count() == 1 and "the network is kept" in line.inner_text()
    # The warnings and the charts name the network, the model saved; no blend is shown as recommended.
    assert page.get_by_text(re.compile(r"^The network's P10–P90 interval")).count() == 1
    assert page.get_by_text(re.compile(r"^The recommended blend's")).count() == 0
    legend = page.locator(".legendtext")
    assert legend.filter(has_text=re.compile(r"^Recommended: Ensemble")).count() == 0
    click_tab(page, "Forecast")
    drawn(page)
    assert legend.filter(has_text="P50 (backtest, recommended blend)").count() == 0
    page.locator("[data-testid='stPlotlyChart']:visible").first.scroll_into_view_if_needed()
    drawn(page)
    page.screenshot(path=str(screenshot_dir / "demand_weekly_forecast.png"))
    assert not page.locator("[data-testid='stException']").count()

"""The demand page in Chromium: after the overall importance, one input's SHAP dependence in plain words."""

import re

import pytest

from tests.conftest import click_tab, clipped_texts, pick
from tests.demand.page_steps import fill_small_settings


@pytest.mark.browser
def test_demand_dependence_of_one_input(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/demand")
    page.get_by_role("heading", name="Data report").wait_for(timeout=120_000)
    fill_small_settings(page)
    page.get_by_role("button", name="Train forecast model").click()
    page.get_by_text("Model trained:").first.wait_for(timeout=240_000)
    click_tab(page, "Explanations")
    page.get_by_role("heading", name="How one input moves the forecast").wait_for()
    page.get_by_text("Compute the overall importance above").wait_for()
    page.get_by_role("button", name="Compute overall importance").click()
    page.get_by_text("SHAP dependence:").first.wait_for(timeout=180_000)
    page.wait_for_timeout(1500)  # let Plotly finish drawing before the screenshot
    first = page.locator("[data-testid='stPlotlyChart']").filter(has_text="SHAP dependence:")
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "demand_dependence.png"))
    first.screenshot(path=str(screenshot_dir / "demand_dependence_chart.png"))
    assert page.get_by_text(re.compile(r"^Each of the 150 training windows explained above")).count() == 1
    pick(page, "Input", "Day of the week")
    page.get_by_text("SHAP dependence: Day of the week").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
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

"""The overview in Chromium: a saved run's headline figures and assumptions on the home page."""

from __future__ import annotations

import re

import pytest

from core.store.registry import save_run
from core.store.scenarios import SCENARIOS

WORKSPACE = {
    "name": "fraud pilot, October log",
    "headline": {
        "quality": [{"label": "PR-AUC", "value": 0.6234, "fmt": ".3f"},
                    {"label": "ROC-AUC", "value": 0.9123, "fmt": ".3f"}],
        "impact": [{"label": "Fraud caught", "value": 48210.0, "unit": "€", "fmt": ",.0f"},
                   {"label": "Review cost", "value": 2275.0, "unit": "€", "fmt": ",.0f"}],
        "assumptions": ["Review fee €5 per alert", "Alert (review) at risk ≥ 0.300; block at ≥ 0.900"],
    },
}


DEMAND = {
    "name": "demand, weekly stores",
    "headline": {
        "quality": [{"label": "WAPE", "value": 11.42, "unit": "%", "fmt": ".1f"},
                    {"label": "MASE", "value": 0.954, "fmt": ".3f"}],
        "impact": [{"label": "Inventory cost saved", "value": 293041.7, "unit": "€", "fmt": ",.0f"},
                   {"label": "Cost, network policy", "value": 1234567.0, "unit": "€", "fmt": ",.0f"},
                   {"label": "Cost, naive policy", "value": -1527608.7, "unit": "€", "fmt": ",.0f"}],
        "assumptions": ["Holding cost €0.35 per unit per week"],
        "verdict": {"metric": "MAE", "value": 10.0, "baseline": "Seasonal naive", "baseline_value": 10.1,
                    "diff": -0.1, "low": -0.4, "high": 0.2, "higher_is_better": False, "level": 0.95},
    },
}

# Elements whose text is cut (wider than their box) on the page: metric values and labels.
CLIPPED = """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
    .flatMap(m => [m, ...m.querySelectorAll('*')])
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""


@pytest.mark.browser
def test_overview_shows_the_latest_saved_run(tmp_path, page, screenshot_dir):
    from tests.conftest import run_app

    save_run(tmp_path / "runs", model=None, run_id="fraud-pilot", metadata={"scenario": "fraud", "workspace": WORKSPACE})
    save_run(tmp_path / "runs", model=None, run_id="demand-weekly", metadata={"scenario": "demand", "workspace": DEMAND})
    with run_app(tmp_path) as url:  # serves runs from tmp_path / "runs"
        page.set_viewport_size({"width": 1440, "height": 2200})
        page.goto(url)
        page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
        page.get_by_text("fraud pilot, October log").wait_for()
        page.get_by_text("€48,210").wait_for()
        page.get_by_text(re.compile(r"Training device — (CPU|GPU)")).wait_for(timeout=120_000)
        page.get_by_text("€1,234,567").wait_for()
        body = page.inner_text("body")
        clipped = page.evaluate(CLIPPED)
        page.screenshot(path=str(screenshot_dir / "overview_saved_run.png"))
    assert "0.623" in body and "€2,275" in body
    assert "Assumptions: Review fee €5 per alert · Alert (review) at risk ≥ 0.300; block at ≥ 0.900" in body
    # Six- and seven-figure sums and long labels are shown whole, never cut with an ellipsis.
    assert "€293,042" in body and "-€1,527,609" in body
    assert clipped == []
    # The saved verdict reads as a plain sentence with its interval.
    assert "On par with Seasonal naive (MAE -0.100, 95% interval -0.400 to +0.200 on the test rows)" in body
    # The two scenarios without a run say so plainly.
    assert body.count("no run yet") == 2
    assert "Run all four demos" in body
    assert "Traceback" not in body


@pytest.mark.browser
def test_presenter_mode_walks_the_demo_runs_in_money_a_chart_and_a_verdict(tmp_path, page, saved_demo_runs,
                                                                           screenshot_dir):
    import shutil

    from tests.conftest import clipped_texts, run_app

    for run in saved_demo_runs.values():
        shutil.copytree(run, tmp_path / "runs" / run.name)
    # A run the analyst saved later is not what presenter mode shows.
    save_run(tmp_path / "runs", model=None, run_id="fraud-pilot", metadata={"scenario": "fraud", "workspace": WORKSPACE})
    with run_app(tmp_path) as url:
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(url)
        page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
        page.get_by_text("Presenter mode").click()
        for i, spec in enumerate(s for s in SCENARIOS.values() if s.available):
            page.get_by_text(f"Scenario {i + 1} of 4").wait_for()
            # The rerun has redrawn the page: no element of the screen before is left, shown faded.
            page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0")
            page.locator("h2").filter(has_text=spec.title).wait_for()
            money = page.locator(".pitch-money")
            money.wait_for()
            chart = page.locator("[data-testid='stPlotlyChart'] .main-svg").first
            chart.wait_for()
            verdict = page.locator(".pitch-verdict").inner_text()
            text = money.inner_text()
            assert " a year " in text and "≈ €" in text, text
            assert verdict.startswith("Verdict: "), verdict
            assert "ROC-AUC" not in text + verdict and "PR-AUC" not in text + verdict
            assert not page.get_by_test_id("stSidebar").is_visible()  # settings are hidden
            assert "€48,210" not in page.locator("[data-testid='stMain']").inner_text()  # not the analyst's run
            # The sentence is large and the whole screen fits a 1440 × 900 projector without clipping.
            size = money.locator("p").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 28 and clipped_texts(page) == []
            page.screenshot(path=str(screenshot_dir / f"presenter_{spec.key}.png"))
            if i < 3:
                page.get_by_role("button", name="Next scenario").click()
        page.get_by_text("Presenter mode").click()  # off again: the settings come back
        page.get_by_text("Run all four demos").first.wait_for()
        assert page.get_by_test_id("stSidebar").is_visible()


@pytest.mark.browser
def test_overview_counts_and_names_an_extension_packages_scenario(tmp_path, page, screenshot_dir):
    """With the churn package named in STUDIO_SCENARIOS (tests/workspace/test_scenario_package.py), the Overview
    says five scenarios and names them, while the demo button still counts the four demos there are."""
    import os

    from tests.conftest import ROOT, run_app
    from tests.workspace.test_scenario_package import PACKAGE, write_package

    package = write_package(tmp_path / "ext")
    env = {"PYTHONPATH": os.pathsep.join([str(package.parent), str(ROOT)]), "STUDIO_SCENARIOS": PACKAGE}
    with run_app(tmp_path, env=env) as url:
        page.set_viewport_size({"width": 1440, "height": 1300})
        page.goto(url)
        page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
        page.get_by_role("heading", name="Customer churn").wait_for()
        page.get_by_role("button", name="Run all four demos").wait_for()
        page.get_by_text("Presenter mode").wait_for()
        body = page.inner_text("body")
        page.screenshot(path=str(screenshot_dir / "overview_five_scenarios.png"), full_page=True)
    assert ("Five scenarios: credit scoring, fraud detection, demand forecasting, quality inspection and customer "
            "churn.") in body
    assert "trains each scenario with a demo (credit scoring, fraud detection, demand forecasting and quality " \
           "inspection)" in body
    assert "Run all four demos" in body and "Traceback" not in body
    # The churn card, without a demo, does not point at the demo button; the four built-in cards do.
    assert body.count("Save to workspace, or Run all four demos above.") == 4
    assert body.count("Save to workspace.") == 1

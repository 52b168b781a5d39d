"""The overview in Chromium: a saved run's headline figures and assumptions on the home page."""

from __future__ import annotations

import re

import pytest

from core.registry import save_run

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


@pytest.mark.browser
def test_overview_shows_the_latest_saved_run(tmp_path, page, screenshot_dir):
    from tests.conftest import run_app

    save_run(tmp_path / "runs", model=None, run_id="fraud-pilot", metadata={"scenario": "fraud", "workspace": WORKSPACE})
    with run_app(tmp_path) as url:  # serves runs from tmp_path / "runs"
        page.set_viewport_size({"width": 1440, "height": 2200})
        page.goto(url)
        page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
        page.get_by_text("fraud pilot, October log").wait_for()
        page.get_by_text("€48,210").wait_for()
        page.get_by_text(re.compile(r"Training device — (CPU|GPU)")).wait_for(timeout=120_000)
        body = page.inner_text("body")
        page.screenshot(path=str(screenshot_dir / "overview_saved_run.png"))
    assert "0.623" in body and "€2,275" in body
    assert "Assumptions: Review fee €5 per alert · Alert (review) at risk ≥ 0.300; block at ≥ 0.900" in body
    # The three scenarios without a run say so plainly.
    assert body.count("no run yet") == 3
    assert "Run all four demos" in body
    assert "Traceback" not in body

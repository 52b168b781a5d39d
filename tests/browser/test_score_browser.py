"""Browser test of the workspace loop: train credit, save the run, score a new file on the Score page,
download the scored file, then download the run's report from the Runs page."""

from __future__ import annotations

import pandas as pd
import pytest

from core.workspace.demos import SAMPLES
from tests.conftest import click_tab, clipped_texts, run_app


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


@pytest.mark.browser
def test_train_save_score_and_report(browser, tmp_path, screenshot_dir):
    new = pd.read_csv(SAMPLES["credit"]).iloc[-400:].drop(columns=["default"])
    upload = tmp_path / "new_applicants.csv"
    new.to_csv(upload, index=False)
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    with run_app(tmp_path) as url:
        page.goto(f"{url}/credit")
        page.get_by_text("Training options").wait_for(timeout=90_000)
        page.get_by_label("Epochs (early stopping may end sooner)").fill("2")
        page.get_by_label("Use at most this many rows (0 = all)").fill("1200")
        page.get_by_role("button", name="Train model").click()
        page.get_by_text("Model trained").first.wait_for(timeout=240_000)
        click_tab(page, "Export")
        page.get_by_label("Run name").fill("credit for scoring")
        page.get_by_label("Run name").press("Enter")
        page.get_by_role("button", name="Save to workspace").click()
        page.get_by_text("Saved as run").wait_for(timeout=60_000)

        page.goto(f"{url}/score")
        page.get_by_text("Saved run").first.wait_for(timeout=90_000)
        chosen = page.get_by_role("combobox", name="Saved run")
        chosen.wait_for()
        assert chosen.input_value().startswith("credit for scoring")
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_text("new_applicants.csv").first.wait_for()
        page.get_by_role("button", name="Score file").click()
        page.get_by_text("Scored: new_applicants.csv").wait_for(timeout=120_000)
        page.get_by_text("Applicants scored").wait_for()
        psi = page.locator(".js-plotly-plot").filter(has_text="Population stability (PSI)")
        psi.wait_for()
        page.screenshot(path=str(screenshot_dir / "score_page.png"), full_page=True)
        page.get_by_text("Scored: new_applicants.csv").scroll_into_view_if_needed()
        page.get_by_text("Scored: new_applicants.csv").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(screenshot_dir / "score_page_result.png"))
        assert clipped_texts(page) == []
        # The run is offered under its scenario's title; decisions and scored rows read in plain headers
        # (the download keeps the machine names, as the caption says).
        assert chosen.input_value().endswith("(Credit scoring)")
        # The scored rows' grid sits below the drift chart and draws its header cells once it is on screen.
        page.get_by_text("The download keeps the file's own column names").scroll_into_view_if_needed()
        page.locator("[data-testid='stDataFrame'] th[role=columnheader]").filter(has_text="Reason 1").first.wait_for(
            state="attached", timeout=60_000)
        shown = headers(page)
        assert {"Decision", "Applicants", "Share", "Probability of default", "Score points", "Reason 1"} <= set(shown)
        assert "probability_of_default" not in shown and "score_points" not in shown
        page.get_by_text("The download keeps the file's own column names").wait_for()
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name="Download scored file (CSV)").click()
        scored_path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(scored_path)
        assert dl.value.suggested_filename == "new_applicants_scored.csv"
        scored = pd.read_csv(scored_path)
        assert len(scored) == 400
        assert set(scored["decision"]) <= {"approve", "decline"}
        assert {"probability_of_default", "score_points", "grade", "reason_1"} <= set(scored.columns)

        page.goto(f"{url}/runs")
        page.get_by_text("1 of 1 runs").wait_for(timeout=90_000)
        with page.expect_download(timeout=60_000) as dl:
            page.get_by_role("button", name="Download report").click()
        report = tmp_path / dl.value.suggested_filename
        dl.value.save_as(report)
        text = report.read_text(encoding="utf-8")
        assert "credit for scoring" in text and "Plotly.newPlot" in text

        # From the run's details straight to the Score page, with that run selected.
        page.get_by_role("button", name="Score new data…").click()
        page.get_by_role("heading", name="Score").wait_for(timeout=60_000)
        assert page.url.split("?")[0].rstrip("/").endswith("/score")  # (?s= is the browser key)
        assert page.get_by_role("combobox", name="Saved run").input_value().startswith("credit for scoring")
    context.close()

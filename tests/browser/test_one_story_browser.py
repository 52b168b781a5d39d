"""One true story per run, in Chromium: the runs folder is picked by name among the operator's folders
(no typed server path, no path on screen); every scenario can be scored from its bundled batch, with the
run's trust warnings shown first. Screenshots go to tests/_screenshots (story_*.png). That a credit
model's results say which data they were trained on (one decline rule, proxies out of reason codes, the
Save button in the Export tab) is tested on the training tests/credit/test_browser.py shares."""

from __future__ import annotations

import shutil

import pytest

from core.store.registry import read_metadata
from core.store.scenarios import SCENARIOS
from tests.conftest import clipped_texts, pick, run_app


def body(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def settle(page) -> None:
    """Wait until the rerun has redrawn the page (no element left over from before it, shown faded)."""
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=120_000)
    page.wait_for_timeout(500)


@pytest.mark.browser
def test_runs_folder_and_score_page_tell_one_story(browser, tmp_path, saved_demo_runs, screenshot_dir):
    root = tmp_path / "runs"
    for scenario, run in saved_demo_runs.items():
        shutil.copytree(run, root / run.name)
    team = root / "team-a"
    shutil.copytree(saved_demo_runs["credit"], team / "credit-of-team-a")
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    with run_app(tmp_path, env={"STUDIO_RUNS_DIR": str(root)}) as url:
        page.goto(f"{url}/runs")
        page.get_by_text("Run details").wait_for(timeout=120_000)
        # No box to type a server path: a pick among the runs root's sub-folders, named relative to it.
        assert page.get_by_label("Runs folder for this session").count() == 0
        assert page.get_by_text("4 of 4 runs").count() == 1
        pick(page, "Runs folder", "team-a", wait_ms=0)  # only the picked folder's listing says 1 of 1
        page.get_by_text("1 of 1 runs").wait_for()
        settle(page)
        page.screenshot(path=str(screenshot_dir / "story_runs_folder.png"))
        assert str(tmp_path) not in body(page)
        # The run's details say what its SHA-256 is of.
        assert "SHA-256 of the file as uploaded" in body(page)

        # The Score page follows the folder picked on Runs, then back to the main folder for the demos.
        page.get_by_role("link", name="Score", exact=True).first.click()
        page.get_by_role("combobox", name="Saved run").wait_for(timeout=120_000)
        assert page.get_by_role("combobox", name="Saved run").input_value().endswith("(Credit scoring)")
        page.get_by_role("button", name="Use the sample batch (credit_new_month.csv)").wait_for()
        # The run's trust warnings, before anything is scored (the one-epoch demo run has some).
        flags = read_metadata(team / "credit-of-team-a")["workspace"].get("trust") or []
        for flag in flags:
            page.get_by_text(flag["headline"]).first.wait_for()
        settle(page)
        page.screenshot(path=str(screenshot_dir / "story_score_credit_trust.png"))
        assert str(tmp_path) not in body(page)
        page.goto(f"{url}/runs")
        page.get_by_text("Run details").wait_for(timeout=120_000)
        pick(page, "Runs folder", "main runs folder", wait_ms=0)
        page.get_by_text("4 of 4 runs").wait_for()
        page.get_by_role("link", name="Score", exact=True).first.click()
        page.get_by_role("combobox", name="Saved run").wait_for(timeout=120_000)

        # Demand and quality have a bundled batch too: one click each, no file to bring.
        for scenario, batch, done in (("demand", "demand_next_quarter.csv", "Order quantity"),
                                      ("quality", "quality_new_batch.zip", "verdict")):
            run = saved_demo_runs[scenario]
            pick(page, "Saved run", f"({SCENARIOS[scenario].title})", wait_ms=0)
            # Only this run offers its own batch: once its button is drawn, so are the warnings above it.
            sample = page.get_by_role("button", name=f"Use the sample batch ({batch})")
            sample.wait_for(timeout=120_000)
            flags = read_metadata(run)["workspace"].get("trust") or []
            for flag in flags:  # the run's trust warnings, before anything is scored
                page.get_by_text(flag["headline"]).first.wait_for()
            if flags:
                settle(page)
                page.get_by_text(flags[0]["headline"]).first.scroll_into_view_if_needed()
                page.screenshot(path=str(screenshot_dir / f"story_score_{scenario}_trust.png"))
            sample.click()
            page.get_by_text(f"Scored: {batch}").wait_for(timeout=180_000)
            page.locator("[data-testid='stDataFrame'] th[role=columnheader]").filter(has_text=done).first.wait_for(
                state="attached")
            settle(page)
            page.get_by_text(f"Scored: {batch}").evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(800)
            page.screenshot(path=str(screenshot_dir / f"story_score_{scenario}.png"))
            assert "Traceback" not in body(page)
            assert clipped_texts(page) == []
    context.close()

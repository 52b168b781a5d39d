"""One true story per run, in Chromium: the runs folder is picked by name among the operator's folders
(no typed server path, no path on screen); every scenario can be scored from its bundled batch, with the
run's trust warnings shown first; a credit model's results say which data they were trained on and warn
when the page shows other data; one decline rule and proxies kept out of reason codes; the Save button
in the Export tab. Screenshots go to tests/_screenshots (story_*.png)."""

from __future__ import annotations

import shutil

import pytest

from core.store.registry import read_metadata
from core.store.scenarios import SCENARIOS
from tests.conftest import click_tab, clipped_texts, pick, run_app


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
        pick(page, "Runs folder", "team-a")
        page.get_by_text("1 of 1 runs").wait_for()
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
        pick(page, "Runs folder", "main runs folder")
        page.get_by_text("4 of 4 runs").wait_for()
        page.get_by_role("link", name="Score", exact=True).first.click()
        page.get_by_role("combobox", name="Saved run").wait_for(timeout=120_000)

        # Demand and quality have a bundled batch too: one click each, no file to bring.
        for scenario, batch, done in (("demand", "demand_next_quarter.csv", "Order quantity"),
                                      ("quality", "quality_new_batch.zip", "verdict")):
            run = saved_demo_runs[scenario]
            pick(page, "Saved run", f"({SCENARIOS[scenario].title})")
            flags = read_metadata(run)["workspace"].get("trust") or []
            for flag in flags:  # the run's trust warnings, before anything is scored
                page.get_by_text(flag["headline"]).first.wait_for()
            if flags:
                settle(page)
                page.get_by_text(flags[0]["headline"]).first.scroll_into_view_if_needed()
                page.screenshot(path=str(screenshot_dir / f"story_score_{scenario}_trust.png"))
            page.get_by_role("button", name=f"Use the sample batch ({batch})").click()
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


@pytest.mark.browser
def test_credit_results_belong_to_their_data_and_keep_proxies_out(browser, tmp_path, screenshot_dir):
    other = tmp_path / "my_applicants.csv"
    other.write_text("income,debt,default\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(60)))
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    with run_app(tmp_path) as url:
        page.goto(f"{url}/credit")
        page.get_by_text("Training options").wait_for(timeout=120_000)
        tabs = page.get_by_role("tab").all_inner_texts()
        assert tabs[0] == "Data & training" and tabs[-1] == "Export"
        page.get_by_label("Epochs (early stopping may end sooner)").fill("2")
        page.get_by_label("Use at most this many rows (0 = all)").fill("1200")
        page.get_by_label("Rows explained with SHAP").fill("50")
        page.get_by_role("button", name="Train model").click()
        label = page.get_by_text("Results of the model trained on the bundled sample "
                                 "(credit_applications.csv, 1,200 applications)")
        label.wait_for(timeout=300_000)

        # One decline rule: the grade table counts the approved and declined of each grade (a grade the
        # line cuts is split), and the what-if's decision reads as the table writes it.
        click_tab(page, "Scorecard")
        heads = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
        heads.filter(has_text="Declined").first.wait_for(state="attached")
        assert {"Grade", "Approved", "Declined", "Decision"} <= set(heads.all_text_contents())
        page.screenshot(path=str(screenshot_dir / "story_credit_scorecard.png"))
        click_tab(page, "What-if")
        page.get_by_text("The line: P(default)").first.wait_for()
        decision = page.locator("[data-testid='stMetric']").filter(has_text="Decision")
        assert decision.locator("[data-testid='stMetricValue']").inner_text() in ("Approve", "Decline")
        assert "APPROVE" not in body(page) and "Review" not in body(page)
        page.screenshot(path=str(screenshot_dir / "story_credit_what_if.png"))

        # Proxies: out of reason codes by default, the toggle says which.
        click_tab(page, "Reason codes")
        toggle = page.locator("label").filter(has_text="Keep features that may stand in for a protected attribute")
        toggle.wait_for()
        assert "Region" in toggle.inner_text() and toggle.locator("input").is_checked()
        page.get_by_text("Left out of every reason").wait_for()
        page.screenshot(path=str(screenshot_dir / "story_credit_reasons.png"))

        # The Save button is in the Export tab, and says where it saves without a server path.
        click_tab(page, "Export")
        page.get_by_role("button", name="Save to workspace").wait_for()
        assert "Saved into the main runs folder" in body(page) and str(tmp_path) not in body(page)

        # Other data on the page: the results say whose they are.
        click_tab(page, "Data & training")
        page.get_by_text("Upload my file").click()
        warning = page.get_by_text("These results are not for the data on this page")
        warning.wait_for(timeout=120_000)
        settle(page)
        assert "no data is loaded now" in body(page) and label.count() == 0
        page.screenshot(path=str(screenshot_dir / "story_credit_no_data.png"))
        uploader = page.get_by_test_id("stFileUploader").filter(has_text="Loan applications")
        uploader.locator("input[type=file]").set_input_files(str(other))
        page.get_by_text("the data now loaded in 'Data & training' is other data").wait_for(timeout=120_000)
        settle(page)
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(800)
        page.screenshot(path=str(screenshot_dir / "story_credit_other_data.png"))
        # Back on the sample: the label again, no warning.
        page.get_by_text("Bundled sample (5,000 applications)").click()
        label.wait_for(timeout=120_000)
        assert warning.count() == 0
    context.close()

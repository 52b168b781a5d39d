"""Browser test: the Runs list fits a 1280 × 800 laptop window, and a click on a row opens its details."""

from __future__ import annotations

import pytest

from tests.workspace.run_factory import CHANCE_FLAG, make_run, populate, workspace_meta

LONG = "credit · credit_applications_2026_q3_branch_export.csv"


@pytest.mark.browser
def test_runs_list_fits_a_laptop_and_opens_a_run(app_url, app_workdir, browser, tmp_path, screenshot_dir):
    folder = f"list-{tmp_path.name}"
    root = app_workdir / "runs" / folder
    populate(root)
    make_run(root, "credit-20261206-191500-9f3a2c", workspace=workspace_meta(
        name=LONG, auc=0.512, trust=[CHANCE_FLAG], loss_avoided=1234567.0))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app_url}/runs")
        page.get_by_label("Runs folder", exact=True).click()
        page.get_by_role("option", name=folder).click()
        heading = page.get_by_text("5 of 5 runs")
        heading.wait_for(timeout=60_000)
        heading.scroll_into_view_if_needed()
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for()
        page.wait_for_timeout(1500)  # the grid draws its canvas after the element appears
        page.screenshot(path=str(screenshot_dir / "runs_list_1280.png"))
        # Every column in view: the grid needs no sideways scrolling at this width.
        overflow = grid.evaluate("""g => [...g.querySelectorAll('.dvn-scroller')]
            .map(s => s.scrollWidth - s.clientWidth)""")
        assert overflow and max(overflow) <= 1, overflow
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 20, box["y"] + 38 + 17)  # the newest run's row (its checkbox)
        page.get_by_text("run id for the command line: credit-20261206-191500-9f3a2c").last.wait_for()
        assert page.get_by_text(LONG + " · run id").count() == 1  # the full name, in the details
        page.get_by_text("No better than chance.").first.wait_for()
    finally:
        context.close()

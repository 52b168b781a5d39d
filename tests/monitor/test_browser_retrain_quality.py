"""The Monitor page in Chromium retraining a quality run: the original images and the newly inspected
ones are uploaded beside the retrain button (which waits for both), the challenger is trained, its
verdict against the champion shown. Screenshots are kept."""

from __future__ import annotations

import pytest

from tests.conftest import clipped_texts
from tests.monitor.test_retrain_quality import scored_and_inspected

pytestmark = pytest.mark.browser


def test_a_quality_challenger_from_the_monitor_page(app_url, app_workdir, browser, screenshot_dir):
    # The run goes into the session server's runs folder: saved last, it is the run the Monitor page opens on.
    loop = scored_and_inspected(app_workdir)
    context = browser.new_context(viewport={"width": 1440, "height": 2200})
    page = context.new_page()
    page.set_default_timeout(240_000)
    page.goto(f"{app_url}/monitor")
    page.get_by_text("Close the loop").wait_for()
    page.get_by_text("Newly inspected images (zip of class folders)").wait_for()
    button = page.get_by_role("button", name="Train a challenger")
    assert button.is_disabled()  # neither zip uploaded yet
    page.locator("input[type=file]").nth(2).set_input_files(str(loop["work"] / "inspected.zip"))
    page.get_by_text("inspected.zip").wait_for()
    assert button.is_disabled()  # the original images are still missing
    page.screenshot(path=str(screenshot_dir / "monitor_quality_retrain_waiting.png"), full_page=True)
    page.locator("input[type=file]").nth(1).set_input_files(str(loop["work"] / "original.zip"))
    page.get_by_text("original.zip").wait_for()
    button.click()
    try:
        page.get_by_text("ROC-AUC on 30 comparison images", exact=False).wait_for()
    finally:
        page.screenshot(path=str(screenshot_dir / "monitor_quality_challenger.png"), full_page=True)
    assert page.get_by_text("quality-1-challenger-1", exact=False).count() >= 1
    assert page.get_by_text("Defect recall at the run's threshold", exact=False).count() >= 1
    assert page.locator("[data-testid=stException]").count() == 0
    assert clipped_texts(page) == []
    context.close()

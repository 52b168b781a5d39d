import re

import pytest

from core.scenarios import SCENARIOS


@pytest.mark.browser
def test_home_page_in_chromium(app_url, page, screenshot_dir):
    page.goto(app_url)
    page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
    for spec in SCENARIOS.values():
        page.get_by_text(spec.question).wait_for()
    # The device line fills in after TensorFlow is imported, without blocking the page.
    page.get_by_text(re.compile(r"Training device — (CPU|GPU)")).wait_for(timeout=120_000)
    # Every built scenario appears in the navigation.
    for spec in SCENARIOS.values():
        if spec.available:
            assert page.get_by_role("link", name=spec.title).count() >= 1
    page.screenshot(path=str(screenshot_dir / "home.png"), full_page=True)
    assert not page.get_by_text("Traceback").count()

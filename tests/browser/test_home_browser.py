import re

import pytest

from core.store.scenarios import SCENARIOS


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


@pytest.mark.browser
def test_deep_link_on_a_fresh_server_goes_through_the_router(tmp_path, page, screenshot_dir):
    """The first request of a new server is a link straight to a scenario (as in a shared demo
    link): the page must still get the app's navigation titles and wide layout, not a sidebar
    of file names from Streamlit's legacy pages-folder mode."""
    from tests.conftest import run_app

    with run_app(tmp_path) as url:
        page.goto(f"{url}/credit")
        page.get_by_role("heading", name="Credit scoring").wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_text("Overview").wait_for()
        titles = nav.inner_text()
        # Legacy mode would list the script files themselves, "app" first.
        legacy = nav.get_by_role("link", name=re.compile(r"^(app|credit|quality)$")).count()
        page.screenshot(path=str(screenshot_dir / "deep_link_credit.png"))
    for spec in SCENARIOS.values():
        if spec.available:
            assert spec.title in titles
    assert legacy == 0


@pytest.mark.browser
def test_old_home_link_lands_on_the_overview_without_a_not_found_dialog(app_url, page, screenshot_dir):
    page.goto(f"{app_url}/home")
    page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
    page.wait_for_timeout(1500)  # the dialog, when there is one, opens right after the first render
    assert page.get_by_text("Page not found").count() == 0
    nav = page.get_by_test_id("stSidebarNav")
    # One "Overview" entry in the navigation: the forwarding page stays hidden.
    assert nav.get_by_role("link", name="Overview").count() == 1
    page.screenshot(path=str(screenshot_dir / "home_link.png"))

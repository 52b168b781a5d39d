"""Browser test: a credit model trained on a shuffled outcome is called no better than chance in bold
in the page's header and on the Overview's card once saved; presenter mode does not present it."""

import numpy as np
import pandas as pd
import pytest

from core.credit.pipeline import SAMPLE_PATH
from tests.conftest import click_tab

WARNING = "No better than chance"


@pytest.mark.browser
def test_shuffled_outcome_is_flagged_on_the_page_the_overview_and_in_presenter_mode(tmp_path, page, screenshot_dir):
    from tests.conftest import run_app

    df = pd.read_csv(SAMPLE_PATH).sample(n=1200, random_state=1)
    data = tmp_path / "applications_shuffled.csv"
    df.assign(default=np.random.default_rng(0).permutation(df["default"].to_numpy())).to_csv(data, index=False)
    with run_app(tmp_path) as url:
        page.set_viewport_size({"width": 1440, "height": 1000})
        page.goto(f"{url}/credit")
        page.get_by_text("Upload my file").click()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(data))
        page.get_by_text("Training options").wait_for(timeout=90_000)
        page.get_by_label("Epochs (early stopping may end sooner)").fill("2")
        page.get_by_role("button", name="Train model").click()
        page.get_by_text("Model trained").first.wait_for(timeout=240_000)
        # In the header, above the tabs, red and bold, whichever tab is open.
        box = page.locator("[data-testid='stAlertContentError']").filter(has_text=WARNING).first
        box.wait_for(timeout=60_000)
        assert box.locator("strong").first.inner_text() == f"{WARNING}."
        page.get_by_role("heading", name="Credit scoring").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "trust_credit_header.png"))
        tabs_top = page.get_by_role("tab", name="Performance").bounding_box()["y"]
        assert box.bounding_box()["y"] < tabs_top
        click_tab(page, "Export")
        page.get_by_role("button", name="Save to workspace").click()
        page.get_by_text("Saved as run").wait_for(timeout=120_000)

        page.goto(url)
        page.get_by_role("heading", name="AI Use-Case Studio").wait_for()
        card = page.locator("[data-testid='stAlertContentError']").filter(has_text=WARNING).first
        card.wait_for(timeout=60_000)
        assert "its 95 % interval" in card.inner_text()
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir / "trust_overview_card.png"))

        # Presenter mode presents the demo runs only (its verdict line carries the same warnings,
        # tests/pages/test_home.py): the run saved from the page is not offered to an audience.
        page.get_by_text("Presenter mode").click()
        page.get_by_text("None has been run in this runs folder yet").wait_for()
        page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0")
        page.get_by_role("button", name="Run all four demos").wait_for()
        assert page.locator("[data-testid='stAlertContentError']").filter(has_text=WARNING).count() == 0
        page.screenshot(path=str(screenshot_dir / "trust_presenter.png"))

"""Drive the quality page in Chromium: upload a zip, train, move to heatmaps."""

import pytest

from tests.conftest import click_tab
from tests.quality.conftest import make_zip, sample_entries

pytestmark = pytest.mark.browser


def test_upload_zip_train_and_explain(app_url, page, tmp_path):
    zip_path = tmp_path / "parts.zip"
    zip_path.write_bytes(make_zip(sample_entries({"ok": 40, "pit": 12, "scratch": 12}, size=64, prefix="line3/")
                                  | {"line3/readme.txt": b"not an image"}))
    page.goto(f"{app_url}/quality")
    page.get_by_text("Upload a zip").click()
    page.locator("input[type=file]").first.set_input_files(str(zip_path))
    try:
        page.get_by_text("Examples per class").wait_for()
    finally:
        page.screenshot(path="/tmp/quality_upload.png", full_page=True)
    assert page.get_by_text("not images and were skipped").count() >= 1
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("3")
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").wait_for(timeout=180_000)
    page.screenshot(path="/tmp/quality_trained.png", full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0

    click_tab(page, "Decision & costs")
    page.get_by_text("Expected inspection cost by threshold").first.wait_for()
    page.screenshot(path="/tmp/quality_decision.png", full_page=True)

    click_tab(page, "Heatmaps")
    page.get_by_role("button", name="Compute heatmaps").click()
    page.get_by_text("Grad-CAM ·").first.wait_for(timeout=120_000)
    page.get_by_text("SHAP ·").first.wait_for()
    page.screenshot(path="/tmp/quality_heatmaps.png", full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0

"""Drive the quality page's training job in Chromium: live progress while it runs in a worker, found
again after a reload, stopped by Cancel with nothing kept."""

import re

import pytest

from tests.quality.conftest import make_zip, sample_entries

pytestmark = pytest.mark.browser


def test_training_job_shows_progress_survives_a_reload_and_cancels(app_url, page, tmp_path):
    zip_path = tmp_path / "parts.zip"
    zip_path.write_bytes(make_zip(sample_entries({"ok": 60, "pit": 20, "scratch": 20}, size=64)))
    page.goto(f"{app_url}/quality")
    page.get_by_text("Upload a zip").click()
    page.locator("input[type=file]").first.set_input_files(str(zip_path))
    page.get_by_text("Examples per class").wait_for()
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("200")  # long enough to be caught running
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text(re.compile(r"Training running for \d+ s, in a separate process")).wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"Epoch \d+ of 200")).first.wait_for(timeout=180_000)
    page.screenshot(path="/tmp/quality_job_running.png", full_page=True)
    assert page.get_by_role("button", name="Cancel").count() == 1

    # A reload starts a new session: the browser's key in the address finds the running job again.
    assert "s=" in page.url
    page.reload()
    page.get_by_text(re.compile(r"Training running for \d+ s")).wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Epoch \d+ of 200")).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The training was cancelled; nothing of it was kept.").wait_for(timeout=30_000)
    page.screenshot(path="/tmp/quality_job_cancelled.png", full_page=True)
    assert page.get_by_text("Model trained").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0

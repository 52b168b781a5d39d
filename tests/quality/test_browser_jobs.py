"""Drive the quality page's training job in Chromium: live progress while it runs in a worker, found
again after a reload, stopped by Cancel with nothing kept. That the server never loads TensorFlow
after a training and every tab is tested on the training tests/quality/test_browser.py shares."""

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
    # A model search with a long budget runs for that long whatever early stopping does: caught running.
    page.get_by_text("Search the network's settings first").click()
    budget = page.get_by_label("Search budget (seconds)")
    budget.fill("900")
    budget.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text(re.compile(r"Training running for \d+ s, in a separate process")).wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"Model search: .*trial\(s\) done")).first.wait_for(timeout=180_000)
    page.screenshot(path="/tmp/quality_job_running.png", full_page=True)
    assert page.get_by_role("button", name="Cancel").count() == 1

    # Another page and back: the job went on without the page, which finds it again.
    page.get_by_role("link", name="Credit scoring").click()
    page.get_by_role("heading", name="Credit scoring").first.wait_for()
    assert page.get_by_text(re.compile(r"Training running for")).count() == 0
    page.get_by_role("link", name="Quality inspection").click()
    page.get_by_text(re.compile(r"Training running for \d+ s")).wait_for(timeout=60_000)

    # A reload starts a new session: the browser's key in the address finds the running job again.
    assert "s=" in page.url
    page.reload()
    page.get_by_text(re.compile(r"Training running for \d+ s")).wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Model search: .*trial\(s\) done")).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The training was cancelled; nothing of it was kept.").wait_for(timeout=30_000)
    page.screenshot(path="/tmp/quality_job_cancelled.png", full_page=True)
    assert page.get_by_text("Model trained").count() == 0
    assert page.locator("[data-testid=stException]").count() == 0

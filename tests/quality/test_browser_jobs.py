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


def _server(url: str):
    """The streamlit server process answering ``url`` (a child of this test process)."""
    import psutil

    port = url.rsplit(":", 1)[1]
    return next(p for p in psutil.Process().children() if "streamlit" in " ".join(p.cmdline()) and port in p.cmdline())


def test_after_training_every_tab_runs_without_tensorflow_in_the_server(page, tmp_path):
    """Its own server, so no other page has loaded anything into it: train, read every tab, compute
    heatmaps (a job) and prepare the model download; the server process never maps TensorFlow, and serves
    the network with ONNX Runtime."""
    from tests.conftest import click_tab, run_app

    zip_path = tmp_path / "parts.zip"
    entries = sample_entries({"ok": 40, "pit": 12, "scratch": 12}, size=64)
    zip_path.write_bytes(make_zip(entries))
    one = tmp_path / "new_part.png"
    one.write_bytes(next(data for name, data in entries.items() if "pit" in name))
    with run_app(tmp_path) as url:
        page.goto(f"{url}/quality")
        page.get_by_text("Upload a zip").click()
        page.locator("input[type=file]").first.set_input_files(str(zip_path))
        page.get_by_text("Examples per class").wait_for()
        epochs = page.get_by_label("Epochs (early stopping may end sooner)")
        epochs.fill("2")
        epochs.press("Tab")
        page.get_by_role("button", name="Train model").click()
        # The worker needs seconds to load TensorFlow: the job's panel is drawn before the result.
        page.get_by_text(re.compile(r"Training running for|Waiting for a free training slot")).first.wait_for()
        page.get_by_text("Model trained").first.wait_for(timeout=240_000)
        for tab, text in (("Performance", "Macro F1"), ("Decision & costs", "Expected inspection cost by threshold")):
            click_tab(page, tab)
            # exact: the training tab's recommendation line also names the macro F1, hidden behind this tab
            page.get_by_text(text, exact=True).first.wait_for()
        click_tab(page, "Heatmaps")
        page.get_by_role("button", name="Compute heatmaps").click()
        page.get_by_text("Grad-CAM ·").first.wait_for(timeout=180_000)
        # A new image: its verdict comes from the network on ONNX Runtime, its maps from a job.
        page.get_by_role("tabpanel", name="Heatmaps").locator("input[type=file]").set_input_files(str(one))
        page.get_by_text("Verdict:").first.wait_for(timeout=60_000)
        page.get_by_text("Grad-CAM ·").nth(1).wait_for(timeout=180_000)
        page.get_by_text("Verdict:").first.scroll_into_view_if_needed()
        page.screenshot(path="/tmp/quality_job_heatmaps.png")
        click_tab(page, "Export")
        page.get_by_role("button", name="Prepare model download").click()
        page.get_by_role("button", name="Download model (zip: Keras file + JSON settings + predictions)").wait_for()
        page.screenshot(path="/tmp/quality_job_export.png", full_page=True)
        assert page.locator("[data-testid=stException]").count() == 0
        mapped = {m.path for m in _server(url).memory_maps()}
    assert any("onnxruntime" in path for path in mapped)
    assert not [path for path in mapped if "tensorflow" in path.lower()]

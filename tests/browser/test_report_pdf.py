"""Browser test: the Runs page hands out the model card as PDF beside the HTML one."""

from __future__ import annotations

import io

import pytest

from tests.workspace.run_factory import populate


@pytest.mark.browser
def test_runs_page_downloads_the_pdf_card(app_url, app_workdir, page, tmp_path, screenshot_dir):
    pypdf = pytest.importorskip("pypdf")
    folder = f"pdf-{tmp_path.name}"  # a sub-folder of the app's runs folder, picked by name
    populate(app_workdir / "runs" / folder)
    page.goto(f"{app_url}/runs")
    page.get_by_label("Runs folder", exact=True).click()
    page.get_by_role("option", name=folder).click()
    page.get_by_text("4 of 4 runs").wait_for(timeout=60_000)
    button = page.get_by_role("button", name="Report as PDF")
    button.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "runs_pdf_button.png"), full_page=False)
    with page.expect_download(timeout=60_000) as dl:
        button.click()
    download = dl.value
    assert download.suggested_filename == "model-card-fraud-x.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    reader = pypdf.PdfReader(io.BytesIO(saved.read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Model card — fraud first try" in text
    for section in ("Intended use", "Data summary", "Method", "Metrics", "Business impact", "Explanations",
                    "Limitations"):
        assert section in text, section

"""Drive the quality page in Chromium: upload a zip, train, move to heatmaps."""

import pytest

from tests.conftest import click_tab, clipped_texts
from tests.quality.conftest import make_zip, sample_entries

pytestmark = pytest.mark.browser


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


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
    page.get_by_text("Augment images").wait_for()
    assert clipped_texts(page) == []  # the training form's labels fit their columns
    blend = page.get_by_role("checkbox", name="Blend with the best baseline")  # on by default, as credit's
    assert blend.is_checked()
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("3")
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").first.wait_for(timeout=180_000)
    page.screenshot(path="/tmp/quality_trained.png", full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    # The blend was checked on the validation images, and the page says which model is recommended.
    assert (page.get_by_text("Recommended model: the CNN.").count()
            + page.get_by_text("Ensemble used").count()) == 1

    click_tab(page, "Decision & costs")
    page.get_by_text("Expected inspection cost by threshold").first.wait_for()
    page.screenshot(path="/tmp/quality_decision.png", full_page=True)
    assert clipped_texts(page) == []

    click_tab(page, "Heatmaps")
    page.get_by_role("button", name="Compute heatmaps").click()
    page.get_by_text("Grad-CAM ·").first.wait_for(timeout=120_000)
    page.get_by_text("SHAP ·").first.wait_for()
    page.screenshot(path="/tmp/quality_heatmaps.png", full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0

    click_tab(page, "Export")
    page.get_by_text("Test predictions").first.wait_for()
    shown = headers(page.get_by_role("tabpanel", name="Export"))
    assert {"File", "Actual class", "Predicted class", "Confidence", "P(ok)"} <= set(shown), shown
    assert not [h for h in shown if "_" in h], shown


def test_defect_typing_upload_from_file_names(app_url, page, tmp_path):
    """NEU-like steel images, class in the file name, no good class: the page lists the classes it
    read, trains, and shows per-class figures and misclassified images instead of a reject decision."""
    from core.quality.synth_neu import neu_like_files

    zip_path = tmp_path / "steel.zip"
    files = neu_like_files(per_class=20, size=64, seed=2)
    zip_path.write_bytes(make_zip({f"NEU-like/{name}": data for name, data in files.items()}))
    page.goto(f"{app_url}/quality")
    page.get_by_text("Upload a zip").click()
    page.locator("input[type=file]").first.set_input_files(str(zip_path))
    page.get_by_text("6 classes taken from the file names").wait_for()
    assert page.get_by_text("multi-class defect typing").count() >= 1
    assert headers(page)[:3] == ["Class (from file names)", "Images", "Example file"]
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("4")
    epochs.press("Tab")
    page.get_by_role("button", name="Train model").click()
    page.get_by_text("Model trained").first.wait_for(timeout=240_000)
    click_tab(page, "Errors by class")
    gallery = page.get_by_text("Misclassified test images").first
    gallery.wait_for()
    page.screenshot(path="/tmp/quality_typing.png", full_page=True)
    gallery.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/quality_typing_gallery.png")
    assert page.get_by_role("tab", name="Decision & costs").count() == 0
    # No reject-decision figures (the defect-typing note itself mentions them in a sentence).
    for label in ("Escape rate", "Reject rate", "Optimal threshold", "Cost per part"):
        assert page.get_by_text(label, exact=True).count() == 0, label
    assert page.locator("[data-testid=stException]").count() == 0


def test_catalogue_as_downloaded_upload(app_url, page, tmp_path):
    """The magnetic-tile look-alike as downloaded (a mask beside every photo): the page reads each
    photo once, says how many masks it left out and how, and names MT_Free as the good class."""
    from tests.quality.mtlike import magnetic_tile_files, photo_count

    files = magnetic_tile_files(seed=0)
    n = photo_count(files)
    zip_path = tmp_path / "Magnetic-tile-defect-datasets.zip"
    zip_path.write_bytes(make_zip(files))
    page.goto(f"{app_url}/quality")
    page.get_by_text("Upload a zip").click()
    page.locator("input[type=file]").first.set_input_files(str(zip_path))
    try:
        page.get_by_text("Examples per class").wait_for()
    finally:
        page.screenshot(path="/tmp/quality_catalogue.png", full_page=True)
    assert page.get_by_text(f"{n} mask or annotation image(s) were left out, not read as photos").count() == 1
    assert page.get_by_text("Good-part class: MT_Free (recognised by its name)").count() == 1
    assert page.get_by_role("checkbox", name="Keep mask-like images as photos").count() == 1
    page.get_by_text("Good-part class: MT_Free").scroll_into_view_if_needed()
    # The example thumbnails are the photos (one per file, none a mask): wait until they are drawn.
    # Up to six per class: 6 + 6 + 5 + 5 + 6 + 6 = 34 (with the masks read as photos, 36).
    page.wait_for_function("() => { const imgs = [...document.querySelectorAll('[data-testid=stImage] img')];"
                           " return imgs.length >= 34 && imgs.every(i => i.complete && i.naturalWidth > 0); }")
    assert page.locator("[data-testid=stImage] img").count() == 34
    page.screenshot(path="/tmp/quality_catalogue_notices.png")
    tiles = page.locator("[data-testid=stMetric]").all_inner_texts()
    assert any(t.startswith("Images") and t.endswith(f"\n{n}") for t in tiles), tiles
    assert page.locator("[data-testid=stException]").count() == 0
    assert clipped_texts(page) == []

"""Drive the quality page in Chromium: upload a zip, train, move to heatmaps; then, on the same
training and its own server, every tab without TensorFlow in the server; defect typing from file
names; a catalogue as downloaded."""

import re

import pytest

from tests.conftest import click_tab, clipped_texts, run_app, shared_page
from tests.quality.conftest import make_zip, sample_entries

pytestmark = pytest.mark.browser


def headers(page) -> list[str]:
    """The column headers of every table on screen (the grid's accessible header cells; the grid
    itself is drawn on a canvas)."""
    cells = page.locator("[data-testid='stDataFrame'] th[role=columnheader]")
    cells.first.wait_for(state="attached")  # the grid draws a moment after its frame appears
    return cells.all_text_contents()


ENTRIES = sample_entries({"ok": 40, "pit": 12, "scratch": 12}, size=64, prefix="line3/")


@pytest.fixture(scope="module")
def own_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("quality_app")


@pytest.fixture(scope="module")
def own_url(own_dir):
    """A server of its own for the shared training, so that no other page has loaded anything into it
    when the tests read its memory maps."""
    with run_app(own_dir) as url:
        yield url


@pytest.fixture(scope="module")
def shared(browser):
    with shared_page(browser) as s:
        yield s


def _upload(page, url, zip_path) -> None:
    zip_path.write_bytes(make_zip(ENTRIES | {"line3/readme.txt": b"not an image"}))
    page.goto(f"{url}/quality")
    page.get_by_text("Upload a zip").click()
    page.locator("input[type=file]").first.set_input_files(str(zip_path))


def _train(shared) -> None:
    epochs = shared.page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("2")  # a small training: these tests read what the page shows of it, not how good it is
    epochs.press("Tab")
    shared.page.get_by_role("button", name="Train model").click()
    # The worker needs seconds to load TensorFlow: the job's panel is drawn before the result.
    shared.page.get_by_text(re.compile(r"Training running for|Waiting for a free training slot")).first.wait_for()
    shared.page.get_by_text("Model trained").first.wait_for(timeout=180_000)
    shared.trained = True


@pytest.fixture
def trained(shared, own_url, tmp_path):
    """The shared page with the training on it (trained here when the first test did not get so far)."""
    if not shared.trained:
        _upload(shared.page, own_url, tmp_path / "parts.zip")
        shared.page.get_by_text("Examples per class").wait_for()
        _train(shared)
    return shared.page


def test_upload_zip_train_and_explain(own_url, shared, tmp_path):
    page = shared.page
    _upload(page, own_url, tmp_path / "parts.zip")
    try:
        page.get_by_text("Examples per class").wait_for()
    finally:
        page.screenshot(path="/tmp/quality_upload.png", full_page=True)
    assert page.get_by_text("not images and were skipped").count() >= 1
    page.get_by_text("Augment images").wait_for()
    assert clipped_texts(page) == []  # the training form's labels fit their columns
    blend = page.get_by_role("checkbox", name="Blend with the best baseline")  # on by default, as credit's
    assert blend.is_checked()
    _train(shared)
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


def _server(url: str):
    """The streamlit server process answering ``url`` (a child of this test process)."""
    import psutil

    port = url.rsplit(":", 1)[1]
    return next(p for p in psutil.Process().children() if "streamlit" in " ".join(p.cmdline()) and port in p.cmdline())


def test_after_training_every_tab_runs_without_tensorflow_in_the_server(own_url, own_dir, trained, tmp_path):
    """On the server of its own, after the first test trained there and computed a test image's heatmaps
    (jobs): read every tab, a new image's verdict and heatmaps (a job), prepare the model download; the
    server process never maps TensorFlow, and serves the network with ONNX Runtime. Then the run saves to
    the workspace with the page's decision (its reject line and costs)."""
    page = trained
    one = tmp_path / "new_part.png"
    one.write_bytes(next(data for name, data in ENTRIES.items() if "pit" in name))
    for tab, text in (("Performance", "Macro F1"), ("Decision & costs", "Expected inspection cost by threshold")):
        click_tab(page, tab)
        # exact: the training tab's recommendation line also names the macro F1, hidden behind this tab
        page.get_by_text(text, exact=True).first.wait_for()
    click_tab(page, "Heatmaps")
    cam = page.get_by_text("Grad-CAM ·")
    if cam.count() == 0:  # the first test computed a test image's heatmaps on this server, unless it did not run
        page.get_by_role("button", name="Compute heatmaps").click()
    cam.first.wait_for(timeout=180_000)
    shown = cam.count()
    # A new image: its verdict comes from the network on ONNX Runtime, its maps from a job.
    page.get_by_role("tabpanel", name="Heatmaps").locator("input[type=file]").set_input_files(str(one))
    page.get_by_text("Verdict:").first.wait_for(timeout=60_000)
    cam.nth(shown).wait_for(timeout=180_000)  # the new image's maps, besides the test image's
    page.get_by_text("Verdict:").first.scroll_into_view_if_needed()
    page.screenshot(path="/tmp/quality_job_heatmaps.png")
    click_tab(page, "Export")
    page.get_by_role("button", name="Prepare model download").click()
    page.get_by_role("button", name="Download model (zip: Keras file + JSON settings + predictions)").wait_for()
    page.screenshot(path="/tmp/quality_job_export.png", full_page=True)
    assert page.locator("[data-testid=stException]").count() == 0
    mapped = {m.path for m in _server(own_url).memory_maps()}
    assert any("onnxruntime" in path for path in mapped)
    assert not [path for path in mapped if "tensorflow" in path.lower()]
    from core.store.registry import read_metadata

    page.get_by_role("button", name="Save to workspace").click()
    try:
        page.get_by_text(re.compile(r"Saved as run quality-")).first.wait_for(timeout=60_000)
    finally:
        page.screenshot(path="/tmp/quality_job_saved.png", full_page=True)
    (folder,) = [p for p in (own_dir / "runs").glob("quality-*") if p.is_dir()]
    meta = read_metadata(folder)
    record = meta["workspace"]["decision"]  # the page's costs, untouched here, saved once in the decision record
    assert (record["cost_escape"], record["cost_false_reject"]) == (50.0, 2.0) and "costs" not in meta
    assert 0 <= meta["workspace"]["decision"]["threshold"] <= 1 and meta["workspace"]["name"]


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
    page.get_by_text("multi-class defect typing").first.wait_for(state="attached")  # drawn a moment later
    assert page.get_by_text("multi-class defect typing").count() >= 1
    assert headers(page)[:3] == ["Class (from file names)", "Images", "Example file"]
    epochs = page.get_by_label("Epochs (early stopping may end sooner)")
    epochs.fill("2")  # the classes, per-class figures and misclassified images, not the model's quality
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

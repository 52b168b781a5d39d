"""AppTest of pages/quality.py: train on the sample, move the threshold, explain, upload bad input."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.quality.conftest import make_zip, png_bytes, sample_entries
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "quality.py")


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def trained():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception
    at.selectbox(key="quality.image_size").set_value(64)
    at.run()
    at.number_input(key="quality.epochs").set_value(2)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def test_trains_on_sample_and_shows_results(trained):
    at = trained
    m = _metrics(at)
    assert m["Images"] == "1,000" and m["Size used"] == "64×64×1"
    assert any("4 classes taken from the folder names" in i.value for i in at.info)
    for label in ("Accuracy", "Macro recall", "Macro F1", "Defect ROC-AUC", "Escape rate", "Optimal threshold"):
        assert label in m
    # One ROC-AUC (the defect one: the reject decision's), one defect recall at the one reject threshold, which
    # starts at its optimum.
    assert "ROC-AUC (one-vs-rest)" not in m
    recalls = {x.value for x in at.metric if x.label == "Defect recall"}
    assert len([x for x in at.metric if x.label == "Defect recall"]) == 2 and len(recalls) == 1
    assert at.slider(key="quality.threshold").value == pytest.approx(float(m["Optimal threshold"]), abs=0.006)
    assert any("Model trained" in s.value for s in at.success)
    # Two epochs make no usable CNN: only the trust warnings (core.report.trust) may say so, no other error.
    assert all(e.icon == ":material/report:" and e.value.startswith("**") for e in at.error), \
        [e.value for e in at.error]
    figs = at.get("plotly_chart")
    assert len(figs) >= 5  # class bar, history, confusion, per-class, cost curve


def test_threshold_and_costs_recompute_without_retraining(trained):
    at = trained
    run = at.session_state["quality.run"]
    at.slider(key="quality.threshold").set_value(0.0).run()
    assert _metrics(at)["Reject rate"] == "100.0%" and _metrics(at)["Escape rate"] == "0.0%"
    assert _metrics(at)["Cost per part"].startswith("€")  # money with its currency
    assert at.number_input(key="quality.cost_escape").label == "Cost of an escaped defect (€)"
    at.slider(key="quality.threshold").set_value(1.0).run()
    assert _metrics(at)["Reject rate"] == "0.0%"
    at.number_input(key="quality.cost_fr").set_value(1000.0).run()
    best_expensive_fr = float(_metrics(at)["Optimal threshold"])
    at.number_input(key="quality.cost_fr").set_value(0.0).run()
    assert float(_metrics(at)["Optimal threshold"]) <= best_expensive_fr
    at.button(key="quality.use_best").click().run()
    assert at.slider(key="quality.threshold").value == pytest.approx(float(_metrics(at)["Optimal threshold"]), abs=0.011)
    assert at.session_state["quality.run"] is run  # nothing was retrained
    assert not at.exception


def test_heatmaps_for_test_image_and_uploaded_image(trained):
    at = trained
    n_before = len(at.get("plotly_chart"))
    at.button(key="quality.explain_btn").click().run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == n_before + 3
    img = np.round(np.random.default_rng(0).uniform(0, 255, (40, 40))).astype(np.uint8)
    at.file_uploader(key="quality.single").set_value(("part.png", png_bytes(img), "image/png")).run()
    assert not at.exception
    assert any("Verdict" in e.value for e in [*at.error, *at.success])
    at.file_uploader(key="quality.single").set_value(("part.png", b"not an image", "image/png")).run()
    assert any("cannot be decoded" in e.value for e in at.error)
    assert at.session_state["quality.run"] is not None  # the trained model is kept


def test_export_offers_predictions_and_model(trained):
    at = trained
    at.button(key="quality.prep_zip").click().run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert any("predictions" in lab for lab in labels) and any("model" in lab for lab in labels)


def test_every_tab_works_on_the_detached_network_without_keras(trained, tmp_path, monkeypatch):
    """The training ran as a job: the page holds the network as a DetachedModel (ONNX Runtime), and
    reading every tab, moving the decision, computing heatmaps (a job of their own), scoring an uploaded
    image, preparing the download and saving the run never load it into Keras in this process."""
    from core.jobs.manager import get_job_manager
    from core.jobs.store import DetachedModel

    at = trained
    run = at.session_state["quality.run"]
    assert isinstance(run.model, DetachedModel) and run.model.onnx is not None
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    loads = DetachedModel.keras_loads
    at.run()
    assert "Defect ROC-AUC" in _metrics(at) and at.get("plotly_chart")  # performance and decision tabs drawn
    at.slider(key="quality.threshold").set_value(0.3).run()
    at.number_input(key="quality.cost_escape").set_value(80.0).run()
    at.button(key="quality.use_best").click().run()
    at.selectbox(key="quality.target").set_value(run.class_names[0]).run()
    assert not [c for c in at.get("plotly_chart") if c.key.startswith("quality.test_")]  # not computed yet
    n_before = len(at.get("plotly_chart"))
    at.button(key="quality.explain_btn").click().run()
    assert len(at.get("plotly_chart")) == n_before + 3
    owner = at.session_state["studio.browser"]
    heat = get_job_manager().latest(owner, "quality-heatmaps")
    assert heat is not None and heat.state == "done" and heat.meta["key"].endswith(f":{run.class_names[0]}")
    img = np.round(np.random.default_rng(1).uniform(0, 255, (40, 40))).astype(np.uint8)
    at.file_uploader(key="quality.single").set_value(("new.png", png_bytes(img), "image/png")).run()
    assert any("Verdict" in e.value for e in [*at.error, *at.success])
    assert get_job_manager().latest(owner, "quality-heatmaps-upload").state == "done"
    assert len(at.get("plotly_chart")) == n_before + 6  # the uploaded image's three maps too
    at.button(key="quality.prep_zip").click().run()
    assert any("model" in b.proto.label for b in at.get("download_button"))
    at.button(key="quality.ws_save").click().run()
    assert any("Saved as run" in s.value for s in at.success)
    saved = next((tmp_path / "runs").rglob("model.keras"))
    assert saved.read_bytes() == run.model.keras_bytes  # the trained network, byte for byte
    assert not at.exception
    assert DetachedModel.keras_loads == loads, "a tab loaded the network into Keras in the server process"


def test_a_data_error_in_the_training_job_is_shown_as_its_message(monkeypatch):
    """A DataValidationError raised in the job (here by the training) comes back as the job's error and is
    shown as it is, never a traceback; no model appears and nothing stays running."""
    import core.quality.engine
    from core.errors import DataValidationError
    from core.jobs.manager import get_job_manager

    def refuse(*args, **kwargs):
        raise DataValidationError("Expected at least 3 images of class 'pit' in the training split; got 1. "
                                  "Fix: add images of that class.")

    monkeypatch.setattr(core.quality.engine, "train_quality", refuse)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.selectbox(key="quality.image_size").set_value(64).run()
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    assert any(e.value.startswith("Expected at least 3 images of class 'pit'") for e in at.error), \
        [e.value for e in at.error]
    job = get_job_manager().latest(at.session_state["studio.browser"], "quality")
    assert job.state == "failed" and job.error["kind"] == "data"
    assert "quality.run" not in at.session_state


@pytest.fixture(scope="module")
def upload_page():
    """One session with the zip upload chosen, shared by the tests that each upload a zip and read the page's
    answer to it (every upload replaces the one before, and the page reads it from scratch); none of them trains."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="quality.source").set_value("Upload a zip").run()
    return at


@pytest.mark.parametrize("entries, message", [
    ({"../evil/a.png": b"x"}, "points outside the archive"),
    ({**sample_entries({"ok": 8, "pit": 2}, size=16)}, "at least two classes"),
    ({"ok/a.png": b"junk", "nok/b.png": b"junk"}, "none of which could be decoded"),
])
def test_bad_uploads_show_clear_errors(upload_page, entries, message):
    at = upload_page
    at.file_uploader(key="quality.upload").set_value(("bad.zip", make_zip(entries), "application/zip")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]


def test_upload_with_corrupt_file_still_loads_the_rest(upload_page):
    entries = sample_entries({"ok": 8, "pit": 8}, size=16) | {"pit/broken.png": b"\x89PNG junk"}
    at = upload_page
    at.file_uploader(key="quality.upload").set_value(("parts.zip", make_zip(entries), "application/zip")).run()
    assert not at.exception and not errors_besides_trust(at)
    assert _metrics(at)["Images"] == "16"
    assert any("pit/broken.png" in w.value for w in at.warning)


def test_defect_typing_upload_confirms_classes_and_skips_the_reject_decision(typing_zip):
    """Six defect classes named in the file names, no good class: the page shows the classes it read
    from the names, says there is no reject decision, and shows per-class figures and errors instead."""
    from core.quality.engine import DEFECT_TYPING_NOTE

    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    at.radio(key="quality.source").set_value("Upload a zip").run()
    at.file_uploader(key="quality.upload").set_value(("steel.zip", typing_zip, "application/zip")).run()
    assert not at.exception and not errors_besides_trust(at)
    infos = [i.value for i in at.info]
    assert any(v.startswith("6 classes taken from the file names: crazing (10), inclusion (10), patches (10)")
               for v in infos)
    assert DEFECT_TYPING_NOTE in infos
    layout = next(d.value for d in at.dataframe if "Class (from file names)" in d.value.columns)
    assert layout["Images"].tolist() == [10] * 6 and layout["Example file"].iloc[0] == "steel/crazing_1.jpg"
    m = _metrics(at)
    assert m["Defect share"] == "n/a" and m["Size used"] == "48×48×1"
    assert any("read as grayscale" in w.value for w in at.warning)

    at.number_input(key="quality.epochs").set_value(1)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert [t.label for t in at.tabs][2] == "Errors by class"
    m = _metrics(at)
    assert "Lowest class recall" in m and "Accuracy" in m
    for label in ("Escape rate", "Reject rate", "Optimal threshold", "Defect recall at 0.5", "Cost per part"):
        assert label not in m
    assert any("Misclassified test images" in md.value for md in at.markdown)
    table = next(d.value for d in at.dataframe if list(d.value.columns[:3]) == ["class", "precision", "recall"])
    assert table["class"].tolist() == list(at.session_state["quality.run"].class_names)
    assert {"precision", "recall"} <= set(table.columns)
    assert not [s for s in at.slider if s.key == "quality.threshold"]  # no cost threshold without a good class


def test_catalogue_as_downloaded_shows_the_masks_notice_and_the_good_class(upload_page):
    """The magnetic-tile look-alike (a mask beside every photo, MT_ prefixes, Imgs/ levels): the page
    counts the photos once, says how many masks it left out and how, names MT_Free as the good class
    and preselects it for training; the analyst can keep the masks as photos."""
    from tests.quality.mtlike import magnetic_tile_files, photo_count

    files = magnetic_tile_files(seed=0)
    n = photo_count(files)
    at = upload_page
    at.file_uploader(key="quality.upload").set_value(("mt.zip", make_zip(files), "application/zip")).run()
    assert not at.exception and not errors_besides_trust(at)
    m = _metrics(at)
    assert m["Images"] == f"{n}" and m["Classes"] == "6" and m["Defect share"] == f"{(n - 30) / n:.1%}"
    assert any(w.value.startswith(f"{n} mask or annotation image(s) were left out, not read as photos") for w in at.warning)
    infos = [i.value for i in at.info]
    assert any(v.startswith("Good-part class: **MT_Free** (recognised by its name)") for v in infos)
    assert at.selectbox(key="quality.ok_class").value == "MT_Free"
    at.checkbox(key="quality.keep_masks").check().run()
    assert not at.exception
    assert _metrics(at)["Images"] == f"{2 * n}"
    assert any("kept as photos, as asked" in w.value for w in at.warning)


def test_large_texture_upload_keeps_its_resolution_and_trains_at_stride_two(monkeypatch):
    """200-px steel textures stay at 200 px with 'auto'; when their pixels exceed the training budget
    (made small here, so a few images are enough) the page says the first convolution reads them at
    stride 2."""
    from core.quality import sizing
    from core.quality.synth_neu import neu_like_files

    monkeypatch.setattr(sizing, "PIXEL_BUDGET", 600_000)
    files = neu_like_files(per_class=6, size=200, seed=1)  # 36 images: 4 of each class train, past the budget
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    at.radio(key="quality.source").set_value("Upload a zip").run()
    at.file_uploader(key="quality.upload").set_value(("steel.zip", make_zip(files), "application/zip")).run()
    assert not at.exception and not at.error
    assert _metrics(at)["Size used"] == "200×200×1"
    assert any("Input size 200×200 chosen automatically" in w.value for w in at.warning)
    at.number_input(key="quality.epochs").set_value(1)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert any("200×200 images at stride 2, so the layers after it work at 100×100" in w.value for w in at.warning)
    assert at.session_state["quality.run"].stem_stride == 2

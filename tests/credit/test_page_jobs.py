"""The credit page's training as a job: the result comes back with its network detached from
TensorFlow, and every tab (what-if, export, save) works without loading Keras in the server."""

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from core.jobs.store import DetachedModel
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def test_every_tab_works_on_the_detached_network(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    for w in at.number_input:
        if w.label == "Epochs (early stopping may end sooner)":
            w.set_value(2)
        elif w.label == "Use at most this many rows (0 = all)":
            w.set_value(1000)
        elif w.label == "Rows explained with SHAP":
            w.set_value(50)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception and not errors_besides_trust(at)
    run = at.session_state["credit.run"]
    assert isinstance(run.tabular.model, DetachedModel) and run.tabular.model.onnx is not None
    loads = DetachedModel.keras_loads
    # What-if: an edited applicant is scored and explained again.
    income = next(w for w in at.number_input if w.key and w.key.startswith("credit.wi:0:"))
    income.set_value(float(income.value) * 3 + 1).run()
    assert not at.exception
    for label in ("Prepare scored CSV (with reason codes for declines)", "Prepare model download"):
        next(b for b in at.button if b.label == label).click().run()
        assert not at.exception and not errors_besides_trust(at)
    next(b for b in at.button if b.label == "Save to workspace").click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert any(s.value.startswith("Saved as run") for s in at.success)
    # The run decides with the page's threshold and costs, saved once in its decision record.
    from core.store.registry import read_metadata

    dec = read_metadata(next(p for p in (tmp_path / "runs").iterdir() if p.is_dir()))["workspace"]["decision"]
    assert (dec["threshold"], dec["loss_default"], dec["margin_good"]) == (
        at.session_state["credit.threshold"], at.session_state["credit.loss"], at.session_state["credit.margin"])
    assert DetachedModel.keras_loads == loads  # no tab needed Keras in this process
    # The saved run holds the network the worker trained: Keras reads it and predicts what ONNX Runtime did.
    from core.store.registry import load_run

    saved = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    keras_model = load_run(saved).model
    x = np.random.default_rng(0).normal(size=(16, keras_model.inputs[0].shape[1])).astype("float32")
    assert np.allclose(np.asarray(keras_model(x)), run.tabular.model(x), atol=1e-5)

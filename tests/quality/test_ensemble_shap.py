"""The quality ensemble written as one Keras model, so SHAP explains it like the CNN: its
predictions equal the blend of the CNN's and the baseline's own, and its SHAP map is of the blend."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import DataValidationError
from tests.conftest import errors_besides_trust


def _thumb_model(size: int, lr, n_classes: int, channels: int = 3):
    import keras

    from core.quality.ensemble import thumbnail_logistic_layers

    inp = keras.Input((size, size, channels))
    return keras.Model(inp, thumbnail_logistic_layers(inp, lr, image_size=size, n_classes=n_classes))


@pytest.mark.parametrize("size, classes, n_classes, channels", [
    (50, [0, 1, 3], 4, 3),  # 50 px: 3x3 blocks over the top-left 48 px; class 2 never seen in training
    (32, [0, 1], 2, 1),  # two classes: the regression's single row of weights
])
def test_thumbnail_regression_as_layers_equals_scikit_learn(size, classes, n_classes, channels):
    from core.quality.baselines import _thumbs, fit_thumbnail_logistic

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(60, size, size, channels)).astype(np.uint8)
    y = np.array(classes)[rng.integers(0, len(classes), size=60)]
    X[y == classes[-1], :8] = 255  # something to learn
    lr = fit_thumbnail_logistic(X, y)
    want = np.zeros((60, n_classes))
    want[:, lr.classes_] = lr.predict_proba(_thumbs(X))
    got = np.asarray(_thumb_model(size, lr, n_classes, channels).predict(X.astype("float32"), verbose=0))
    assert got.shape == (60, n_classes)
    np.testing.assert_allclose(got, want, atol=2e-5)
    assert got[:, [c for c in range(n_classes) if c not in classes]].max(initial=0) == 0


@pytest.fixture(scope="module")
def fitted(small_zip, tiny_run):
    from core.quality.baselines import baseline_fit_images
    from core.quality.data import LoadOptions, load_image_dataset

    data = load_image_dataset(small_zip, options=LoadOptions(image_size=32))
    return baseline_fit_images(data, tiny_run.config)


@pytest.mark.parametrize("baseline, weight", [("logistic_16px", 0.25), ("majority_class", 0.75)])
def test_ensemble_model_predicts_the_blend(tiny_run, fitted, baseline, weight):
    from core.quality.baselines import fit_baselines
    from core.quality.ensemble import ensemble_model
    from core.search.ensemble import blend

    images, labels = fitted
    base, _ = fit_baselines(images, labels, tiny_run.test.images, len(tiny_run.class_names))
    want = blend(tiny_run.test_proba, base[baseline], weight)
    model = ensemble_model(tiny_run.model, {"baseline": baseline, "weight": weight}, images, labels,
                           image_size=tiny_run.image_size)
    got = np.asarray(model.predict(tiny_run.test.images.astype("float32"), verbose=0))
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_ensemble_shap_explains_the_blend_of_its_surest_defect(tiny_run, fitted):
    from core.quality.ensemble import explain_quality_ensemble
    from core.quality.explain import compute_shap_maps

    images, labels = fitted
    assert explain_quality_ensemble(tiny_run, {"use": False, "baseline": "logistic_16px"}, images, labels) is None
    ens = {"use": True, "baseline": "logistic_16px", "weight": 0.5, "label": "Ensemble: CNN averaged with x"}
    exp = explain_quality_ensemble(tiny_run, ens, images, labels, nsamples=32)
    assert exp.target == "P(defect)" and exp.label == ens["label"]
    assert exp.shap.maps.shape == (1, 32, 32)
    # The image explained is the test image the blend scores most surely as a defect.
    ok = tiny_run.class_names.index(tiny_run.ok_class)
    assert np.array_equal(exp.image, tiny_run.test.images[exp.index])
    p_blend = 0.5 * tiny_run.test_proba[:, ok] + 0.5 * _lr_ok(images, labels, tiny_run, ok)
    assert exp.index == int(np.argmin(p_blend))
    assert exp.proba[tiny_run.ok_class] == pytest.approx(p_blend[exp.index], abs=1e-4)
    assert sum(exp.proba.values()) == pytest.approx(1.0, abs=1e-4)
    # Expected gradients add up (about) to the blend's score minus its mean over the background.
    total = float(exp.shap.maps.sum())
    assert np.isfinite(total) and abs(total) > 1e-3
    # Not the CNN's own map: half of the score comes from the thumbnail regression.
    cnn = compute_shap_maps(tiny_run.model, tiny_run.test.images[exp.index:exp.index + 1], tiny_run.background,
                            target="defect", class_names=tiny_run.class_names, ok_class=tiny_run.ok_class,
                            nsamples=32, seed=tiny_run.config.seed)
    assert not np.allclose(cnn.maps, exp.shap.maps, atol=1e-4)


def _lr_ok(images, labels, run, ok):
    from core.quality.baselines import fit_baselines

    base, _ = fit_baselines(images, labels, run.test.images, len(run.class_names))
    return base["logistic_16px"][:, ok]


def test_unknown_ensemble_baseline_is_a_clear_message(tiny_run, fitted):
    from core.quality.ensemble import ensemble_model

    with pytest.raises(DataValidationError, match="baseline must be one of .* got 'knn'. Fix: run the search"):
        ensemble_model(tiny_run.model, {"baseline": "knn"}, *fitted, image_size=tiny_run.image_size)


def _kept_search_page():
    import streamlit as st

    from ui.search import show_kept_search

    show_kept_search("quality.", st.session_state["_run"])


def test_the_search_section_shows_the_ensembles_shap_map(tiny_run, fitted):
    """On the page, a search that chose the ensemble shows its SHAP map under the ensemble line."""
    from streamlit.testing.v1 import AppTest

    from core.quality.ensemble import explain_quality_ensemble
    from core.search.engine import run_search
    from core.quality.search import QualitySearch
    from tests.core.test_search import FakeClock, QuadraticObjective

    ens = {"checked": True, "use": True, "baseline": "logistic_16px", "weight": 0.75, "best_baseline": "logistic_16px",
           "validation_scores": {"network": 0.40, "majority_class": 0.90, "logistic_16px": 0.50, "ensemble": 0.35},
           "label": "Ensemble: 75 % CNN + 25 % logistic regression on 16×16 thumbnails"}
    result = run_search(QuadraticObjective(clock=FakeClock()), budget=600, seed=0, n_trials=3, clock=FakeClock())
    search = QualitySearch(result=result, config=tiny_run.config, image_size=32, ensemble=ens)
    exp = explain_quality_ensemble(tiny_run, ens, *fitted, nsamples=16)
    at = AppTest.from_function(_kept_search_page, default_timeout=60)
    at.session_state["_run"] = tiny_run
    at.session_state["quality.search"] = (tiny_run, search)
    at.session_state["quality.ensemble_shap"] = (tiny_run, exp)
    at.run()
    assert not at.exception and not errors_besides_trust(at)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert sum("Ensemble SHAP · P(defect)" in s for s in specs) == 1
    assert sum(f"Test image {exp.index + 1}" in s for s in specs) == 1
    caption = next(c.value for c in at.caption if "explained with SHAP" in c.value)
    assert caption.startswith(ens["label"]) and "most surely as a defect" in caption
    assert any("Ensemble used" in s.value for s in at.success)
    # Another run's explanation is not shown with this one.
    at.session_state["quality.ensemble_shap"] = (object(), exp)
    at.run()
    assert not any("Ensemble SHAP" in c.proto.spec for c in at.get("plotly_chart"))


def test_the_cnn_builds_while_another_session_clears_keras(monkeypatch):
    """Keras numbers unnamed layers from a process-wide counter that another session's training
    resets (clear_session). Reset between two layers of the CNN, as a second training starting on
    the shared server does, an unnamed model would hold two layers called "conv2d"."""
    import keras

    from core.quality.models import build_cnn

    real = keras.layers.MaxPooling2D.__init__

    def clearing(self, *a, **kw):
        keras.backend.clear_session()  # what a training in another thread does
        real(self, *a, **kw)

    monkeypatch.setattr(keras.layers.MaxPooling2D, "__init__", clearing)
    model = build_cnn(32, 3, 3)
    names = [layer.name for layer in model.layers]
    assert len(names) == len(set(names)) and "conv_1" in names and "conv_4" in names

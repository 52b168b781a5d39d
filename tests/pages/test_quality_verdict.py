"""The quality page judges the CNN against the best baseline like the other pages: the baselines are
fitted on the network's own training images, and the verdict carries the interval of the difference."""

from types import SimpleNamespace

import numpy as np
from streamlit.testing.v1 import AppTest

from core.quality.baselines import BASELINE_NAMES, compare_quality, fit_baselines_for_run
from tests.conftest import errors_besides_trust

# A trained run stand-in (seeded): the CNN gets nearly every test image right, the logistic
# baseline guesses; the performance tab reads only these fields.

SCRIPT = """
from types import SimpleNamespace

import numpy as np
import streamlit as st

from core.quality.evaluate import compute_multiclass_metrics
from ui.quality.results import show_performance

rng = np.random.default_rng(0)
classes = ["crack", "ok", "pit", "scratch"]
y = rng.integers(0, 4, 240)
cnn = np.eye(4)[y] * 0.85 + 0.0375
logistic = rng.dirichlet(np.ones(4), len(y))
metrics = {**compute_multiclass_metrics(y, cnn, classes), "defect_recall": 1.0, "escape_rate": 0.0}
run = SimpleNamespace(metrics=metrics, ok_class=OK, class_names=classes, test=SimpleNamespace(labels=y),
                      test_proba=cnn)
st.session_state["quality.baselines"] = (run, {"majority_class": np.eye(4)[np.full(len(y), 1)],
                                               "logistic_16px": logistic})
show_performance(run)
"""


def _verdicts(ok_class, blend=False):
    script = SCRIPT.replace("OK", repr(ok_class))
    if blend:  # the run's saved model is the blend of the CNN with the thumbnail regression
        script = script.replace("show_performance(run)", "run.recommended, run.ensemble = 'ensemble', "
                                "{'baseline': 'logistic_16px', 'weight': 0.75}\nshow_performance(run)")
    at = AppTest.from_string(script, default_timeout=120)
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert not errors_besides_trust(at), errors_besides_trust(at)
    return [b.value for b in [*at.success, *at.info, *at.warning] if "(the best baseline)" in b.value]


def test_performance_tab_shows_the_cnn_against_the_best_baseline():
    verdicts = _verdicts("ok")
    # Defect ROC-AUC (a class means 'good part') and the error rate over all classes.
    assert len(verdicts) == 2, verdicts
    assert verdicts[0].startswith("The CNN's defect ROC-AUC is 1.000 against")
    assert verdicts[1].startswith("The CNN's error rate is 0.000 against")
    assert all("95% interval" in v and "better than" in v and "outside the noise" in v for v in verdicts)
    assert all(any(name in v for name in BASELINE_NAMES.values()) for v in verdicts)


def test_defect_typing_is_judged_on_the_error_rate_only():
    verdicts = _verdicts(None)
    assert len(verdicts) == 1 and verdicts[0].startswith("The CNN's error rate is")


def test_baselines_are_fitted_on_the_training_images_and_score_the_test_images():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 40)
    images = rng.integers(0, 60, (80, 32, 32, 1)).astype(np.uint8)
    images[labels == 1, 8:24, 8:24] = 220  # a bright square marks class 1
    data = SimpleNamespace(labels=labels, images=images)
    config = SimpleNamespace(test_size=0.25, val_size=0.15, seed=0)
    from core.quality.data import split_indices

    _, _, test_idx = split_indices(labels, test_size=0.25, val_size=0.15, seed=0)
    run = SimpleNamespace(test=SimpleNamespace(images=images[test_idx], labels=labels[test_idx]),
                          class_names=["ok", "defect"], ok_class="ok",
                          test_proba=np.eye(2)[labels[test_idx]])
    proba = fit_baselines_for_run(data, run, config)
    assert set(proba) == set(BASELINE_NAMES)
    assert proba["logistic_16px"].shape == (len(test_idx), 2)
    assert (proba["logistic_16px"].argmax(axis=1) == labels[test_idx]).mean() >= 0.9
    verdicts = compare_quality(run, proba)
    assert [v.metric for v in verdicts] == ["defect ROC-AUC", "error rate"]
    assert verdicts[1].baseline in BASELINE_NAMES.values()


def test_a_blended_run_is_judged_under_the_blends_name():
    verdicts = _verdicts("ok", blend=True)
    assert len(verdicts) == 2, verdicts
    assert all(v.startswith("The blend of the CNN with the thumbnail regression's ") for v in verdicts), verdicts

"""The quality model search: validation images of the training split only (the test images never
passed in), the time budget, determinism, the too-small budget and the CLI flag."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.errors import DataValidationError
from tests.quality.conftest import make_zip, sample_entries


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def parts_zip() -> bytes:
    return make_zip(sample_entries({"ok": 30, "scratch": 12, "pit": 12}, size=32, seed=2, prefix="parts/"))


@pytest.fixture(scope="module")
def parts(parts_zip):
    from core.quality.data import LoadOptions, load_image_dataset

    return load_image_dataset(parts_zip, options=LoadOptions(image_size=32))


def _config(**kw):
    from core.quality.engine import QualityConfig

    return QualityConfig(**{"epochs": 2, "batch_size": 16, "seed": 1, **kw})


def _recording_train_quality(calls, clock=None, epoch_seconds=1.0):
    """Stands in for train_quality: records the images it trains on and is scored on, reports a
    validation loss every epoch (advancing ``clock``), and predicts by a formula of the settings."""

    def fake(data, *, config, test=None, ok_class=None, progress=None, backbone_loader=None):
        calls.append((set(data.names), set(test.names), data.image_size, config))
        sharp = 2.0 + 4 * config.dropout + (1.0 if config.augment else 0.0) + data.image_size / 32
        for e in range(1, 4):
            if clock is not None:
                clock.now += epoch_seconds
            if progress is not None:
                progress(e, 3, {"val_loss": 1 / sharp + 1 / e})
        k = len(test.class_names)
        proba = np.full((len(test.labels), k), 1.0)
        proba[np.arange(len(test.labels)), test.labels] = sharp
        return SimpleNamespace(test=test, test_proba=proba / proba.sum(axis=1, keepdims=True))

    return fake


def test_search_never_sees_the_test_images(parts, monkeypatch):
    import core.quality.engine
    from core.quality.data import split_indices
    from core.quality.search import search_quality

    import core.quality.baselines

    calls, fitted = [], []
    monkeypatch.setattr(core.quality.engine, "train_quality", _recording_train_quality(calls))
    real_fit = core.quality.baselines.fit_baselines

    def fit_baselines(X_train, y_train, X_test, n_classes):
        fitted.append((X_train, X_test))
        return real_fit(X_train, y_train, X_test, n_classes)

    monkeypatch.setattr(core.quality.baselines, "fit_baselines", fit_baselines)
    cfg = _config()
    search = search_quality(parts, cfg, budget=600, n_trials=5, ensemble=True)
    tr, va, te = split_indices(parts.labels, test_size=cfg.test_size, val_size=cfg.val_size, seed=cfg.seed)
    names = np.array(parts.names)
    test_names, train_names, val_names = set(names[te]), set(names[tr]), set(names[va])
    assert len(calls) == 5 and test_names
    for fit, scored, _size, _cfg in calls:
        assert not fit & test_names and not scored & test_names
        assert fit == train_names and scored == val_names
    # The ensemble check fits the baselines on the training images and scores the validation ones.
    ((X_fit, X_val),) = fitted
    assert np.array_equal(X_fit, parts.images[tr]) and np.array_equal(X_val, parts.images[va])
    ens = search.ensemble
    assert ens["checked"] and set(ens["validation_scores"]) == {"network", "majority_class", "logistic_16px",
                                                                 "ensemble"}
    sc = ens["validation_scores"]
    assert ens["use"] == (sc["ensemble"] < min(sc["network"], sc["majority_class"], sc["logistic_16px"]))
    assert ens["weight"] in (0.25, 0.5, 0.75) and ens["label"].startswith("Ensemble: ")
    assert search.result.trials[0].params == {"filters": "16-32-64-96", "image_size": 32, "augment": True,
                                              "learning_rate": 0.002, "dropout": 0.2}
    assert {c[2] for c in calls} <= {32}  # never larger than the images as loaded


def test_budget_is_honoured_and_the_same_seed_gives_the_same_best_trial(parts, monkeypatch):
    import core.quality.engine
    from core.quality.search import search_quality

    clock = FakeClock()
    monkeypatch.setattr(core.quality.engine, "train_quality", _recording_train_quality([], clock, 2.0))
    res = search_quality(parts, _config(), budget=15, clock=clock).result
    # Three two-second epochs a trial: two trials end at 12 s, the third is stopped at 16 s.
    assert [t.state for t in res.trials] == ["complete", "complete", "stopped"]
    assert res.seconds == 16 <= 15 * 1.1
    monkeypatch.setattr(core.quality.engine, "train_quality", _recording_train_quality([]))
    a, b = (search_quality(parts, _config(), budget=600, n_trials=8).result for _ in range(2))
    assert [(t.params, t.score) for t in a.trials] == [(t.params, t.score) for t in b.trials]
    assert a.best.number == b.best.number and a.best.number != 0 and a.best.params["dropout"] > 0.2


def test_budget_is_honoured_with_real_training(parts):
    from core.quality.search import search_quality

    res = search_quality(parts, _config(epochs=500, patience=500), budget=3).result
    # The trial still training when the budget runs out is stopped by the budget, long before its
    # 500 epochs (how close to the budget it stops is a timing, checked on a fake clock in
    # tests/core/test_search.py and measured by bench/, not here).
    assert res.seconds >= 3
    assert res.trials[-1].state == "stopped" and res.trials[-1].epochs < 500


def test_real_training_of_a_trial_is_repeatable(parts):
    from core.search.engine import wait_for_stopped_trials
    from core.quality.search import search_quality

    # A trial an earlier test's search left to stop in the background would share the seeds and cores.
    assert wait_for_stopped_trials(120)
    a, b = (search_quality(parts, _config(epochs=1), budget=600, n_trials=1) for _ in range(2))
    assert [t.state for t in a.result.trials] == ["complete"]
    # Equal up to float32 summation order (TensorFlow's CPU thread pool may add in another order).
    assert a.result.trials[0].score == pytest.approx(b.result.trials[0].score, rel=1e-6)
    assert a.image_size == 32 and a.config == _config(epochs=1)


def test_search_errors(parts):
    from core.quality.search import search_quality

    with pytest.raises(DataValidationError, match="model search tunes the small CNN; got backbone 'mobilenetv2'"):
        search_quality(parts, _config(backbone="mobilenetv2"), budget=30)
    two = parts.subset(np.flatnonzero(parts.labels != 0)[:6])
    with pytest.raises(DataValidationError, match="needs validation images of at least 2 classes"):
        search_quality(two, _config(), budget=30)


def test_cli_budget_too_small_keeps_todays_recipe(parts_zip, tmp_path, capsys):
    from core.cli import main

    path = tmp_path / "parts.zip"
    path.write_bytes(parts_zip)
    code = main(["train", "--scenario", "quality", "--data", str(path), "--image-size", "32", "--epochs", "1",
                 "--batch-size", "16", "--search-budget", "1", "--no-ensemble", "--json",
                 "--save", str(tmp_path / "runs" / "quality-1")])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    s = result["search"]
    assert s["best_trial"] is None and s["best_params"] == s["recipe_params"]
    assert any("too small for one trial" in n and "today's recipe" in n for n in s["notices"])
    assert "too small for one trial" in out.err
    assert result["recommended"] == {"model": "network", "label": "Keras network", "name": "The CNN",
                                     "metrics": result["metrics"], "saved": "network"}
    assert result["config"]["filters"] == [16, 32, 64, 96] and result["config"]["image_size"] == 32
    meta = json.loads((Path(result["saved_to"]) / "metadata.json").read_text())
    ws = meta.get("workspace", meta)
    assert ws["search"]["trials_complete"] == 0 and ws["params"]["search"]["budget_seconds"] == 1


def test_resize_images_keeps_shape_and_mean():
    from core.quality.search import resize_images

    img = np.zeros((2, 32, 32, 1), np.uint8)
    img[:, :, 16:] = 200
    out = resize_images(img, 16)
    assert out.shape == (2, 16, 16, 1) and out.dtype == np.uint8
    assert out[:, :, :8].max() == 0 and out[:, :, 8:].min() == 200


def test_quality_ensemble_metrics_blend_the_test_probabilities():
    from core.quality.search import quality_ensemble_metrics, quality_search_section

    labels = np.array([0, 1, 1, 0])
    net = np.array([[0.6, 0.4], [0.4, 0.6], [0.6, 0.4], [0.9, 0.1]])
    base = {"logistic_16px": np.array([[0.5, 0.5], [0.2, 0.8], [0.2, 0.8], [0.5, 0.5]])}
    run = SimpleNamespace(test=SimpleNamespace(labels=labels), test_proba=net, class_names=["ok", "pit"])
    ens = {"use": True, "baseline": "logistic_16px", "weight": 0.5}
    m = quality_ensemble_metrics(run, ens, base)
    assert m["accuracy"] == 1.0  # the network alone gets the third image wrong
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.55, 0.7, 0.6, 0.7])))
    assert quality_ensemble_metrics(run, ens, None) is None
    assert quality_ensemble_metrics(run, {**ens, "use": False}, base) is None
    search = SimpleNamespace(result=SimpleNamespace(to_dict=lambda: {}), ensemble=ens)
    assert quality_search_section(search, run, base)["ensemble"]["test_metrics"]["accuracy"] == 1.0

"""Device selection (with injected device lists), seeding and the training loop."""

import numpy as np
import pytest

from core.ml import training
from core.ml.models import build_tabular_model, predict_batched


class FakeGPU:
    def __init__(self, name):
        self.name = name
        self.device_type = "GPU"


class FakeTF:
    """Records what configure_devices asks of TensorFlow, without a GPU."""

    def __init__(self, fail_growth=False):
        self.growth = []
        self.fail_growth = fail_growth
        outer = self

        class Experimental:
            @staticmethod
            def set_memory_growth(dev, flag):
                if outer.fail_growth:
                    raise RuntimeError("Physical devices cannot be modified after being initialized")
                outer.growth.append((dev.name, flag))

        class Config:
            experimental = Experimental

        class Distribute:
            @staticmethod
            def MirroredStrategy():
                return "mirrored-strategy"

            @staticmethod
            def get_strategy():
                return "default-strategy"

        self.config = Config
        self.distribute = Distribute


def test_cpu_when_no_gpu():
    info = training.get_device_info(gpus=[])
    assert info.kind == "CPU" and info.n_gpus == 0 and not info.mixed_precision
    assert "TensorFlow" in info.label


def test_one_gpu_uses_mixed_precision_and_memory_growth(monkeypatch):
    monkeypatch.setattr(training, "_CONFIGURED", {})
    tf = FakeTF()
    info = training.configure_devices([FakeGPU("/physical_device:GPU:0")], tf_module=tf)
    assert info.kind == "GPU" and info.mixed_precision and info.strategy == "default"
    assert tf.growth == [("/physical_device:GPU:0", True)]
    assert training.get_strategy(info, tf_module=tf) == "default-strategy"


def test_two_gpus_use_mirrored_strategy(monkeypatch):
    monkeypatch.setattr(training, "_CONFIGURED", {})
    tf = FakeTF()
    info = training.configure_devices([FakeGPU("g0"), FakeGPU("g1")], tf_module=tf)
    assert info.n_gpus == 2 and info.strategy == "mirrored"
    assert training.get_strategy(info, tf_module=tf) == "mirrored-strategy"
    assert "x2" in info.label


def test_memory_growth_error_after_init_is_tolerated(monkeypatch):
    monkeypatch.setattr(training, "_CONFIGURED", {})
    info = training.configure_devices([FakeGPU("g0")], tf_module=FakeTF(fail_growth=True))
    assert info.kind == "GPU"


def test_mixed_precision_policy_keeps_float32_output():
    import keras

    gpu = training.DeviceInfo("GPU", "fake", 1, "x", mixed_precision=True)
    try:
        assert training.set_precision_policy(gpu) == "mixed_float16"
        model = build_tabular_model(4)
        assert model.layers[-1].dtype_policy.compute_dtype == "float32"
        assert model.layers[1].dtype_policy.compute_dtype == "float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _toy(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def test_training_is_seeded_reproducible_and_reports_progress():
    X, y = _toy()
    seen = []

    def run():
        return training.train_keras(lambda: build_tabular_model(3, width=16, depth=1, learning_rate=0.02), X[:300], y[:300],
                                    X[300:], y[300:], epochs=4, batch_size=32, seed=7, validation_auc=True,
                                    progress=lambda e, n, logs: seen.append((e, n, "val_loss" in logs)))

    a, b = run(), run()
    assert np.allclose(predict_batched(a.model, X), predict_batched(b.model, X))
    assert seen[:4] == [(1, 4, True), (2, 4, True), (3, 4, True), (4, 4, True)]
    assert a.epochs_run == 4 and len(a.history["val_loss"]) == 4
    assert len(a.history["val_roc_auc"]) == 4 and 0 <= a.history["val_pr_auc"][-1] <= 1
    assert 0 < a.seconds
    # The network learns the rule.
    from core.ml.metrics import compute_binary_metrics

    assert compute_binary_metrics(y[300:], predict_batched(a.model, X[300:]))["roc_auc"] > 0.9


def test_early_stopping_restores_best_weights():
    X, y = _toy()
    fit = training.train_keras(lambda: build_tabular_model(3, width=8, depth=1, learning_rate=0.5),
                               X[:300], y[:300], X[300:], y[300:], epochs=30, batch_size=32, seed=0, patience=2)
    assert fit.epochs_run < 30
    assert fit.best_epoch == training.kept_epoch(fit.history["val_fit_loss"])


def _bce(y, p):
    p = np.clip(np.asarray(p, dtype=float).ravel(), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_early_stopping_stops_when_the_fit_stops_improving_despite_a_shrinking_penalty():
    """Labels independent of the inputs: the data loss cannot improve after the first epochs, while
    the L2 penalty keeps shrinking as the weights decay. Keras' ``val_loss`` (data loss + penalty)
    keeps falling all the way, which is why early stopping on it never stopped; the penalty-free
    loss stops improving, so training must end well before the epoch limit."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 8)).astype(np.float32)
    y = rng.integers(0, 2, size=600)
    fit = training.train_keras(lambda: build_tabular_model(8, width=64, depth=2, l2=1e-2, learning_rate=1e-3),
                               X[:400], y[:400], X[400:], y[400:], epochs=80, batch_size=64, seed=0, patience=4)
    val_loss = np.array(fit.history["val_loss"])
    # The penalty-carrying loss is still falling at the end: the old monitor would have run on.
    assert val_loss[-1] < val_loss[-5]
    assert fit.epochs_run < 80
    assert fit.epochs_run == fit.best_epoch + 4
    # The restored weights are the best epoch's: their validation data loss is the recorded one.
    assert _bce(y[400:], predict_batched(fit.model, X[400:])) == pytest.approx(
        fit.history["val_fit_loss"][fit.best_epoch - 1], abs=1e-4)


def test_fit_loss_is_the_validation_loss_without_the_penalty():
    X, y = _toy()
    fit = training.train_keras(lambda: build_tabular_model(3, width=16, depth=1, l2=5e-2, learning_rate=0.02),
                               X[:300], y[:300], X[300:], y[300:], epochs=3, batch_size=32, seed=1, patience=10)
    # With a strong penalty the two differ, and the penalty-free one is the plain cross-entropy.
    assert all(v < t - 1e-3 for v, t in zip(fit.history["val_fit_loss"], fit.history["val_loss"]))
    assert _bce(y[300:], predict_batched(fit.model, X[300:])) == pytest.approx(fit.history["val_fit_loss"][-1], abs=1e-4)


def test_summarize_epochs_reports_best_epoch_and_early_stop():
    history = {"loss": [3, 2, 1, 1, 1], "val_loss": [5, 4, 3, 2, 1], "val_fit_loss": [0.9, 0.7, 0.8, 0.75, 0.72]}
    assert training.summarize_epochs(history, epochs=40) == {
        "epochs_run": 5, "best_epoch": 2, "epochs_max": 40, "stopped_early": True}
    assert training.summarize_epochs({"loss": [1.0, 0.5]}, epochs=2) == {
        "epochs_run": 2, "best_epoch": 2, "epochs_max": 2, "stopped_early": False}


def test_the_best_epoch_reported_is_the_one_early_stopping_keeps():
    """Epoch 4 is the lowest, but by less than 0.1 % of epoch 2's loss: early stopping keeps epoch 2's
    weights, and the summary and its sentence say epoch 2, not the lowest epoch."""
    history = {"val_fit_loss": [1.0, 0.8, 0.7995, 0.79949, 0.9]}
    assert training.kept_epoch(history["val_fit_loss"]) == 2
    assert training.lowest_loss_epoch(history) == 4
    summary = training.summarize_epochs(history, epochs=10)
    assert summary["best_epoch"] == 2 and summary["stopped_early"]
    assert training.describe_epochs(summary) == (
        "Early stopping ended training after 5 of 10 epochs; the weights of epoch 2 (the last to lower the "
        "validation loss by 0.1 % or more) are kept.")
    # A clear improvement later is kept; a loss that is not a number is never kept.
    assert training.kept_epoch([1.0, 0.8, float("nan"), 0.5]) == 4
    assert training.kept_epoch([float("nan")]) == 0


def test_the_kept_epoch_matches_the_weights_early_stopping_restored():
    X, y = _toy()
    fit = training.train_keras(lambda: build_tabular_model(3, width=8, depth=1, learning_rate=0.05),
                               X[:300], y[:300], X[300:], y[300:], epochs=12, batch_size=32, seed=0, patience=3)
    kept = training.summarize_epochs(fit.history)["best_epoch"]
    assert fit.best_epoch == kept
    assert _bce(y[300:], predict_batched(fit.model, X[300:])) == pytest.approx(
        fit.history["val_fit_loss"][kept - 1], abs=1e-4)


class _Done:
    def __init__(self, stdout: str, returncode: int = 0):
        self.stdout, self.returncode = stdout, returncode


def test_probe_names_gpus_from_the_driver_without_tensorflow():
    from core.ml.training import probe_device_info

    calls = []

    def run(cmd, **kw):
        calls.append(cmd)
        return _Done("NVIDIA A10G\nNVIDIA A10G\n")

    two = probe_device_info(run=run, which=lambda name: "/usr/bin/nvidia-smi", env={})
    assert (two.kind, two.name, two.n_gpus, two.strategy, two.mixed_precision) == (
        "GPU", "NVIDIA A10G", 2, "mirrored", True)
    assert calls and calls[0][0] == "nvidia-smi"
    one = probe_device_info(run=run, which=lambda name: "/usr/bin/nvidia-smi", env={"CUDA_VISIBLE_DEVICES": "1"})
    assert (one.n_gpus, one.strategy) == (1, "default")
    hidden = probe_device_info(run=run, which=lambda name: "/usr/bin/nvidia-smi", env={"CUDA_VISIBLE_DEVICES": "-1"})
    assert hidden.kind == "CPU"
    no_driver = probe_device_info(run=run, which=lambda name: None, env={})
    assert no_driver.kind == "CPU" and "CPU core(s)" in no_driver.label
    failing = probe_device_info(run=lambda *a, **k: _Done("", returncode=9), which=lambda n: "x", env={})
    assert failing.kind == "CPU"
    import importlib.metadata

    assert no_driver.tf_version == importlib.metadata.version("tensorflow")


def test_probe_does_not_import_tensorflow():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from core.ml.training import probe_device_info; info = probe_device_info(); "
            "print(info.kind, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(Path(__file__).resolve().parents[2]), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"


def test_plateau_schedule_halves_the_learning_rate_when_the_fit_stops_improving():
    """Labels independent of the inputs: the validation data loss stops improving after the first
    epochs, so the learning rate is halved every ``plateau_patience`` epochs without improvement,
    and recorded per epoch; early stopping (longer patience) ends training later."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 8)).astype(np.float32)
    y = rng.integers(0, 2, size=600)
    fit = training.train_keras(lambda: build_tabular_model(8, width=32, depth=1, learning_rate=4e-3),
                               X[:400], y[:400], X[400:], y[400:], epochs=60, batch_size=64, seed=0, patience=7,
                               plateau_patience=2)
    lrs = fit.history["learning_rate"]
    assert len(lrs) == fit.epochs_run and lrs[0] == pytest.approx(4e-3)
    drops = [b / a for a, b in zip(lrs, lrs[1:]) if b != a]
    assert drops and all(r == pytest.approx(0.5) for r in drops)
    assert fit.epochs_run < 60
    # Without the schedule the learning rate is not touched (nor logged).
    plain = training.train_keras(lambda: build_tabular_model(8, width=32, depth=1, learning_rate=4e-3),
                                 X[:400], y[:400], X[400:], y[400:], epochs=3, batch_size=64, seed=0)
    assert "learning_rate" not in plain.history

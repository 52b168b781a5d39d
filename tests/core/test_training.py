"""Device selection (with injected device lists), seeding and the training loop."""

import numpy as np
import pytest

from core import training
from core.models import build_tabular_model, predict_batched


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
    from core.metrics import compute_binary_metrics

    assert compute_binary_metrics(y[300:], predict_batched(a.model, X[300:]))["roc_auc"] > 0.9


def test_early_stopping_restores_best_weights():
    X, y = _toy()
    fit = training.train_keras(lambda: build_tabular_model(3, width=8, depth=1, learning_rate=0.5),
                               X[:300], y[:300], X[300:], y[300:], epochs=30, batch_size=32, seed=0, patience=2)
    assert fit.epochs_run < 30
    assert fit.best_epoch == int(np.argmin(fit.history["val_loss"])) + 1


class _Done:
    def __init__(self, stdout: str, returncode: int = 0):
        self.stdout, self.returncode = stdout, returncode


def test_probe_names_gpus_from_the_driver_without_tensorflow():
    from core.training import probe_device_info

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

    code = ("import sys; from core.training import probe_device_info; info = probe_device_info(); "
            "print(info.kind, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(Path(__file__).resolve().parents[2]), timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"

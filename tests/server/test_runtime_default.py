"""The process's default runtime (``STUDIO_RUNTIME``, "onnx" in the app's server): saved runs scored
without TensorFlow, and a network ONNX cannot take still scored by Keras when ONNX was not asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from tests.server.conftest import SAMPLES, train


@pytest.fixture(scope="module")
def credit_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("runtime")
    pd.read_csv(SAMPLES / "credit_applications.csv").head(600).to_csv(work / "c.csv", index=False)
    return train("--scenario", "credit", "--data", str(work / "c.csv"), "--epochs", "1", "--no-explain",
                 "--save", str(work / "runs" / "credit-1"))


def test_the_default_runtime_comes_from_the_environment(monkeypatch):
    from core.runtime import check_runtime, default_runtime

    monkeypatch.delenv("STUDIO_RUNTIME", raising=False)
    assert default_runtime() == "keras" and check_runtime(None) == "keras"
    monkeypatch.setenv("STUDIO_RUNTIME", "onnx")
    assert check_runtime(None) == "onnx" and check_runtime("keras") == "keras"
    monkeypatch.setenv("STUDIO_RUNTIME", "tflite")
    with pytest.raises(DataValidationError, match="Expected a runtime of keras or onnx; got 'tflite'"):
        default_runtime()


def test_a_saved_run_loads_on_onnx_by_default_and_answers_as_keras(credit_run, monkeypatch):
    from core.credit.persist import load_credit_model
    from core.runtime.onnx import OnnxModel, ensure_onnx

    ensure_onnx(credit_run, in_process=True)
    keras_model = load_credit_model(credit_run, runtime="keras")
    monkeypatch.setenv("STUDIO_RUNTIME", "onnx")
    default = load_credit_model(credit_run)
    assert isinstance(default.model, OnnxModel)
    x = np.random.default_rng(0).normal(size=(20, keras_model.model.inputs[0].shape[1])).astype("float32")
    assert np.allclose(default.model(x), np.asarray(keras_model.model(x)), atol=1e-5)


def test_keras_scores_when_the_default_onnx_cannot(credit_run, monkeypatch):
    import core.runtime.onnx as onnx_mod
    from core.runtime import load_run_model

    def refuse(*_a, **_k):
        raise DataValidationError("Expected the ONNX export of run 'x' to succeed; got: unsupported layer")

    monkeypatch.setattr(onnx_mod, "ensure_onnx", refuse)
    monkeypatch.setenv("STUDIO_RUNTIME", "onnx")
    assert type(load_run_model(credit_run).model).__module__.startswith("keras")  # the default falls back
    with pytest.raises(DataValidationError, match="unsupported layer"):  # asked for by name: the reason
        load_run_model(credit_run, runtime="onnx")

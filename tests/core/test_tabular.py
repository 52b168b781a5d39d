import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.ml.tabular import NETWORK, TabularConfig, choose_threshold, train_tabular


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 1500
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(list("xyz"), n)})
    logit = 1.5 * df["a"] - df["b"] + (df["c"] == "x") * 1.0 - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df, y


@pytest.fixture(scope="module")
def run(data):
    df, y = data
    return train_tabular(df[:1000], y[:1000], df[1000:], y[1000:], numeric=["a", "b"], categorical=["c"],
                         config=TabularConfig(epochs=8, imbalance="smote", seed=1))


def test_network_and_baselines_learn(run, data):
    assert set(run.metrics) == {NETWORK, "logistic_regression", "gradient_boosting"}
    for m in run.metrics.values():
        assert m["roc_auc"] > 0.75
    assert run.rebalance_info.counts_after[0] == run.rebalance_info.counts_after[1]
    assert run.metrics_table()["model"].tolist()[0] == "Keras network"
    assert {"train", "preprocess", "rebalance"} <= set(run.timings)


def test_predict_and_explain_match(run, data):
    df, _ = data
    p = run.predict_proba(df[1000:1010])
    # predict_proba scores with the recommended model (the blend when it won on validation).
    assert np.allclose(p, run.p_recommended[:10], atol=1e-6)
    if run.recommended == "network":
        assert np.allclose(p, run.p_test[:10], atol=1e-6)
    shap = run.explain(df[1000:1003])
    assert shap.values.shape == (3, 3)
    assert np.allclose(shap.values.sum(axis=1) + shap.base_value, shap.predictions, atol=1e-4)
    assert shap.importance()["feature"].iloc[0] in ("a", "b")


def test_threshold_rule():
    y = np.array([0, 0, 1, 1])
    # Any threshold in (0.2, 0.3] flags exactly the two positives; the lowest such is chosen.
    assert 0.2 < choose_threshold(y, np.array([0.1, 0.2, 0.3, 0.4])) <= 0.21
    assert choose_threshold(y, np.array([0.1, 0.2, 0.3, 0.4]), "fixed") == 0.5


@pytest.mark.parametrize("kwargs, match", [
    ({"dropout": 1.5}, "Dropout must be from 0 up to"),
    ({"epochs": 0}, "Epochs must be between 1 and 1000; got 0"),
    ({"learning_rate": 0}, "Learning rate must be above 0"),
    ({"imbalance": "magic"}, "must be one of"),
    ({"baselines": ("svm",)}, r"Unknown baselines \['svm'\]"),
])
def test_config_errors(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        TabularConfig(**kwargs).validate()


def test_empty_test_set(data):
    df, y = data
    with pytest.raises(DataValidationError, match="test set is empty"):
        train_tabular(df[:100], y[:100], df[:0], y[:0], numeric=["a"], categorical=[])


def test_auto_batch_size_scales_with_rows():
    from core.ml.tabular import auto_batch_size

    assert auto_batch_size(640) == 32  # German credit's fitting rows: 20 steps per epoch
    assert auto_batch_size(3000) == 128
    assert auto_batch_size(19_200) == 512
    assert auto_batch_size(10_000_000) == 2048
    assert auto_batch_size(0) == 32


def test_automatic_batch_size_is_recorded_and_wide_network_trains(data):
    df, y = data
    cfg = TabularConfig(epochs=3, batch_size=None, batch_norm=False, wide=True, seed=2,
                        baselines=("logistic_regression",))
    run = train_tabular(df[:1000], y[:1000], df[1000:], y[1000:], numeric=["a", "b"], categorical=["c"],
                        config=cfg)
    assert run.config.batch_size == 32  # 800 fitting rows / 20 steps -> 40 -> 32
    names = [layer.name for layer in run.model.layers]
    assert "wide_logit" in names and not any(n.startswith("bn_") for n in names)
    assert run.metrics[NETWORK]["roc_auc"] > 0.75
    again = train_tabular(df[:1000], y[:1000], df[1000:], y[1000:], numeric=["a", "b"], categorical=["c"],
                          config=cfg)
    np.testing.assert_allclose(again.p_test, run.p_test, atol=1e-6)  # seeded and deterministic

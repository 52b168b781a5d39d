"""The recommended model's code-space predictions (core.ml.tabular.recommended_predict): a blend with a
baseline that reads encoded rows encodes each batch once, with the same probabilities as encoding it twice."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from core.ml.blend import Blend, recommended_codes
from core.data.preprocess import TabularPreprocessor
from core.ml.tabular import predict_codes, recommended_predict


class _Net:
    """A stand-in network: a fixed logistic layer on the encoded columns (what predict_batched calls)."""

    def __init__(self, width: int, seed: int = 0):
        self.w = np.random.default_rng(seed).normal(size=width).astype(np.float32)

    def predict_on_batch(self, X):
        return 1 / (1 + np.exp(-(np.asarray(X) @ self.w)))


def _setup(baseline="logistic_regression"):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=200), "y": np.where(rng.random(200) < 0.1, np.nan, rng.normal(size=200)),
                       "c": rng.choice(["a", "b", "c"], size=200)})
    pre = TabularPreprocessor(["x", "y"], ["c"]).fit(df)
    Z = pre.transform_codes(df)
    label = (df["x"] + rng.normal(scale=0.5, size=200) > 0).astype(int)
    X = pre.encode(Z) if baseline == "logistic_regression" else np.nan_to_num(Z)
    blend = Blend(baseline, 0.25, LogisticRegression().fit(X, label))
    return pre, Z, _Net(pre.encode(Z[:1]).shape[1]), blend


def test_blend_encodes_each_batch_once_with_the_same_probabilities(monkeypatch):
    pre, Z, net, blend = _setup()
    twice = recommended_codes(lambda z: predict_codes(net, pre, z), pre, blend)(Z)
    calls = []
    encode = pre.encode
    monkeypatch.setattr(pre, "encode", lambda z: calls.append(len(z)) or encode(z), raising=False)
    once = recommended_predict(net, pre, blend)(Z)
    assert calls == [len(Z)]
    np.testing.assert_array_equal(once, twice)
    assert not np.allclose(once, np.asarray(net.predict_on_batch(encode(Z))).ravel())  # the baseline is mixed in


def test_network_alone_and_code_reading_baselines_predict_as_before():
    pre, Z, net, blend = _setup()
    np.testing.assert_array_equal(recommended_predict(net, pre, None)(Z), predict_codes(net, pre, Z))
    pre, Z, net, blend = _setup("gradient_boosting")  # reads the codes: nothing to share
    np.testing.assert_array_equal(recommended_predict(net, pre, blend)(np.nan_to_num(Z)),
                                  recommended_codes(lambda z: predict_codes(net, pre, z), pre, blend)(np.nan_to_num(Z)))


def test_logistic_regression_probabilities_are_the_models_own_to_the_bit():
    """The blend computes a binary logistic regression's probabilities itself (a one-row request spent most
    of its baseline time in scikit-learn's input checks): they must equal predict_proba exactly, and any
    other model or input goes to the model."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from core.ml.blend import _logistic_proba

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    lr = LogisticRegression(max_iter=500).fit(X, y)
    for rows in (X, X.astype(np.float32), X[:1].astype(np.float32)):
        got = _logistic_proba(lr, rows)
        np.testing.assert_array_equal(got, lr.predict_proba(rows)[:, 1])
    three = LogisticRegression(max_iter=500).fit(X, np.digitize(X[:, 1], [-0.5, 0.5]))
    assert _logistic_proba(three, X) is None  # three classes: the model's own softmax
    assert _logistic_proba(lr, X[:, :5]) is None  # a wrong width reaches the model (and its error)
    assert _logistic_proba(HistGradientBoostingClassifier(max_iter=5).fit(X, y), X) is None
    blend = Blend("logistic_regression", 0.5, lr)
    pre = type("Pre", (), {"encode": staticmethod(lambda Z: Z)})()
    np.testing.assert_array_equal(blend.baseline_codes(pre, X), lr.predict_proba(X)[:, 1])

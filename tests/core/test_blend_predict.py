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

"""The network-against-best-baseline verdict: a paired bootstrap interval of the difference, and
'on par' whenever that interval contains zero."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from core.errors import DataValidationError
from core.ml.verdict import Verdict, _weighted_binary, compare_binary, compare_losses


def _data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = y + rng.normal(scale=0.8, size=n)
    return y, rng, signal


@pytest.mark.parametrize("metric,sk", [("roc_auc", roc_auc_score), ("pr_auc", average_precision_score)])
def test_weighted_metrics_equal_sklearn_with_sample_weights_and_ties(metric, sk):
    y, rng, signal = _data()
    p = np.round(signal, 1)  # many ties
    w = rng.integers(0, 4, len(y)).astype(float)
    assert _weighted_binary(y, p, w[None, :], metric)[0] == pytest.approx(sk(y, p, sample_weight=w), abs=1e-12)


def test_a_clearly_better_network_is_better_and_a_worse_one_worse():
    y, rng, signal = _data()
    good, weak = signal, y + rng.normal(scale=3.0, size=len(y))
    v = compare_binary(y, good, {"logistic_regression": weak}, names={"logistic_regression": "logistic regression"})
    assert v.outcome == "better" and v.low > 0 and v.baseline == "logistic regression"
    assert v.value == pytest.approx(roc_auc_score(y, good)) and v.baseline_value == pytest.approx(roc_auc_score(y, weak))
    assert "better than logistic regression, outside the noise" in v.sentence()
    assert compare_binary(y, weak, {"gb": good}).outcome == "worse"


def test_a_tiny_gain_is_on_par_not_a_win():
    y, rng, signal = _data(n=600)
    base = signal
    net = signal + rng.normal(scale=0.05, size=len(y))  # a hair different, same information
    v = compare_binary(y, net, {"lr": base, "gb": base - 10})
    assert v.baseline == "lr"  # the best baseline is the one compared with
    assert v.low < 0 < v.high and v.outcome == "on par"
    assert "on par with lr: the difference is inside the noise" in v.sentence()


def test_verdict_is_seeded_and_round_trips():
    y, rng, signal = _data(n=400)
    other = y + rng.normal(scale=1.0, size=len(y))
    a = compare_binary(y, signal, {"b": other}, metric="pr_auc", seed=3)
    b = compare_binary(y, signal, {"b": other}, metric="pr_auc", seed=3)
    assert a == b and a.metric == "PR-AUC"
    assert Verdict.from_dict(a.to_dict()) == a and a.to_dict()["outcome"] == a.outcome


def test_losses_lower_is_better():
    rng = np.random.default_rng(1)
    small, large = np.abs(rng.normal(size=3000)), np.abs(rng.normal(size=3000)) * 1.3
    v = compare_losses(small, {"seasonal_naive": large, "moving_average": large * 2}, metric="MAE",
                       names={"seasonal_naive": "seasonal naive"})
    assert v.baseline == "seasonal naive" and v.diff < 0 and v.high < 0 and v.outcome == "better"
    assert compare_losses(large, {"s": small}, metric="MAE").outcome == "worse"
    # Weights count: holiday rows weighted 5 change the mean.
    w = np.where(np.arange(3000) % 10 == 0, 5.0, 1.0)
    assert compare_losses(small, {"s": large}, metric="WMAE", weights=w).value == pytest.approx(
        float(np.average(small, weights=w)))


def test_bad_input_messages():
    y, _, signal = _data(n=100)
    with pytest.raises(DataValidationError, match="Metric must be one of"):
        compare_binary(y, signal, {"b": signal}, metric="accuracy")
    with pytest.raises(DataValidationError, match="at least one baseline"):
        compare_binary(y, signal, {})
    with pytest.raises(DataValidationError, match="both classes"):
        compare_binary(np.zeros(100), signal, {"b": signal})
    with pytest.raises(DataValidationError, match="same rows"):
        compare_losses(np.ones(5), {"b": np.ones(4)}, metric="MAE")
    with pytest.raises(DataValidationError, match="at least one baseline"):
        compare_losses(np.ones(5), {}, metric="MAE")

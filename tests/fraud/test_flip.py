"""What would flip a transaction's alert (core.fraud.flip), over a hand-made risk function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.flip import find_alert_flip, get_flip_features

NUMERIC = ["amount", "term_risk_28d", "cust_nb_tx_1d"]


def _train(n=400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.gamma(2.0, 50.0, n).round(2), "term_risk_28d": rng.beta(1, 20, n),
                         "cust_nb_tx_1d": rng.integers(0, 8, n).astype(float), "channel": rng.choice(["web", "pos"], n)})


def _risk(df: pd.DataFrame) -> np.ndarray:
    """Risk rises with the amount and the terminal's fraud rate; the number of transactions does nothing."""
    z = -4.0 + df["amount"].astype(float) / 60.0 + 25.0 * df["term_risk_28d"].astype(float)
    return 1.0 / (1.0 + np.exp(-z.to_numpy()))


def _search(row, features, threshold=0.5):
    train = _train()
    return find_alert_flip(row, predict_fn=_risk, threshold=threshold, train_features=train, numeric=NUMERIC,
                           categorical=["channel"], features=features)


def test_an_alert_is_flipped_by_the_features_that_drive_it():
    row = {"amount": 240.0, "term_risk_28d": 0.02, "cust_nb_tx_1d": 3.0, "channel": "web"}
    assert _risk(pd.DataFrame([row]))[0] >= 0.5  # alerted
    out = _search(row, ["amount", "cust_nb_tx_1d"])
    assert out.alerted and out.flip.found
    assert [c.feature for c in out.flip.changes] == ["amount"]  # the count moves nothing, so it is left alone
    change = out.flip.changes[0]
    assert change.before == 240.0 and change.after < 240.0
    assert _risk(pd.DataFrame([{**row, "amount": change.after}]))[0] < 0.5  # the answer really flips it
    text = out.sentence("EUR")
    assert text.startswith("No alert if amount were €") and "instead of €240 (" in text
    assert "alert threshold 0.500" in text


def test_a_quiet_transaction_says_what_would_raise_an_alert():
    row = {"amount": 40.0, "term_risk_28d": 0.01, "cust_nb_tx_1d": 1.0, "channel": "pos"}
    out = _search(row, ["term_risk_28d", "amount"])
    assert not out.alerted and out.flip.found
    assert out.flip.probability_after >= 0.5 > out.flip.probability_before
    assert out.sentence("EUR").startswith("An alert if ")


def test_nothing_within_range_says_so():
    row = {"amount": 240.0, "term_risk_28d": 0.02, "cust_nb_tx_1d": 3.0, "channel": "web"}
    out = _search(row, ["cust_nb_tx_1d"])  # the only feature allowed to move does not move the risk
    assert not out.flip.found and out.flip.changes == []
    assert out.sentence().startswith("No change within the values seen in training (1st to 99th percentile) of customer transactions, 24 hours gives no alert")


def test_top_features_by_shap_either_way_numeric_only():
    contrib = pd.DataFrame({"feature": ["channel", "amount", "cust_nb_tx_1d", "term_risk_28d"],
                            "value": ["web", 240.0, 3.0, 0.02], "shap": [0.5, -0.4, 0.05, 0.3]})
    assert get_flip_features(contrib, NUMERIC, k=2) == ["amount", "term_risk_28d"]
    with pytest.raises(DataValidationError, match="1 to 10 features; got 0"):
        get_flip_features(contrib, NUMERIC, k=0)


def test_bad_input_is_explained():
    row = {"amount": 240.0, "term_risk_28d": 0.02, "cust_nb_tx_1d": 3.0, "channel": "web"}
    with pytest.raises(DataValidationError, match="alert threshold must be between 0 and 1; got 0.0.*alerts on every"):
        _search(row, ["amount"], threshold=0.0)
    with pytest.raises(DataValidationError, match="at least one numeric feature"):
        _search(row, [])
    with pytest.raises(DataValidationError, match="Only numeric features can move; channel is not"):
        _search(row, ["channel"])


def test_features_piled_at_zero_are_moved_together():
    """Most terminals have no fraud: three rates at zero in training, high on this terminal; only all
    three back to zero lift the alert (a greedy search spends its changes on cheap small steps)."""
    rng = np.random.default_rng(1)
    n = 500
    rates = {c: np.where(rng.random(n) < 0.9, 0.0, rng.beta(2, 5, n)) for c in ("term_risk_1d", "term_risk_7d", "term_risk_30d")}
    train = pd.DataFrame({**rates, "amount": rng.gamma(2.0, 20.0, n)})
    numeric = list(train.columns)

    def risk(df):
        z = -1.5 + 2.5 * (df["term_risk_1d"] > 0.05) + 2.5 * (df["term_risk_7d"] > 0.05) \
            + 2.5 * (df["term_risk_30d"] > 0.05) + df["term_risk_30d"].astype(float)
        return 1.0 / (1.0 + np.exp(-z.to_numpy(dtype=float)))

    row = {"term_risk_1d": 1.0, "term_risk_7d": 1.0, "term_risk_30d": 0.52, "amount": 16.0}
    out = find_alert_flip(row, predict_fn=risk, threshold=0.425, train_features=train, numeric=numeric,
                          features=["term_risk_1d", "term_risk_7d", "term_risk_30d"])
    assert out.flip.found and len(out.flip.changes) == 3
    after = {**row, **{c.feature: c.after for c in out.flip.changes}}
    assert risk(pd.DataFrame([after]))[0] < 0.425 <= risk(pd.DataFrame([row]))[0]
    # A pair is not enough here, so the answer is the triple: fewer features are tried first.
    two = find_alert_flip(row, predict_fn=risk, threshold=0.425, train_features=train, numeric=numeric,
                          features=["term_risk_1d", "term_risk_7d", "term_risk_30d"], max_changes=2)
    assert not two.flip.found


def test_a_transaction_without_the_model_features_is_explained():
    with pytest.raises(DataValidationError, match="lacks the model's feature.*term_risk_28d"):
        _search({"amount": 240.0, "cust_nb_tx_1d": 3.0, "channel": "web"}, ["amount"])

"""The handbook's simulated transactions, raw log, following its README protocol:
train 2018-07-25..07-31, a 7-day delay week, test 2018-08-08..08-14, known compromised cards removed.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.fraud.columns import make_columns, prepare_log
from core.fraud.features import compute_features
from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, run_fraud

FOLDER = "fraud_detection/handbook_simulated"
RAW = f"{FOLDER}/raw_transactions_2018-06-25_2018-08-14.csv.gz"
FEATURES = f"{FOLDER}/transactions_2018-07-25_2018-08-14.csv.gz"


@pytest.fixture(scope="module")
def raw(shared_data):
    return pd.read_csv(shared_data(RAW))


def test_features_from_raw_log_equal_the_handbooks(raw, shared_data):
    ref = pd.read_csv(shared_data(FEATURES))
    cols = make_columns(raw)
    log = prepare_log(raw, cols)
    f = compute_features(log, cols).frame.assign(TRANSACTION_ID=log["TRANSACTION_ID"].to_numpy())
    m = ref.merge(f, on="TRANSACTION_ID")
    assert len(m) == len(ref) == 201_295
    # Terminal windows need 30 + 7 days of history; the raw log starts 30 days before the training
    # week, so compare terminal features from Aug 1 on and customer features everywhere.
    late = pd.to_datetime(m["TX_DATETIME"]) >= "2018-08-01"
    pairs = {"TX_DURING_NIGHT": "tx_during_night", "TX_DURING_WEEKEND": "tx_during_weekend"}
    for w in (1, 7, 30):
        pairs[f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = f"cust_nb_tx_{w}d"
        pairs[f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = f"cust_avg_amount_{w}d"
    for theirs, ours in pairs.items():
        # Two rows of one customer share a timestamp; the handbook's rolling window counts the
        # later one's partner, ours (strict past) does not. Nothing else may differ.
        assert (~np.isclose(m[theirs], m[ours], atol=1e-6)).sum() <= 2, theirs
    for w in (1, 7, 30):
        for theirs, ours in ((f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW", f"term_nb_tx_{w}d"),
                             (f"TERMINAL_ID_RISK_{w}DAY_WINDOW", f"term_risk_{w}d")):
            assert np.allclose(m.loc[late, theirs], m.loc[late, ours], atol=1e-9), theirs


def test_handbook_protocol_train_delay_test(raw):
    cfg = FraudConfig(train_start="2018-07-25", test_start="2018-08-08", gap_days=7,
                      tabular=replace(FRAUD_TABULAR, epochs=10, baselines=()))
    run = run_fraud(raw, make_columns(raw), config=cfg)
    # The same periods and, after removing known compromised cards, the same test set as the
    # handbook's chapter 3.4 (67,240 training and 58,264 test transactions).
    assert len(run.split.train_idx) == 67_240
    assert len(run.test) == 58_264
    assert run.test["day"].min() == pd.Timestamp("2018-08-08")
    assert run.test["day"].max() == pd.Timestamp("2018-08-14")
    m = run.metrics["network"]
    # Published baselines with the handbook's own features: ROC-AUC 0.871, AP 0.658, CP@100 0.291.
    # Ten epochs are not the benchmark (bench/bench_fraud.py); they must still come close.
    assert m["roc_auc"] > 0.85
    assert m["pr_auc"] > 0.60
    assert m["card_precision_at_100"] > 0.26

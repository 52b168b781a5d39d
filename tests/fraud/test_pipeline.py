"""End to end on the bundled sample: run, explain, compare, score new files, save/load, CLI."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.alerts import build_alert_queue, filter_alerts, format_value, short_label
from core.fraud.columns import make_columns
from core.fraud.compare import compare_imbalance, recommend_imbalance
from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, auto_batch_size, explain_run, run_fraud, score_new_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "fraud_transactions.csv.gz"


@pytest.fixture(scope="module")
def sample():
    return pd.read_csv(SAMPLE)


@pytest.fixture(scope="module")
def run(sample):
    cfg = FraudConfig(tabular=replace(FRAUD_TABULAR, epochs=3, baselines=("logistic_regression",)))
    return run_fraud(sample, make_columns(sample), config=cfg)


def test_sample_is_deterministic_and_realistic(sample):
    sys.path.insert(0, str(ROOT / "scripts"))
    from make_fraud_sample import make_transactions

    again = make_transactions(100_000)
    assert len(again) == len(sample)
    assert np.allclose(again["amount"], sample["amount"]) and (again["is_fraud"] == sample["is_fraud"]).all()
    rate = sample["is_fraud"].mean()
    assert 0.005 <= rate <= 0.01
    pats = np.bincount(again.attrs["pattern"], minlength=4)
    assert (pats[1:] > 50).all()  # all three fraud patterns are present
    # No single column gives fraud away: the best single-column threshold is far from perfect.
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(sample["is_fraud"], sample["amount"]) < 0.85
    assert SAMPLE.stat().st_size < 5_000_000


def test_run_metrics_split_and_features(run):
    s = run.split
    assert s.train_start == pd.Timestamp("2024-04-01") and s.test_start == pd.Timestamp("2024-04-22")
    for name in ("network", "logistic_regression"):
        m = run.metrics[name]
        for key in ("roc_auc", "pr_auc", "precision", "recall", "f1", "card_precision_at_100",
                    "precision_at_100_per_day"):
            assert 0 <= m[key] <= 1, (name, key)
    assert run.metrics["network"]["roc_auc"] > 0.8
    assert "channel" in run.features.categorical
    assert run.config.tabular.batch_size == auto_batch_size(len(s.train_idx)) == 512
    used = run.tabular.recommended == "ensemble"  # the blend is listed when it is the recommended model
    assert list(run.metrics_table()["model"]) == ["Keras network", "Logistic regression",
                                                  *([run.tabular.ensemble["label"]] if used else [])]


def test_explanations_give_plain_reasons(run):
    ex = explain_run(run, top_alerts=10, global_rows=30)
    assert len(ex.reasons) == 10 and set(ex.reasons) == set(ex.alert_positions.tolist())
    assert all("typical" in r or r == "no feature raises the risk" for r in ex.reasons.values())
    assert ex.global_sample.values.shape == (30, len(run.features.names))
    scored = run.test.assign(risk=run.test[run.score_column])  # the alerts are the recommended model's
    q = build_alert_queue(scored, threshold=0.0, max_alerts=25, reasons=ex.reasons)
    assert q["rank"].tolist() == list(range(1, 26)) and q["risk"].is_monotonic_decreasing
    assert q["top_reasons"].iloc[0] == ex.reasons[int(ex.alert_positions[0])]
    assert "outside the explained" in q["top_reasons"].iloc[-1]
    cust = q["customer"].iloc[0]
    assert (filter_alerts(q, text=cust)["customer"] == cust).all()
    assert filter_alerts(q, min_amount=1e9).empty


def test_scoring_new_rows_uses_history_and_ignores_their_labels(run, sample):
    new = sample.tail(300).copy()
    a, Xa = score_new_file(run, new)
    b, _ = score_new_file(run, new.assign(is_fraud=1 - new["is_fraud"]))
    assert np.allclose(a["risk"], b["risk"])  # labels of scored rows are unknown at scoring time
    assert a["risk"].is_monotonic_decreasing and len(a) == 300
    # Customer history from the training log feeds the window features of the new rows.
    assert Xa["cust_nb_tx_30d"].mean() > 5
    with pytest.raises(DataValidationError, match="Expected the new file to have the training columns"):
        score_new_file(run, new.drop(columns=["terminal_id"]))


def test_imbalance_comparison_and_recommendation(run):
    table = compare_imbalance(run, ["none", "class_weight"], epochs=1)
    assert list(table["method"]) == ["none", "class_weight"]
    assert table["pr_auc"].between(0, 1).all() and (table["train_seconds"] > 0).all()
    cw = table.set_index("method").loc["class_weight"]
    assert cw["mean_score_vs_fraud_rate"] > table.set_index("method").loc["none", "mean_score_vs_fraud_rate"]
    text = recommend_imbalance(table)
    assert "PR-AUC" in text
    with pytest.raises(DataValidationError, match="at least one imbalance strategy"):
        compare_imbalance(run, [])
    with pytest.raises(DataValidationError, match="Expected strategies from"):
        compare_imbalance(run, ["magic"])


def test_alert_words():
    assert short_label("term_risk_7d") == "Terminal fraud rate, 7 days"
    assert short_label("cust_nb_tx_1d") == "Customer transactions, 24 hours"
    assert format_value("term_risk_7d", 0.25) == "25%"
    assert format_value("tx_during_night", 1.0) == "yes"
    assert format_value("amount_to_cust_avg_30d", 4.04) == "4.0x"
    assert format_value("tx_hour", 13.5) == "13:30"
    with pytest.raises(DataValidationError, match="scored transactions with a 'risk' column"):
        build_alert_queue(pd.DataFrame({"a": [1]}), threshold=0.5)


def test_auto_batch_size():
    assert auto_batch_size(1_000) == 256
    assert auto_batch_size(67_240) == 2048
    assert auto_batch_size(22_838) == 512


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def _main(capfd, *args) -> tuple[int, str, str]:
    """``python -m core ...`` in this process, where TensorFlow is loaded already (a new process spends
    about 5 CPU seconds importing it): exit code, standard output and standard error, read at the file
    descriptors like a subprocess's."""
    from core.cli import main

    capfd.readouterr()
    code = main(list(args))
    out = capfd.readouterr()
    return code, out.out, out.err


def test_cli_train_save_and_score(tmp_path, sample, capfd):
    # A third of the customers keeps the training quick; every pattern is still there. The first scoring
    # runs in a process of its own (``python -m core`` as a user runs it); the others in this one.
    small = tmp_path / "small.csv.gz"
    sample[sample["customer_id"] < "C000250"].to_csv(small, index=False)
    code, stdout, stderr = _main(capfd, "train", "--scenario", "fraud", "--data", str(small), "--epochs", "2",
                                 "--train-start", "2024-04-01", "--test-start", "2024-04-22", "--gap-days", "7",
                                 "--save", str(tmp_path / "runs" / "fraud-1"), "--json")
    assert code == 0, stderr[-2000:]
    res = json.loads(stdout)
    for key in ("roc_auc", "pr_auc", "precision", "recall", "f1", "card_precision_at_100"):
        assert 0 <= res["metrics"][key] <= 1
        assert set(res["baselines"]) == {"logistic_regression", "gradient_boosting"}
        assert all(0 <= b[key] <= 1 for b in res["baselines"].values())
    assert res["timings"]["train"] > 0 and "2024-04-01" in res["split"]["train"]
    assert res["top_alerts"] and "typical" in res["top_alerts"][0]["reasons"]
    new = tmp_path / "new.csv"
    sample.tail(200).drop(columns="is_fraud").to_csv(new, index=False)
    scored = tmp_path / "scored.csv"
    out = _cli("score", "--model", res["saved_to"], "--data", str(new), "--out", str(scored), "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    got = pd.read_csv(scored)
    summary = json.loads(out.stdout)
    assert len(got) == 200 and list(got["transaction_id"]) == list(sample.tail(200)["transaction_id"])
    assert summary["alerts"] == int(got["alert"].sum()) == int((got["decision"] != "approve").sum())
    assert ((got["risk"] >= summary["threshold"]) == got["alert"]).all()
    assert summary["drift"] and "scored 200 transactions" in out.stderr

    # In chunks with a rolling history: the same risk for every row as in one piece.
    more = tmp_path / "more.csv"
    sample.tail(1500).drop(columns="is_fraud").to_csv(more, index=False)
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    assert _main(capfd, "score", "--model", res["saved_to"], "--data", str(more), "--out", str(one), "--quiet",
                 "--json")[0] == 0
    code, _, stderr = _main(capfd, "score", "--model", res["saved_to"], "--data", str(more), "--out", str(many),
                            "--chunk-size", "400", "--json")
    assert code == 0, stderr[-2000:]
    assert stderr.count("scored ") == 4
    a, b = pd.read_csv(one), pd.read_csv(many)
    assert list(a["transaction_id"]) == list(b["transaction_id"])
    assert np.allclose(a["risk"], b["risk"], atol=1e-6)
    assert (a["decision"] == b["decision"]).all()

    missing = tmp_path / "missing.csv"
    sample.tail(50).drop(columns=["is_fraud", "terminal_id"]).to_csv(missing, index=False)
    code, _, stderr = _main(capfd, "score", "--model", res["saved_to"], "--data", str(missing),
                            "--out", str(tmp_path / "x.csv"))
    assert code == 1 and "missing: ['terminal_id']" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "x.csv").exists()
    from argparse import Namespace

    from core.fraud.cli import run_score

    with pytest.raises(DataValidationError, match="Expected --threshold between 0 and 1"):
        run_score(Namespace(model=res["saved_to"], data=str(new), out=str(scored), threshold=2.0, quiet=True))


def test_loading_another_scenarios_run_is_refused(tmp_path):
    from core.fraud.persist import load_fraud_model
    from core.store.registry import save_run

    path = save_run(tmp_path, model=None, metadata={"scenario": "credit"})
    with pytest.raises(DataValidationError, match="Expected a saved fraud run"):
        load_fraud_model(path)


def test_cli_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"when": ["2024-01-01"], "amount": [1.0], "is_fraud": [0]}).to_csv(bad, index=False)
    out = _cli("train", "--scenario", "fraud", "--data", str(bad), "--json")
    assert out.returncode == 1 and "Expected a timestamp column" in out.stderr
    out = _cli("train", "--scenario", "fraud", "--data", str(bad), "--time-col", "when",
               "--delay-days", "-1", "--json")
    assert out.returncode == 1 and "Expected --delay-days of 0 or more" in out.stderr


def test_recommendation_names_inflated_strategies_in_plain_words():
    table = pd.DataFrame({"method": ["smote", "class_weight", "none"], "pr_auc": [0.60, 0.62, 0.55],
                          "train_seconds": [9.0, 3.0, 2.0], "brier": [0.02, 0.03, 0.01],
                          "mean_score_vs_fraud_rate": [5.0, 4.0, 1.0]})
    text = recommend_imbalance(table)
    assert "With SMOTE and class weights, the scores run well above" in text
    assert "smote" not in text and "class_weight" not in text
    calm = table.assign(pr_auc=[0.62, 0.615, 0.55], mean_score_vs_fraud_rate=1.0)
    assert recommend_imbalance(calm) == ("**SMOTE** ranks fraud best (PR-AUC 0.620). Class weights is within 0.01 of "
                                         "it and trains in 3.0 s instead of 9.0 s.")
    # "No rebalancing", never "None gives the most honest probabilities".
    plain = recommend_imbalance(table.assign(pr_auc=[0.62, 0.55, 0.615], mean_score_vs_fraud_rate=1.0))
    assert "No rebalancing is within 0.01 of it" in plain and "None" not in plain

"""The loop end to end on fraud: a run trained tiny on 150 customers of the bundled log, their next
month (``fraud_new_month.csv.gz``) scored chunk by chunk through the command line, the labels fed
back, each week's figures checked against sklearn, ``core.data.drift`` and the card precision@k of
``core.fraud`` on the same transactions, and a challenger whose test period is the comparison days."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.data.drift import compare_to_profile
from core.fraud.decisions import compute_card_precision_at_k
from core.monitor import store
from tests.monitor.test_loop_credit import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    work = tmp_path_factory.mktemp("fraud-loop")
    log = pd.read_csv(ROOT / "sample_data" / "fraud_transactions.csv.gz")
    new = pd.read_csv(ROOT / "sample_data" / "fraud_new_month.csv.gz")
    cards = log["customer_id"].drop_duplicates().sample(150, random_state=0)
    log[log["customer_id"].isin(cards)].to_csv(work / "log.csv", index=False)
    new = new[new["customer_id"].isin(cards)].reset_index(drop=True)
    new.to_csv(work / "new.csv", index=False)
    run = work / "runs" / "fraud-1"
    run_cli("train", "--scenario", "fraud", "--data", work / "log.csv", "--epochs", "2", "--no-explain", "--save", run)
    run_cli("score", "--model", run, "--data", work / "new.csv", "--out", work / "scored.csv", "--chunk-size", "2500",
            "--quiet")
    fed = run_cli("feedback", "--model", run, "--data", work / "new.csv")
    report = run_cli("monitor", "--model", run, "--by", "week")
    return {"work": work, "run": run, "new": new, "scored": pd.read_csv(work / "scored.csv"), "fed": fed,
            "report": report}


def test_every_transaction_is_logged_under_its_id_with_its_time(loop):
    log = store.read_table(loop["run"], "predictions")
    assert len(log) == len(loop["new"]) and loop["fed"]["matched"] == len(loop["new"])
    assert sorted(log["row_id"].astype(int)) == sorted(loop["new"]["transaction_id"])
    times = pd.to_datetime(loop["new"].set_index("transaction_id").loc[log["row_id"].astype(int), "timestamp"])
    assert (log["event_time"].to_numpy() == times.to_numpy()).all()
    assert len(store.list_parts(loop["run"], "predictions")) == -(-len(loop["new"]) // 2500)


def test_each_weeks_figures_are_the_figures_of_that_weeks_transactions(loop):
    rows = loop["scored"].assign(t=lambda d: pd.to_datetime(d["timestamp"]))
    week = rows["t"].dt.to_period("W-SUN").dt.start_time
    meta = json.loads((loop["run"] / "metadata.json").read_text())
    k = int(meta["config"]["k"])
    periods = loop["report"]["periods"]
    assert [p["start"] for p in periods] == ["2024-05-06", "2024-05-13", "2024-05-20", "2024-05-27"]
    for period in periods:
        part = rows[week == pd.Timestamp(period["start"])]
        y, p = part["is_fraud"].to_numpy(), part["risk"].to_numpy()
        assert period["rows"] == len(part) == period["realized"]["labelled_rows"]
        assert period["realized"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-5)
        card = compute_card_precision_at_k(part["t"].dt.normalize().to_numpy(), part["customer_id"].astype(str).to_numpy(),
                                           y, p, k)[0]
        assert period["realized"]["card_precision_at_k"] == pytest.approx(card)
        alert = part["decision"] != "approve"
        assert period["realized"]["alert_precision"] == (pytest.approx(y[alert].mean()) if alert.any() else None)
        drift = compare_to_profile(meta["workspace"]["profile"], loop["new"].loc[part.index]).set_index("variable")["psi"]
        for col in drift.index:
            assert period["psi"][col] == pytest.approx(drift[col], abs=1e-9)
        assert "score" in period["psi"] and period["estimated"]["roc_auc"] is not None


def test_a_fraud_challenger_is_tested_on_the_comparison_days(loop):
    out = run_cli("retrain", "--model", loop["run"], "--by", "week")
    challenger = Path(out["challenger"])
    meta = json.loads((challenger / "metadata.json").read_text())
    assert meta["workspace"]["lineage"]["champion"] == "fraud-1"
    # The challenger's test period starts inside the latest labelled week (its later half, whole days).
    assert pd.Timestamp("2024-05-28") <= pd.Timestamp(meta["split"]["test"][:10]) <= pd.Timestamp("2024-06-02")
    assert out["comparison"]["rows"] > 100 and out["verdict"]["metric"] == "PR-AUC"
    assert np.isfinite(out["verdict"]["low"]) and out["verdict"]["outcome"] in ("better", "on par", "worse")

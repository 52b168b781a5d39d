"""Every scenario's ``train --json`` has a top-level ``verdict``: the page's verdict against the best
baseline with its interval, and the trust flags (core.report.trust), which also go to standard error. A
deliberately useless model (a shuffled target) shows the chance flag; tiny settings keep it quick."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
VERDICT_KEYS = {"metric", "value", "baseline", "baseline_value", "diff", "low", "high", "outcome", "sentence",
                "trusted", "trust"}


def _train(capsys, *args) -> tuple[dict, str]:
    code = main(["train", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    return json.loads(captured.out.strip().splitlines()[-1]), captured.err


def _kinds(verdict: dict) -> list[str]:
    return [f["kind"] for f in verdict["trust"]]


def test_credit_shuffled_target_is_no_better_than_chance(tmp_path, capsys):
    df = pd.read_csv(ROOT / "sample_data" / "credit_applications.csv").sample(n=1500, random_state=1)
    shuffled = tmp_path / "shuffled.csv"
    df.assign(default=np.random.default_rng(0).permutation(df["default"].to_numpy())).to_csv(shuffled, index=False)
    out, err = _train(capsys, "--scenario", "credit", "--epochs", "2", "--no-explain", "--data", str(shuffled))
    v = out["verdict"]
    assert VERDICT_KEYS <= set(v) and v["metric"] == "ROC-AUC" and v["low"] <= v["diff"] <= v["high"]
    assert _kinds(v)[0] == "chance" and v["trust"][0]["headline"] == "No better than chance" and not v["trusted"]
    assert f"Warning — No better than chance: {v['trust'][0]['why']}" in err


def test_fraud_shuffled_labels_are_no_better_than_chance(tmp_path, capsys):
    log = pd.read_csv(ROOT / "sample_data" / "fraud_transactions.csv.gz")
    log = log[log["customer_id"] < "C000250"]
    data = tmp_path / "shuffled.csv.gz"
    log.assign(is_fraud=np.random.default_rng(0).permutation(log["is_fraud"].to_numpy())).to_csv(data, index=False)
    out, err = _train(capsys, "--scenario", "fraud", "--data", str(data), "--epochs", "2", "--no-explain",
                      "--train-start", "2024-04-01", "--test-start", "2024-04-22", "--gap-days", "7")
    v = out["verdict"]
    assert VERDICT_KEYS <= set(v) and v["metric"] == "PR-AUC" and v["more"][0]["metric"] == "ROC-AUC"
    assert "chance" in _kinds(v) and "Warning — No better than chance" in err


def test_demand_forecast_worse_than_repeating_last_week_is_flagged(tmp_path, capsys):
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=140, freq="D")
    # Each store its own strong weekly pattern and hardly any noise: last week's sales are the answer.
    rows = [pd.DataFrame({"date": days, "store": s, "units": rng.uniform(10, 200, 7)[np.arange(140) % 7]
                                                            + rng.normal(scale=0.1, size=140)})
            for s in range(3)]
    data = tmp_path / "weekly.csv"
    pd.concat(rows).to_csv(data, index=False)
    out, err = _train(capsys, "--scenario", "demand", "--data", str(data), "--series-cols", "store", "--horizon",
                      "7", "--epochs", "1", "--event-level", "0")
    v = out["verdict"]
    assert VERDICT_KEYS <= set(v) and v["metric"] == "MAE" and v["outcome"] == "worse"
    assert _kinds(v) == ["below_baseline"] and v["trust"][0]["headline"] == "Worse than a naive forecast"
    assert "Warning — Worse than a naive forecast" in err


def test_quality_shuffled_labels_are_flagged(tmp_path, capsys):
    from tests.quality.conftest import make_zip, sample_entries

    entries = sample_entries({"ok": 40, "pit": 20, "crack": 20}, size=24, seed=1)
    labels = np.random.default_rng(0).permutation([k.split("/")[0] for k in entries])
    data = tmp_path / "shuffled.zip"
    data.write_bytes(make_zip({f"{lab}/{i:04d}.png": v for i, (lab, v) in enumerate(zip(labels, entries.values()))}))
    out, err = _train(capsys, "--scenario", "quality", "--data", str(data), "--image-size", "24", "--epochs", "1")
    v = out["verdict"]
    assert VERDICT_KEYS <= set(v) and v["metric"] == "defect ROC-AUC" and v["more"][0]["metric"] == "error rate"
    # Named as the saved model: the CNN, or its blend with the baseline when that won on validation.
    saved = "The CNN" if out["recommended"]["model"] == "network" else "The blend of the CNN with "
    assert v["sentence"].startswith(saved) and "'s defect ROC-AUC" in v["sentence"]
    assert not v["trusted"] and {"chance", "below_baseline"} & set(_kinds(v))
    assert all(f"Warning — {f['headline']}: {f['why']}" in err for f in v["trust"])

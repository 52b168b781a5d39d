"""The workspace summary of each scenario: schema, money figures against hand computations,
saving through each scenario's save function, the CLI --save, and reading the latest runs."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.data.drift import compare_to_profile
from core.errors import DataValidationError
from core.store.registry import list_runs, read_metadata, save_run
from core.workspace.summary import (
    LIMITATIONS, MAX_CURVE_POINTS, build_credit_summary, build_demand_summary, build_fraud_summary,
    build_quality_summary, build_summary, default_run_name, format_figure, get_latest_runs,
)

SCHEMA_KEYS = {"name", "dataset", "params", "headline", "input", "profile", "curves", "decision", "explain",
               "intended_use", "limitations"}


def figure(ws: dict, label: str) -> float:
    figs = ws["headline"]["quality"] + ws["headline"]["impact"]
    return next(f["value"] for f in figs if f["label"] == label)


def check_schema(ws: dict, scenario: str, kind: str = "table") -> None:
    assert SCHEMA_KEYS <= set(ws)
    json.dumps(ws, allow_nan=False)  # plain JSON, no NaN
    assert set(ws["dataset"]) >= {"name", "rows", "columns", "sha256"}
    # The file's SHA-256 as uploaded (tests/workspace/test_fingerprint.py); rows built in code have none.
    assert ws["dataset"]["sha256"] is None or len(ws["dataset"]["sha256"]) == 64
    assert ws["headline"]["quality"] and all(set(f) >= {"label", "value", "fmt"} for f in ws["headline"]["quality"])
    assert all(set(f) >= {"label", "value", "unit", "fmt"} for f in ws["headline"]["impact"])
    assert ws["input"]["kind"] == kind
    assert set(ws["input"]) >= {"columns", "numeric", "categorical", "kind"}
    for curve in ws["curves"].values():
        assert 2 <= len(curve["x"]) == len(curve["y"]) <= MAX_CURVE_POINTS
        assert curve["x_label"] and curve["y_label"]
    assert ws["limitations"] == LIMITATIONS[scenario] and len(ws["intended_use"]) > 40


# ---------------------------------------------------------------- credit
def test_credit_summary_money_matches_hand_computation(credit_run, credit_small):
    ws = build_credit_summary(credit_run, name="credit small", threshold=0.2, loss_default=5000, margin_good=1000,
                              data=credit_small, dataset_name="credit_applications.csv")
    check_schema(ws, "credit")
    y, p = credit_run.y_test, credit_run.p_test
    approve = p < 0.2
    profit = 1000 * ((y == 0) & approve).sum() - 5000 * ((y == 1) & approve).sum()
    approve_all = 1000 * (y == 0).sum() - 5000 * (y == 1).sum()
    assert figure(ws, "Expected profit") == pytest.approx(profit)
    assert figure(ws, "Loss avoided") == pytest.approx(profit - approve_all)
    assert figure(ws, "Approval rate") == pytest.approx(approve.mean())
    assert ws["dataset"]["rows"] == len(credit_small) and ws["dataset"]["name"] == "credit_applications.csv"
    assert ws["decision"]["threshold"] == 0.2 and ws["decision"]["loss_default"] == 5000
    assert any("5,000" in a for a in ws["headline"]["assumptions"])
    assert ws["input"]["columns"] == credit_run.setup.features and "sex" not in ws["input"]["columns"]
    # The profile describes the training rows: the training rows themselves show no drift.
    psi = compare_to_profile(ws["profile"], credit_run.train_df)
    assert set(psi["variable"]) == set(credit_run.setup.features) and psi["psi"].max() < 0.01
    roc = ws["curves"]["roc"]
    assert roc["x"][0] == 0 and roc["x"][-1] == 1 and roc["y"][-1] == 1
    assert ws["explain"].get("importance") is None and "note" in ws["explain"]
    # The verdict against the best baseline is saved with its interval, for the overview and the card.
    from sklearn.metrics import roc_auc_score

    v = ws["headline"]["verdict"]
    assert v["metric"] == "ROC-AUC" and v["value"] == pytest.approx(roc_auc_score(y, p))
    best = max(roc_auc_score(y, q) for k, q in credit_run.tabular.proba.items() if k != "network")
    assert v["baseline_value"] == pytest.approx(best) and v["low"] <= v["diff"] <= v["high"]
    assert v["outcome"] in ("better", "on par", "worse")


def test_credit_summary_at_approve_all_threshold_avoids_nothing(credit_run):
    ws = build_credit_summary(credit_run, name="x", threshold=1.0, loss_default=5000, margin_good=1000)
    assert figure(ws, "Loss avoided") == pytest.approx(0.0)
    # Without a frame the fingerprint covers the rows the model saw (train + test).
    assert ws["dataset"]["rows"] == len(credit_run.train_df) + len(credit_run.test_df)


def test_credit_summary_records_shap_importance(credit_run):
    shap = credit_run.explain(credit_run.test_df.iloc[:20])
    ws = build_credit_summary(credit_run, name="x", threshold=0.3, loss_default=1, margin_good=1, shap=shap)
    imp = ws["explain"]["importance"]
    assert set(imp) == set(credit_run.setup.features)
    assert list(imp.values()) == sorted(imp.values(), reverse=True)


def test_summary_needs_a_name_and_a_valid_threshold(credit_run):
    with pytest.raises(DataValidationError, match="needs a name"):
        build_credit_summary(credit_run, name="  ", threshold=0.3, loss_default=1, margin_good=1)
    with pytest.raises(DataValidationError, match="threshold must be a probability"):
        build_credit_summary(credit_run, name="x", threshold=1.5, loss_default=1, margin_good=1)
    with pytest.raises(DataValidationError, match="Scenario must be one of"):
        build_summary("weather", credit_run, name="x")


# ---------------------------------------------------------------- fraud
def test_fraud_summary_money_matches_hand_computation(fraud_run, fraud_small):
    ws = build_fraud_summary(fraud_run, name="fraud small", review_threshold=0.3, block_threshold=0.8,
                             review_fee=5.0, data=fraud_small)
    check_schema(ws, "fraud")
    t = fraud_run.test
    # The money is counted on the recommended model's risk (the network's, or its blend when that won on validation).
    alert = t[fraud_run.score_column].to_numpy() >= 0.3
    caught = float((t["amount"] * t["label"])[alert].sum())
    assert figure(ws, "Fraud caught") == pytest.approx(caught)
    assert figure(ws, "Review cost") == pytest.approx(5.0 * alert.sum())
    assert figure(ws, "Net saving") == pytest.approx(caught - 5.0 * alert.sum())
    assert any(a.startswith("Test period 20") and " to " in a and "rows)" not in a
               for a in ws["headline"]["assumptions"])
    assert ws["decision"] == {**ws["decision"], "threshold": 0.3, "review_threshold": 0.3, "block_threshold": 0.8}
    assert ws["input"]["columns"][:4] == ["timestamp", "amount", "customer_id", "terminal_id"]
    assert "amount" in ws["profile"]["columns"] and ws["dataset"]["rows"] == len(fraud_small)
    assert ws["explain"].get("importance") is None
    assert ws["headline"]["verdict"]["metric"] == "PR-AUC"
    assert ws["headline"]["recommended"] == fraud_run.recommended_section()
    assert fraud_run.score_column == f"score_{ws['headline']['recommended']['model']}"


def test_fraud_summary_rejects_negative_fee(fraud_run):
    with pytest.raises(DataValidationError, match="review fee of 0 or more"):
        build_fraud_summary(fraud_run, name="x", review_threshold=0.3, review_fee=-1)


# ---------------------------------------------------------------- demand
def test_demand_summary_compares_with_the_verdicts_best_baseline_only(demand_run, demand_small):
    import numpy as np

    from core.demand import baselines as bl
    from core.demand.inventory import PolicyParams, compute_policy_backtest, summarize_policy

    params = PolicyParams(service_level=0.9, lead_time=3, review_period=7, holding_cost=0.2, stockout_cost=3.0)
    ws = build_demand_summary(demand_run, name="demand small", params=params, data=demand_small,
                              dataset_name="demand_sales.csv")
    check_schema(ws, "demand")
    # The best baseline by hand: the lower holiday-weighted mean absolute error of P50 over the backtest
    # (the sample has a holiday flag: holiday periods weigh 5).
    bt = demand_run.backtest
    w = np.where(bt["holiday"].to_numpy(float) > 0.5, 5.0, 1.0)

    def wmae(col):
        return float(((bt[col] - bt["y"]).abs() * w).sum() / w.sum())

    maes = {k: wmae(f"{k}_p50") for k in ("seasonal_naive", "moving_average")}
    kind = min(maes, key=maes.get)
    name = kind.replace("_", " ")
    v = ws["headline"]["verdict"]
    assert v["baseline"] == name and v["baseline_value"] == pytest.approx(maes[kind])
    # Every comparison in the headline is with that baseline: the error ratio, the policy's cost, the wording.
    assert figure(ws, f"Holiday-weighted MAE vs {name}") == pytest.approx(wmae("nn_p50") / maes[kind])
    sd = {sid: float(np.std(bl.in_sample_errors(demand_run.arrays[sid].y, nt, kind, demand_run.wcfg.season)))
          for sid, nt in demand_run.n_train.items()}
    s = summarize_policy(compute_policy_backtest(bt, params, 14, sd, demand_run.aggregate_scale(10), baseline=kind))
    assert figure(ws, "Inventory cost saved") == pytest.approx(s["cost_naive"] - s["cost_model"])
    assert figure(ws, "Cost, network policy") == pytest.approx(s["cost_model"])
    assert figure(ws, f"Cost, {name} policy") == pytest.approx(s["cost_naive"])
    other = "seasonal naive" if kind == "moving_average" else "moving average"
    labels = " ".join(f["label"] for f in ws["headline"]["quality"] + ws["headline"]["impact"])
    assert other not in labels.lower() and other not in " ".join(ws["headline"]["assumptions"]).lower()
    assert ws["decision"]["service_level"] == 0.9 and ws["decision"]["lead_time"] == 3
    curves = ws["curves"]
    assert set(curves) == {"backtest_actual", "backtest_p50", "backtest_baseline"}
    assert curves["backtest_baseline"]["y_label"] == f"{name.capitalize()} (all series)"
    # Two origins 14 days apart over 3 series: 28 dates, actuals summed over series.
    assert len(curves["backtest_actual"]["x"]) == demand_run.backtest["date"].nunique() == 28
    assert sum(curves["backtest_actual"]["y"]) == pytest.approx(demand_run.backtest["y"].sum(), rel=1e-5)
    assert ws["input"]["target"] == "units" and ws["input"]["categorical"] == ["store", "product"]
    assert set(ws["profile"]["columns"]) == {"units", "price", "promo", "holiday"}
    assert ws["profile"]["rows"] == sum(demand_run.n_train.values())


def test_demand_summary_rejects_policy_longer_than_horizon(demand_run):
    from core.demand.inventory import PolicyParams

    with pytest.raises(DataValidationError, match="must fit in the forecast horizon"):
        build_demand_summary(demand_run, name="x", params=PolicyParams(lead_time=10, review_period=7))


# ---------------------------------------------------------------- quality
def test_quality_summary_escape_cost_prevented(quality_run, quality_data):
    ws = build_quality_summary(quality_run, name="quality small", threshold=0.4, cost_escape=50,
                               cost_false_reject=2, data=quality_data, dataset_name="quality_images")
    check_schema(ws, "quality", kind="images")
    ok = quality_run.class_names.index("ok")
    y_def = quality_run.test.labels != ok
    reject = 1 - quality_run.test_proba[:, ok] >= 0.4
    assert figure(ws, "Escape cost prevented") == pytest.approx(50 * (y_def & reject).sum())
    assert figure(ws, "False-reject cost") == pytest.approx(2 * (~y_def & reject).sum())
    assert figure(ws, "Net saving") == pytest.approx(50 * (y_def & reject).sum() - 2 * (~y_def & reject).sum())
    assert ws["dataset"]["rows"] == len(quality_data.labels) and ws["dataset"]["name"] == "quality_images"
    assert ws["input"]["image_size"] == 32 and ws["input"]["class_names"] == list(quality_run.class_names)
    assert ws["profile"]["columns"] == {} and set(ws["curves"]) == {"roc", "pr", "gains"}


def test_quality_summary_without_ok_class_has_no_money(quality_run):
    ws = build_quality_summary(replace(quality_run, ok_class=None), name="types only", threshold=0.5,
                               cost_escape=50, cost_false_reject=2)
    assert ws["headline"]["impact"] == [] and ws["curves"] == {}
    assert any("no reject decision" in a for a in ws["headline"]["assumptions"])


# ---------------------------------------------------------------- saving through each scenario
def test_each_scenario_save_stores_the_summary(tmp_path, credit_run, fraud_run, demand_run, quality_run):
    from core.credit.persist import load_credit_model, save_credit_run
    from core.demand.export import save_demand_run
    from core.demand.inventory import PolicyParams
    from core.fraud.persist import save_fraud_run
    from core.quality.export import save_quality_run

    params = PolicyParams(lead_time=7, review_period=7)
    summaries = {
        "credit": build_credit_summary(credit_run, name="c", threshold=0.3, loss_default=5, margin_good=1),
        "fraud": build_fraud_summary(fraud_run, name="f", review_threshold=0.5, review_fee=5),
        "demand": build_demand_summary(demand_run, name="d", params=params),
        "quality": build_quality_summary(quality_run, name="q", threshold=0.5, cost_escape=50, cost_false_reject=2),
    }
    paths = {
        "credit": save_credit_run(credit_run, tmp_path / "credit-1", threshold=0.3, extra_metadata=summaries["credit"]),
        "fraud": save_fraud_run(fraud_run, tmp_path, extra_metadata=summaries["fraud"]),
        "demand": save_demand_run(demand_run, tmp_path, params, extra_metadata=summaries["demand"]),
        "quality": save_quality_run(tmp_path, quality_run, threshold=0.5, extra_metadata=summaries["quality"]),
    }
    # Credit's decision record is saved once, in the summary's decision, with the scorecard it scores with and
    # the network's own threshold (its rule on the validation rows) beside the decline line.
    from dataclasses import asdict

    from core.credit.scorecard import ScorecardConfig

    summaries["credit"]["decision"]["scorecard"] = asdict(ScorecardConfig())
    summaries["credit"]["decision"]["model_threshold"] = float(credit_run.tabular.threshold)
    # Fraud's, with the recommended model's own threshold beside the chosen review and block lines.
    summaries["fraud"]["decision"]["model_threshold"] = float(fraud_run.tabular.recommended_threshold)
    for key, path in paths.items():
        meta = read_metadata(path)
        assert meta["scenario"] == key and meta["workspace"] == summaries[key]
        assert isinstance(meta["workspace"]["headline"]["trust"], list)  # checked, flags or none
    assert load_credit_model(paths["credit"]).threshold == 0.3  # still loads as before
    latest, skipped = get_latest_runs(tmp_path)
    assert set(latest) == {"credit", "fraud", "demand", "quality"} and not skipped
    # Without extra metadata no summary is added (older callers keep working): only the decision record,
    # which keeps the model's own threshold, as credit's and quality's record is kept without a summary.
    from core.store.runmeta import has_summary

    plain = read_metadata(save_fraud_run(fraud_run, tmp_path / "plain"))
    assert not has_summary(plain) and set(plain["workspace"]) == {"decision"}


def test_cli_save_writes_the_workspace_summary(tmp_path, credit_small):
    from core.cli import main

    data = tmp_path / "credit.csv"
    credit_small.iloc[:600].to_csv(data, index=False)
    code = main(["train", "--scenario", "credit", "--data", str(data), "--epochs", "1", "--no-explain",
                 "--save", str(tmp_path / "model"), "--json"])
    assert code == 0
    ws = read_metadata(tmp_path / "model")["workspace"]
    assert ws["dataset"]["name"] == "credit.csv" and ws["dataset"]["rows"] == 600
    assert ws["name"] == "credit · credit.csv"
    assert ws["decision"]["loss_default"] == 5000.0 and ws["headline"]["impact"]


@pytest.mark.parametrize("scenario", ["fraud", "demand"])
def test_other_clis_save_the_summary_too(tmp_path, scenario, fraud_small, demand_small, capsys):
    from core.cli import main

    data = tmp_path / f"{scenario}.csv"
    (fraud_small if scenario == "fraud" else demand_small).to_csv(data, index=False)
    extra = (["--no-explain", "--review-fee", "3"] if scenario == "fraud"
             else ["--horizon", "14", "--event-level", "0"])
    argv = ["train", "--scenario", scenario, "--data", str(data), "--epochs", "1", "--json", *extra]
    target = tmp_path / "runs" / f"{scenario}-1"
    assert main([*argv, "--save", str(target)]) == 0
    # --save DIR saves the run as DIR, as credit does: the Runs page lists it in its runs folder.
    assert json.loads(capsys.readouterr().out)["saved_to"] == str(target)
    runs, _ = list_runs(tmp_path / "runs")
    assert len(runs) == 1
    ws = runs[0]["workspace"]
    assert runs[0]["scenario"] == scenario and ws["name"] == f"{scenario} · {scenario}.csv"
    assert ws["headline"]["impact"] and ws["profile"]["columns"]
    if scenario == "fraud":
        assert ws["decision"]["review_fee"] == 3.0
    else:
        assert ws["decision"]["lead_time"] + ws["decision"]["review_period"] == 14


@pytest.mark.parametrize("scenario", ["credit", "fraud", "demand", "quality"])
def test_save_names_the_runs_own_folder_in_every_scenario(tmp_path, scenario, capsys):
    """--save DIR means the same for all four: the run is saved as DIR. An existing run, a folder that
    is not a run (e.g. the runs folder) or a file there is refused before any training starts."""
    from core.cli import main

    for n in (1, 2):  # a runs folder holding two runs: the free name offered is the third
        (tmp_path / "runs" / f"{scenario}-{n}").mkdir(parents=True)
        (tmp_path / "runs" / f"{scenario}-{n}" / "metadata.json").write_text("{}")
    run = tmp_path / "runs" / f"{scenario}-1"
    (tmp_path / "notes.txt").write_text("x")
    argv = ["train", "--scenario", scenario, "--data", str(tmp_path / "any.csv"), "--epochs", "1", "--json"]
    said = {}
    for name, target in {"run": run, "folder": tmp_path / "runs", "file": tmp_path / "notes.txt"}.items():
        assert main([*argv, "--save", str(target)]) == 1
        cap = capsys.readouterr()
        assert cap.out == "" and "Training on" not in cap.err  # refused before training
        said[name] = cap.err
    assert f"Cannot save the run as '{run}': that folder already exists and holds a saved run. Fix: choose a new " \
           f"folder name, e.g. --save {tmp_path / 'runs' / f'{scenario}-3'}" in said["run"]
    assert f"'{tmp_path / 'runs'}': that folder already exists and is not a saved run. --save names the new run's " \
           f"own folder; it does not save into a folder. Fix: --save {tmp_path / 'runs' / f'{scenario}-3'}" \
           in said["folder"]
    assert f"a file of that name already exists" in said["file"] and f"--save {tmp_path / f'{scenario}-1'}" \
        in said["file"]


# ---------------------------------------------------------------- small helpers
def test_format_figure():
    assert format_figure({"value": 12345.6, "unit": "€", "fmt": ",.0f"}) == "€12,346"
    assert format_figure({"value": -5.0, "unit": "€", "fmt": ",.2f"}) == "-€5.00"
    assert format_figure({"value": 0.84, "fmt": ".1%"}) == "84.0%"
    assert format_figure({"value": 41.23, "unit": "%", "fmt": ".1f"}) == "41.2%"
    assert format_figure({"value": 3.0, "unit": "units", "fmt": ".0f"}) == "3 units"
    assert format_figure({"label": "x", "value": None}) == "not recorded"


def test_default_run_name_names_scenario_and_file():
    assert default_run_name("demand", "/data/sales 2024.csv") == "demand · sales 2024.csv"
    assert default_run_name("fraud") == "fraud"


def test_latest_runs_newest_per_scenario_and_damaged_skipped(tmp_path):
    import time

    save_run(tmp_path, model=None, metadata={"scenario": "credit", "workspace": {"name": "old"}}, run_id="a")
    time.sleep(0.01)
    save_run(tmp_path, model=None, metadata={"scenario": "credit", "workspace": {"name": "new"}}, run_id="b")
    save_run(tmp_path, model=None, metadata={"scenario": "demand"}, run_id="c")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metadata.json").write_text("{not json")
    latest, skipped = get_latest_runs(tmp_path)
    assert latest["credit"]["workspace"]["name"] == "new" and "workspace" not in latest["demand"]
    assert set(latest) == {"credit", "demand"}
    assert len(skipped) == 1 and "damaged" in skipped[0]
    assert get_latest_runs(tmp_path / "missing") == ({}, [])
    assert len(list_runs(tmp_path)[0]) == 3

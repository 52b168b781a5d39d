"""The recommended model when it is the network blended with a baseline: chosen on validation rows only,
saved with the run, and scored the same by every door (CLI, the Score page's code path, Dask, the HTTP
service on Keras and ONNX Runtime); a run saved without a blend loads and scores as the network alone."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from tests.scale.conftest import SAMPLES
from tests.scale.test_scenarios import both, score

TOL = 1e-6


# ---------------------------------------------------------------- the choice, on validation only
def _probas(seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    net = np.clip(0.5 * y + rng.normal(0.25, 0.35, 400), 0, 1)  # two noisy views of the same outcome:
    base = np.clip(0.5 * y + rng.normal(0.25, 0.35, 400), 0, 1)  # their average ranks better than either
    return y, {"network": net, "logistic_regression": base}


def _line(ens) -> str:
    from types import SimpleNamespace

    from core.ml.blend import recommended_line

    return recommended_line(SimpleNamespace(ensemble=ens, recommended="ensemble" if ens.get("use") else "network"))


def test_the_blend_is_chosen_on_validation_rows_only():
    from core.ml.blend import check_blend

    y_val, val = _probas(0)
    y_test, test = _probas(1)
    ens = check_blend(y_val, val, y_test, test, metric="roc_auc")
    assert ens["use"] and ens["baseline"] == "logistic_regression"
    sc = ens["validation_scores"]
    assert sc["ensemble"] > max(sc["network"], sc["logistic_regression"])
    # Other test rows (here: the baseline made perfect on them) change the test figures, never the choice.
    other = check_blend(y_val, val, y_test, {**test, "logistic_regression": y_test + 0.0}, metric="roc_auc")
    assert {k: other[k] for k in ("use", "baseline", "weight", "threshold", "validation_scores")} == \
           {k: ens[k] for k in ("use", "baseline", "weight", "threshold", "validation_scores")}
    assert other["test_metrics"]["roc_auc"] != ens["test_metrics"]["roc_auc"]
    assert ens["beats_baseline"] and "beats the network and the best baseline" in _line(ens)
    # A baseline that wins on validation alone: its blend with the network still beats the network, so the blend is
    # recommended, and the line says plainly that the baseline alone scored higher.
    behind = check_blend(y_val, {**val, "logistic_regression": y_val + 0.0}, y_test, test, metric="roc_auc")
    assert behind["use"] and not behind["beats_baseline"] and "test_metrics" in behind
    assert "though logistic regression alone scored higher there" in _line(behind)
    from types import SimpleNamespace

    from core.ml.blend import recommended_section

    rec = recommended_section(SimpleNamespace(ensemble=behind, recommended="ensemble"))
    assert rec["model"] == "ensemble" and rec["beats_baseline"] is False
    assert recommended_section(SimpleNamespace(ensemble=ens, recommended="ensemble"))["beats_baseline"] is True
    # A network no blend can beat on validation stays recommended.
    lost = check_blend(y_val, {**val, "network": y_val + 0.0}, y_test, test, metric="roc_auc")
    assert lost["checked"] and not lost["use"] and "no blend beats it" in _line(lost)
    one_class = check_blend(np.zeros(10), {k: v[:10] for k, v in val.items()}, y_test, test, metric="roc_auc")
    assert not one_class["use"] and "one class" in one_class["note"]


def test_the_ensemble_metric_is_checked():
    from core.ml.tabular import TabularConfig

    with pytest.raises(DataValidationError, match="ensemble's validation metric must be 'roc_auc' or 'pr_auc'"):
        TabularConfig(ensemble_metric="accuracy").validate()


# ---------------------------------------------------------------- saved credit run with a blend
def _force_blend(tab, baseline: str, weight: float = 0.25) -> None:
    """Make the blend the recommended model of a small run (a few epochs rarely win the check on their own)."""
    from core.ml.metrics import compute_binary_metrics
    from core.search.ensemble import blend, ensemble_label

    ens = {"checked": True, "use": True, "baseline": baseline, "weight": weight, "best_baseline": baseline,
           "metric": "roc_auc", "threshold": 0.3}
    ens["label"] = ensemble_label(ens)
    ens["test_metrics"] = compute_binary_metrics(tab.y_test, blend(tab.proba["network"], tab.proba[baseline], weight),
                                                 0.3)
    tab.ensemble = ens


def saved_fraud_blend(folder, baseline: str, weight: float, run_id: str):
    """A small fraud run on the bundled log, its blend with ``baseline`` made the recommended model, saved in
    ``folder``; the saved run's folder."""
    from core.fraud.columns import make_columns
    from core.fraud.persist import save_fraud_run
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, run_fraud

    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    train = df[df["customer_id"] < "C000120"].reset_index(drop=True)
    cfg = FraudConfig(train_start="2024-04-01", test_start="2024-04-22",
                      tabular=replace(FRAUD_TABULAR, epochs=2, baselines=(baseline,)))
    run = run_fraud(train, make_columns(train), config=cfg)
    _force_blend(run.tabular, baseline, weight=weight)
    run.test["score_ensemble"] = run.tabular.p_recommended  # as run_fraud adds it when the check picks the blend
    return save_fraud_run(run, folder, run_id=run_id)


@pytest.fixture(scope="module")
def credit_pair(tmp_path_factory):
    """One small credit run saved twice: recommended as a blend, and as the network alone (an older run)."""
    from core.credit.persist import save_credit_run
    from core.credit.pipeline import default_credit_config, train_credit
    from core.credit.summary import build_credit_summary

    root = tmp_path_factory.mktemp("blend")
    df = pd.read_csv(SAMPLES / "credit_applications.csv").sample(n=1200, random_state=3).reset_index(drop=True)
    run = train_credit(df, target="default", config=default_credit_config(epochs=2, seed=0))
    _force_blend(run.tabular, "gradient_boosting")
    ws = build_credit_summary(run, name="blend", threshold=0.3, loss_default=5000, margin_good=1000)
    blended = save_credit_run(run, root / "credit_blend", threshold=0.3, extra_metadata=ws)
    ens = run.tabular.ensemble
    run.tabular.ensemble = {}
    plain = save_credit_run(run, root / "credit_plain", threshold=0.3)
    run.tabular.ensemble = ens
    new = root / "applicants.csv"
    pd.read_csv(SAMPLES / "credit_new_month.csv").iloc[:400].to_csv(new, index=False)
    return run, blended, plain, new


def test_a_saved_blend_scores_the_same_on_every_door(credit_pair, capsys, tmp_path, scheduler):
    from core.serve.batch import score_with_run
    from core.credit.serving import make_predictor

    run, blended, plain, new = credit_pair
    meta = json.loads((blended / "metadata.json").read_text())
    assert meta["blend"]["baseline"] == "gradient_boosting" and meta["blend"]["weight"] == 0.25
    assert meta["blend"]["version"] == 1 and "baseline.joblib" in meta["files"]
    head = meta["workspace"]["headline"]["recommended"]
    assert head["model"] == "ensemble" and head["label"] == run.tabular.ensemble["label"]
    df = pd.read_csv(new)
    expected = run.predict(df)  # the trained run's recommended model, in memory
    from core.ml.tabular import predict_codes

    pre = run.tabular.preprocessor
    assert np.abs(expected - predict_codes(run.tabular.model, pre, pre.transform_codes(df))).max() > 1e-4

    code, res, err = score(capsys, "--model", str(blended), "--data", str(new), "--out", str(tmp_path / "cli.csv"),
                           "--quiet", "--no-reasons")
    assert code == 0, err
    cli = pd.read_csv(tmp_path / "cli.csv")["probability_of_default"].to_numpy()
    assert np.abs(cli - expected).max() <= TOL

    page = score_with_run(blended, df, reason_rows=5).scored["probability_of_default"].to_numpy()
    assert np.abs(page - expected).max() <= TOL

    code, _, err = score(capsys, "--model", str(blended), "--data", str(new), "--out", str(tmp_path / "dask.csv"),
                         "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "150", "--no-reasons")
    assert code == 0, err
    assert np.abs(pd.read_csv(tmp_path / "dask.csv")["probability_of_default"].to_numpy() - expected).max() <= TOL

    for runtime in ("keras", "onnx"):
        predictor = make_predictor(blended, runtime=runtime)
        served = predictor.predict(df.iloc[:50][list(predictor.columns())])
        assert np.abs(served["probability_of_default"].to_numpy() - expected[:50]).max() <= TOL, runtime
        assert (served["decision"] == np.where(expected[:50] >= 0.3, "decline", "approve")).all()


def test_a_run_saved_without_a_blend_scores_with_the_network_alone(credit_pair, capsys, tmp_path):
    from core.credit.persist import load_credit_model

    run, blended, plain, new = credit_pair
    meta = json.loads((plain / "metadata.json").read_text())
    assert "blend" not in meta and "baseline.joblib" not in meta["files"]
    # An older run knows nothing of recommendations or blends, and still loads.
    assert "recommended" not in meta.get("workspace", {}).get("headline", {})
    model = load_credit_model(plain)
    assert model.blend is None
    df = pd.read_csv(new)
    network = run.tabular.preprocessor
    from core.ml.tabular import predict_codes

    p_net = predict_codes(run.tabular.model, network, network.transform_codes(df))
    assert np.abs(model.predict(df) - p_net).max() <= TOL
    code, _, err = score(capsys, "--model", str(plain), "--data", str(new), "--out", str(tmp_path / "o.csv"), "--quiet")
    assert code == 0, err
    assert np.abs(pd.read_csv(tmp_path / "o.csv")["probability_of_default"].to_numpy() - p_net).max() <= TOL


def test_a_blend_file_swapped_or_missing_is_refused(credit_pair, tmp_path):
    from core.ml.blend import load_blend
    from core.credit.persist import load_credit_model

    _run, blended, _plain, _new = credit_pair
    copy = tmp_path / "copy"
    shutil.copytree(blended, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    (copy / "baseline.joblib").write_bytes(b"x" * meta["files"]["baseline.joblib"]["bytes"])
    with pytest.raises(DataValidationError, match="not the one saved with the run"):
        load_credit_model(copy)
    with pytest.raises(DataValidationError, match="not the one saved with the run"):
        load_blend(copy, meta)
    (copy / "baseline.joblib").unlink()
    with pytest.raises(DataValidationError, match="recommends a blend with gradient boosting, but its file 'baseline.joblib' is missing"):
        load_blend(copy, meta)
    with pytest.raises(DataValidationError, match="blend saved in format 9; this version reads format 1"):
        load_blend(copy, {**meta, "blend": {**meta["blend"], "version": 9}})


# ---------------------------------------------------------------- fraud
def test_a_saved_fraud_blend_scores_the_same_on_every_door(tmp_path, capsys, scheduler):
    from core.serve.batch import score_with_run
    from core.fraud.persist import load_fraud_model
    from core.fraud.serving import make_predictor
    from core.fraud.service import score_chunk

    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    saved_dir = saved_fraud_blend(tmp_path, "logistic_regression", 0.5, "fraud_blend")
    meta = json.loads((saved_dir / "metadata.json").read_text())
    assert meta["blend"]["baseline"] == "logistic_regression" and meta["recommended"]["model"] == "ensemble"
    # The model's own threshold is the blend's, chosen on validation, saved once in the decision record.
    assert meta["workspace"]["decision"]["model_threshold"] == 0.3 and "threshold" not in meta

    new = df[df["customer_id"] >= "C000760"].drop(columns="is_fraud").reset_index(drop=True)
    data = tmp_path / "log.csv.gz"
    new.to_csv(data, index=False)
    saved = load_fraud_model(saved_dir)
    expected = score_chunk(saved, new, review=0.5, block=0.9)
    expected = expected.set_index("transaction_id")["risk"]
    # The blend is what scores: the network alone gives other risks.
    net_only = score_chunk(replace(saved, blend=None), new, review=0.5, block=0.9).set_index("transaction_id")["risk"]
    assert np.abs(net_only - expected.loc[net_only.index]).max() > 1e-4

    def check(frame, what):
        got = frame.set_index("transaction_id")["risk"]
        assert np.abs(got - expected.loc[got.index]).max() <= TOL, what

    code, _, err = score(capsys, "--model", str(saved_dir), "--data", str(data), "--out", str(tmp_path / "c.csv"),
                         "--quiet")
    assert code == 0, err
    check(pd.read_csv(tmp_path / "c.csv"), "cli")
    code, _, err = score(capsys, "--model", str(saved_dir), "--data", str(data), "--out", str(tmp_path / "d.csv"),
                         "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "600")
    assert code == 0, err
    check(pd.read_csv(tmp_path / "d.csv"), "dask")
    check(score_with_run(saved_dir, new, reason_rows=3).scored, "score page")
    predictor = make_predictor(saved_dir, runtime="onnx")
    served = predictor.predict(new[list(predictor.columns())])
    check(served.assign(transaction_id=new["transaction_id"].to_numpy()), "service")


# ---------------------------------------------------------------- saved demand run with a blend
def test_a_saved_demand_blend_forecasts_the_same_locally_and_on_dask(capsys, tmp_path, scheduler):
    """Demand's recommended blend (seasonal naive, 25 % network) is applied by the Dask engine as by
    the single-process scorer: P50 = 0.25 · network + 0.75 · seasonal naive."""
    from core.demand.blend import apply_recommendation
    from core.demand.data import ColumnMap, load_sales
    from core.demand.export import save_demand_run
    from core.demand.forecast import DemandConfig, train_demand

    df = pd.read_csv(SAMPLES / "demand_sales.csv")
    df = df[df["store"].isin(["S1", "S2"]) & df["product"].isin(["P1", "P2"]) & (df["date"] >= "2025-03-01")]
    df = df.reset_index(drop=True)
    run = train_demand(load_sales(df, ColumnMap("date", "units", ("store", "product"))),
                       DemandConfig(horizon=7, epochs=2, seed=0))
    plain = save_demand_run(run, tmp_path / "runs")
    rec = {"checked": True, "choice": "ensemble", "metric": "mae", "baseline": "seasonal_naive", "weight": 0.25,
           "label": "Ensemble: 25 % network + 75 % seasonal naive",
           "validation_scores": {"network": 2.0, "seasonal_naive": 2.5, "moving_average": 3.0, "ensemble": 1.5}}
    apply_recommendation(run, rec)
    blended = save_demand_run(run, tmp_path / "runs")
    hist = tmp_path / "history.csv"
    df.to_csv(hist, index=False)
    local, dask, _a, _b, _err = both(capsys, tmp_path, blended, hist, scheduler)
    net, _c, _d, _e, _f = both(capsys, tmp_path, plain, hist, scheduler, name="plain.csv")
    key = ["series", "date"]
    lo = pd.read_csv(local).sort_values(key).reset_index(drop=True)
    dk = pd.read_parquet(dask) if dask.is_dir() else pd.read_csv(dask)
    dk = dk.sort_values(key).reset_index(drop=True)
    for q in ("p10", "p50", "p90", "reorder_point"):
        np.testing.assert_allclose(dk[q].to_numpy(float), lo[q].to_numpy(float), atol=1e-6)
    nn = pd.read_csv(net).sort_values(key).reset_index(drop=True)
    fut = run.future.assign(date=pd.to_datetime(run.future["date"]).dt.strftime("%Y-%m-%d")).sort_values(key)
    naive = fut["naive_p50"].to_numpy()
    np.testing.assert_allclose(lo["p50"], 0.25 * nn["p50"] + 0.75 * naive, atol=2e-3)
    assert not np.allclose(lo["p50"], nn["p50"], atol=1e-2)

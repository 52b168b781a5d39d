"""The trained pipeline end to end on a small slice: backtest, policy, events, SHAP, export, CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from core.demand.forecast import METHODS, DemandConfig, get_naive_sd, plan_split, train_demand
from core.demand.features import make_config
from core.demand.inventory import PolicyParams, compute_policy_backtest, compute_policy_table
from core.errors import DataValidationError


def test_backtest_has_every_method_origin_and_step(small_run):
    r = small_run
    assert list(r.metrics.index) == list(METHODS.values())
    assert set(r.series_ids) == {"S1 / P1", "S1 / P5", "S2 / P2"}
    assert len(r.backtest) == 3 * 2 * 7
    assert r.backtest.groupby("series")["origin"].nunique().eq(2).all()
    # Quantiles are ordered and never negative.
    assert (r.backtest["nn_p10"] <= r.backtest["nn_p50"]).all() and (r.backtest["nn_p50"] <= r.backtest["nn_p90"]).all()
    assert (r.backtest["nn_p10"] >= 0).all()
    for col in ("mae", "rmse", "wape", "mase", "coverage_p10_p90"):
        assert np.isfinite(r.metrics[col]).all()
    # MAPE only where no actual is near zero; the same actuals for every method.
    assert (np.isfinite(r.metrics["mape"]) == (r.metrics["near_zero_actuals"] == 0)).all()
    assert r.metrics["near_zero_actuals"].nunique() == 1


def test_short_series_reported_not_forecast(small_run):
    (ex,) = small_run.excluded
    assert ex["series"] == "S3 / P7" and ex["reason"].startswith("too short: 26 periods, needs at least 42")


def test_no_training_window_sees_the_test_periods(small_run):
    w = small_run.train_windows
    limit = np.array([small_run.n_train[s] for s in w.sid])
    targets = w.origin[:, None] + np.arange(1, small_run.wcfg.horizon + 1)
    live = w.weight[..., 0] > 0  # targets past a window's usable history are masked (weight 0)
    assert live.any() and (targets[live] < np.broadcast_to(limit[:, None], targets.shape)[live]).all()
    assert (w.target[~live] == 0).all()
    first_origin = small_run.backtest.groupby("series")["origin"].min()
    for sid, nt in small_run.n_train.items():
        assert small_run.arrays[sid].dates[nt - 1] == first_origin[sid]


def test_future_forecast_follows_the_data(small_run):
    f = small_run.future
    assert f.groupby("series").size().eq(7).all()
    assert f["date"].min() == pd.Timestamp("2026-01-01")


def test_policy_tables(small_run):
    p = PolicyParams(lead_time=3, review_period=2)
    t = compute_policy_table(small_run.future, p, 7)
    assert (t["reorder_point"] >= t["demand_protection"]).all() and len(t) == 3
    bt = compute_policy_backtest(small_run.backtest, p, 7, get_naive_sd(small_run))
    assert len(bt) == 6 and (bt["cost"] >= 0).all()


def test_plan_split_error_when_every_series_is_too_short(small_sales):
    wcfg = make_config(small_sales, 60)
    with pytest.raises(DataValidationError, match="No series is long enough to forecast: each needs at least"):
        plan_split(small_sales, wcfg, DemandConfig(horizon=60, origins=6))


def test_origins_error(small_sales):
    wcfg = make_config(small_sales, 7)
    with pytest.raises(DataValidationError, match="The backtest needs at least 1 origin"):
        plan_split(small_sales, wcfg, DemandConfig(horizon=7, origins=0))


def test_events_classifier_and_errors(small_run):
    from core.demand.events import EventConfig, compute_event_metrics, train_events

    ev = train_events(small_run, EventConfig(value=1.5, epochs=2))
    n_test = sum(small_run.arrays[s].n - nt for s, nt in small_run.n_train.items())
    assert len(ev.test) == n_test
    assert ev.train_counts[1] > 0 and ev.train_counts[0] > ev.train_counts[1]
    m = compute_event_metrics(ev, 0.5)
    assert list(m.index) == ["Event classifier", "Quantile forecast"]
    assert ((m["roc_auc"] >= 0) & (m["roc_auc"] <= 1)).all()
    assert (m["roc_auc_low"] <= m["roc_auc_high"]).all()
    chance = (m["roc_auc_low"] <= 0.5) & (m["roc_auc_high"] >= 0.5)
    assert ((m["verdict"] == "no better than chance") == chance).all()
    assert compute_event_metrics(ev, 0.5).equals(m)  # the bootstrap is seeded
    with pytest.raises(DataValidationError, match="No demand events in the training periods at this level"):
        train_events(small_run, EventConfig(mode="absolute", value=1e6, epochs=1))
    with pytest.raises(DataValidationError, match="The event level must be a positive number"):
        train_events(small_run, EventConfig(value=0.0))
    with pytest.raises(DataValidationError, match="Event level mode must be one of"):
        train_events(small_run, EventConfig(mode="percent"))


def test_local_shap_groups_and_additivity(small_run):
    from core.demand.explain import compute_local_shap

    date = small_run.future["date"].iloc[2]
    s = compute_local_shap(small_run, "S1 / P1", date)
    r = s.result
    assert s.step == 3
    for name in ("lag 1", "day of week", "promo (forecast period)", "seasonal naive reference"):
        assert name in r.feature_names
    # Expected gradients are additive up to sampling noise: base + sum(values) ~ prediction.
    assert r.base_value + r.values[0].sum() == pytest.approx(r.predictions[0], abs=0.15)
    with pytest.raises(DataValidationError, match="is not in the forecast for 'S1 / P1'"):
        compute_local_shap(small_run, "S1 / P1", "2020-01-01")
    with pytest.raises(DataValidationError, match="Series 'nope' was not forecast"):
        compute_local_shap(small_run, "nope", date)


def test_global_shap_ranks_groups(small_run):
    from core.demand.explain import compute_global_shap

    g = compute_global_shap(small_run, n_rows=40)
    imp = g.result.importance()
    assert len(g.result.values) == 40 and imp["importance"].iloc[0] > 0


def test_export_table_and_saved_model_round_trip(small_run, tmp_path):
    from core.demand.export import get_forecast_table, save_demand_run
    from core.demand.model import predict_quantiles
    from core.store.registry import load_run

    t = get_forecast_table(small_run, PolicyParams(lead_time=3, review_period=2))
    assert list(t.columns[:6]) == ["series", "date", "step", "p10", "p50", "p90"] and "reorder_point" in t
    assert len(t) == 21
    path = save_demand_run(small_run, tmp_path)
    run = load_run(path)
    assert run.metadata["scenario"] == "demand" and run.metadata["window"]["horizon"] == 7
    x = small_run.train_windows
    np.testing.assert_allclose(predict_quantiles(run.model, [a[:5] for a in x.inputs()]),
                               predict_quantiles(small_run.model, [a[:5] for a in x.inputs()]), rtol=1e-5)


def test_cli_train_json(small_sales_frame, tmp_path, capsys):
    from core.cli import main

    data = tmp_path / "sales.csv"
    small_sales_frame.to_csv(data, index=False)
    code = main(["train", "--scenario", "demand", "--data", str(data), "--series-cols", "store,product",
                 "--horizon", "7", "--epochs", "2", "--event-level", "0", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(out["metrics"])[:2] == list(out["baselines"]["seasonal_naive"])[:2] == ["wape", "mase"]
    for k in ("mae", "rmse", "wape", "mase", "coverage_p10_p90"):
        assert isinstance(out["metrics"][k], float)
        assert isinstance(out["baselines"]["seasonal_naive"][k], float)
    assert (out["metrics"]["mape"] is None) == (out["metrics"]["near_zero_actuals"] > 0)
    assert out["metrics"]["n"] == 3 * 7 and out["timings"]["train"] > 0


def test_cli_with_test_file(small_sales_frame, tmp_path, capsys):
    from core.cli import main

    train = small_sales_frame[small_sales_frame["date"] < "2025-12-01"]
    test = small_sales_frame[small_sales_frame["date"] >= "2025-12-01"]
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    code = main(["train", "--scenario", "demand", "--data", str(tmp_path / "train.csv"), "--test-data",
                 str(tmp_path / "test.csv"), "--horizon", "14", "--epochs", "1", "--event-level", "0", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # Test = the first 14 days of December for the three long series; S3 / P7 has no training history.
    assert out["metrics"]["n"] == 3 * 14
    assert "1 series in the test file have no training history and were skipped." in out["notices"]


def test_cli_score_with_saved_run(small_run, small_sales_frame, tmp_path, capsys):
    from core.cli import main
    from core.demand.export import save_demand_run

    path = save_demand_run(small_run, tmp_path / "runs")
    small_sales_frame.to_csv(tmp_path / "history.csv", index=False)
    code = main(["score", "--model", str(path), "--data", str(tmp_path / "history.csv"),
                 "--out", str(tmp_path / "fc.csv"), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert out["rows"] == len(fc) == 3 * 7 and "'S3 / P7' skipped: 26 periods, needs at least 28." in out["notices"]
    assert {"safety_stock", "reorder_point"} <= set(fc.columns)
    assert (fc.groupby("series")["reorder_point"].nunique() == 1).all()  # one policy per series
    # The saved model reproduces the in-memory forward forecast.
    np.testing.assert_allclose(fc["p50"].to_numpy(), small_run.future["p50"].to_numpy(), rtol=1e-3, atol=1e-3)

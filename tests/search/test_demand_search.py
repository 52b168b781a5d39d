"""The demand model search: validation inside each series' training history (the test periods
never passed in), the time budget, determinism, the too-small budget and the CLI flag."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError

ROOT_SAMPLE = "sample_data/demand_sales.csv"


@pytest.fixture(scope="module")
def sales():
    from core.demand.data import ColumnMap, load_sales

    df = pd.read_csv(ROOT_SAMPLE)
    df = df[df["store"].isin(["S1", "S2"]) & (df["product"] == "P1") & (df["date"] >= "2025-05-01")]
    return load_sales(df.reset_index(drop=True), ColumnMap("date", "units", ("store", "product")))


def _config(**kw):
    from core.demand.forecast import DemandConfig

    return DemandConfig(**{"horizon": 7, "origins": 2, "epochs": 2, "seed": 3, **kw})


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _quantiles(prefix: str, p50: float) -> dict:
    return {f"{prefix}_p10": p50 - 2.0, f"{prefix}_p50": p50, f"{prefix}_p90": p50 + 2.0}


def _recording_train_demand(calls, clock=None, epoch_seconds=1.0):
    """Stands in for train_demand: records the history it is given, scores by a formula of the
    settings, and reports a validation P50 error every epoch (advancing ``clock`` if given)."""

    def fake(data, cfg, *, test=None, future_covariates=None, progress=None):
        calls.append((data.frame.copy(), cfg))
        err = 1.0 + abs(cfg.dropout - 0.3) + 0.1 * cfg.depth + (cfg.input_len or 28) / 100
        for e in range(1, 4):
            if clock is not None:
                clock.now += epoch_seconds
            if progress is not None:
                progress(e, 3, {"val_p50_error": err * (1 + 1 / e)})
        rows = []
        for sid, g in data.frame.groupby("series", sort=False):
            for d in g["date"].iloc[-cfg.horizon:]:
                # The network over-forecasts by ``err``, seasonal naive under-forecasts by 0.8 ``err``
                # and the moving average over-forecasts by 2 ``err``: their plain average is best.
                rows.append({"series": sid, "date": d, "y": 10.0,
                             **_quantiles("nn", 10.0 + err), **_quantiles("seasonal_naive", 10.0 - 0.8 * err),
                             **_quantiles("moving_average", 10.0 + 2 * err)})
        return SimpleNamespace(backtest=pd.DataFrame(rows))

    return fake


def test_search_sees_only_the_training_history_of_each_series(sales, monkeypatch):
    import core.demand.forecast
    from core.demand.search import search_demand

    calls = []
    monkeypatch.setattr(core.demand.forecast, "train_demand", _recording_train_demand(calls))
    cfg = _config()
    search = search_demand(sales, cfg, budget=600, n_trials=4, ensemble=True)
    hold = cfg.horizon + (cfg.origins - 1) * cfg.horizon  # the test periods of each series
    frame = sales.frame
    first_test = {sid: g["date"].iloc[len(g) - hold] for sid, g in frame.groupby("series")}
    train_pos = {sid: set(g.index[: len(g) - hold]) for sid, g in frame.groupby("series")}
    assert len(calls) == 4
    for seen, trial_cfg in calls:
        assert trial_cfg.origins == 1  # the trial's own holdout: the last horizon of the history
        for sid, g in seen.groupby("series"):
            assert g["date"].max() < first_test[sid]
            # the same rows (by position in the full data) as the training part, none of the test rows
            rows = frame[(frame["series"] == sid) & frame["date"].isin(g["date"])].index
            assert set(rows) == train_pos[sid]
    assert search.result.found and search.result.direction == "minimize"
    assert search.result.trials[0].params["input_len"] == 28  # today's window for a 7-day horizon, weekly season
    # The ensemble is checked on the selected trial's validation forecasts: no further training, so
    # the test periods stay unseen (the four calls above are all there were).
    ens = search.ensemble
    assert ens["use"] and (ens["baseline"], ens["weight"], ens["best_baseline"]) == ("seasonal_naive", 0.5,
                                                                                    "seasonal_naive")
    sc = ens["validation_scores"]
    assert sc["ensemble"] < min(sc["network"], sc["seasonal_naive"], sc["moving_average"])
    assert ens["label"] == "Ensemble: Keras network's forecast averaged with seasonal naive"
    assert search.result.to_dict()["ensemble"]["label"] == ens["label"]


def test_ensemble_metrics_on_the_final_backtest():
    from core.demand.search import demand_ensemble_metrics, demand_search_section

    bt = pd.DataFrame({"series": ["a"] * 4, "date": pd.date_range("2025-01-01", periods=4), "y": [10.0] * 4,
                       "scale": [1.0] * 4, **_quantiles("nn", 12.0), **_quantiles("moving_average", 9.0),
                       **_quantiles("seasonal_naive", 20.0)})
    run = SimpleNamespace(backtest=bt, holiday_col=None)
    ens = {"use": True, "baseline": "moving_average", "weight": 0.25}
    m = demand_ensemble_metrics(run, ens)
    assert m["mae"] == pytest.approx(abs(0.25 * 12 + 0.75 * 9 - 10))
    assert demand_ensemble_metrics(run, {**ens, "use": False}) is None
    assert "ensemble_p50" not in bt  # the run's own backtest is left as it was
    search = SimpleNamespace(result=SimpleNamespace(to_dict=lambda: {"objective": "demand network"}), ensemble=ens)
    assert demand_search_section(search, run)["ensemble"]["test_metrics"]["mae"] == pytest.approx(0.25)


def test_same_seed_gives_the_same_trials_and_best_trial(sales, monkeypatch):
    import core.demand.forecast
    from core.demand.search import search_demand

    monkeypatch.setattr(core.demand.forecast, "train_demand", _recording_train_demand([]))
    sa, sb = (search_demand(sales, _config(), budget=600, n_trials=8, ensemble=True) for _ in range(2))
    assert sa.ensemble == sb.ensemble and sa.ensemble["checked"]  # the same seed gives the same ensemble
    a, b = sa.result, sb.result
    c = search_demand(sales, _config(seed=4), budget=600, n_trials=8).result
    assert [(t.params, t.score) for t in a.trials] == [(t.params, t.score) for t in b.trials]
    assert a.best.number == b.best.number and a.best_params == b.best_params
    assert [t.params for t in a.trials[1:]] != [t.params for t in c.trials[1:]]


def test_budget_is_honoured_a_trial_stops_at_the_first_epoch_past_it(sales, monkeypatch):
    import core.demand.forecast
    from core.demand.search import search_demand

    clock = FakeClock()
    monkeypatch.setattr(core.demand.forecast, "train_demand", _recording_train_demand([], clock, 2.0))
    res = search_demand(sales, _config(), budget=15, clock=clock).result
    # Three two-second epochs a trial: two trials end at 12 s, the third is stopped at 16 s.
    assert [t.state for t in res.trials] == ["complete", "complete", "stopped"]
    assert res.seconds == 16 <= 15 * 1.1


def test_budget_is_honoured_with_real_training(sales):
    from core.demand.search import search_demand

    res = search_demand(sales, _config(epochs=500, patience=500), budget=3).result
    # The trial still training when the budget runs out is stopped by the budget, long before its
    # 500 epochs (how close to the budget it stops is a timing, checked on a fake clock in
    # tests/core/test_search.py and measured by bench/, not here).
    assert res.seconds >= 3
    assert res.trials[-1].state == "stopped" and res.trials[-1].epochs < 500


def test_real_training_of_a_trial_is_repeatable(sales):
    """Real training scores the same settings identically (the sampled settings' order is
    checked above): two searches with the same seed give trial 0 the same validation MAE."""
    from core.search.engine import wait_for_stopped_trials
    from core.demand.search import search_demand

    # A trial an earlier test's search left to stop in the background would share the seeds and cores.
    assert wait_for_stopped_trials(120)
    a, b = (search_demand(sales, _config(epochs=1), budget=600, n_trials=1) for _ in range(2))
    assert [t.state for t in a.result.trials] == ["complete"]
    # Equal up to float32 summation order (TensorFlow's CPU thread pool may add in another order).
    assert a.result.trials[0].score == pytest.approx(b.result.trials[0].score, rel=1e-6)
    assert a.result.selected.number == 0 and a.config == _config(epochs=1)


def test_history_too_short_for_a_validation_forecast(sales):
    from core.demand.search import search_demand

    with pytest.raises(DataValidationError, match="model search needs a series with at least"):
        search_demand(sales, _config(horizon=60, input_len=120, origins=1), budget=30)


def test_cli_budget_too_small_keeps_todays_recipe(tmp_path, capsys):
    from core.cli import main

    df = pd.read_csv(ROOT_SAMPLE)
    df = df[(df["store"] == "S1") & (df["product"] == "P1") & (df["date"] >= "2025-05-01")]
    path = tmp_path / "sales.csv"
    df.to_csv(path, index=False)
    code = main(["train", "--scenario", "demand", "--data", str(path), "--target", "units",
                 "--series-cols", "store,product", "--horizon", "7", "--epochs", "2", "--event-level", "0",
                 "--search-budget", "1", "--json", "--save", str(tmp_path / "run")])
    out = capsys.readouterr()
    assert code == 0, out.err
    result = json.loads(out.out)
    s = result["search"]
    assert s["best_trial"] is None and s["best_params"] == s["recipe_params"]
    assert any("too small for one trial" in n and "today's recipe" in n for n in s["notices"])
    assert "too small for one trial" in out.err
    cfg = result["config"]
    from core.demand.forecast import DemandConfig

    today = DemandConfig()  # the recipe a user gets without a search
    assert (cfg["depth"], cfg["width"], cfg["l2"], cfg["tail_quantile"]) == (today.depth, today.width, today.l2,
                                                                             today.tail_quantile)
    from pathlib import Path

    meta = json.loads((Path(result["saved"]) / "metadata.json").read_text())
    ws = meta.get("workspace", meta)
    assert ws["search"]["budget_seconds"] == 1 and ws["params"]["search"]["trials_complete"] == 0
    from core.workspace.report import build_report_html

    card = build_report_html(Path(result["saved"]))
    assert "<h3>Model search</h3>" in card and "too small for one trial" in card


def test_quantile_loss_settings():
    import keras

    from core.demand.model import build_quantile_model, get_pinball_loss, get_quantile_loss, pinball_numpy

    assert get_quantile_loss() is get_pinball_loss()
    y = np.array([[1.0, 2.0]], dtype="float32")
    q = np.array([[[0.5, 1.5, 2.0], [1.0, 2.5, 3.0]]], dtype="float32")
    loss = get_quantile_loss(0.1, 1.0 + 1e-9)
    assert float(loss(y, q)) == pytest.approx(pinball_numpy(y, q), rel=1e-5)
    # the middle output weighted 3 and the tails at 0.25 / 0.75, normalised by the weights' mean
    err = y[..., None] - q
    qs, w = np.array([0.25, 0.5, 0.75]), np.array([1.0, 3.0, 1.0])
    want = np.mean(w * np.maximum(qs * err, (qs - 1) * err)) * 3 / 5
    assert float(get_quantile_loss(0.25, 3.0)(y, q)) == pytest.approx(want, rel=1e-5)
    model = build_quantile_model(4, 2, 3, depth=3, l2=1e-3, tail=0.25, median_weight=3.0)
    assert [layer.name for layer in model.layers if layer.name.startswith("step_dense")] == [
        "step_dense_1", "step_dense_2", "step_dense_3"]
    assert model.get_layer("step_dense_3").units == 16 and model.losses  # the L2 penalties
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model.loss))
    assert (restored.tail, restored.median_weight) == (0.25, 3.0)


def test_page_saves_the_kept_search_with_its_ensemble_and_the_card_labels_it():
    import streamlit as st

    from core.workspace.report import _search_table
    from ui.search import attach_kept_search

    bt = pd.DataFrame({"series": ["a"] * 2, "date": pd.date_range("2025-01-01", periods=2), "y": [10.0] * 2,
                       "scale": [1.0] * 2, **_quantiles("nn", 12.0), **_quantiles("seasonal_naive", 8.0),
                       **_quantiles("moving_average", 9.0)})
    run = SimpleNamespace(backtest=bt, holiday_col=None)
    label = "Ensemble: Keras network's forecast averaged with seasonal naive"
    section = {"budget_seconds": 60.0, "seconds": 59.0, "trials_run": 3, "trials_complete": 2, "trials_pruned": 1,
               "best_trial": 0, "selected_trial": 0, "metric_label": "validation MAE of P50",
               "best_validation_score": 1.0, "recipe_validation_score": 1.0, "seed": 0}
    search = SimpleNamespace(result=SimpleNamespace(to_dict=lambda: dict(section)),
                             ensemble={"use": True, "baseline": "seasonal_naive", "weight": 0.5, "label": label})
    st.session_state["demand.search"] = (run, search)
    try:
        summary = attach_kept_search("demand.", run, {})
        assert attach_kept_search("demand.", SimpleNamespace(), {}) == {}  # another run: nothing attached
    finally:
        del st.session_state["demand.search"]
    assert summary["search"]["ensemble"]["test_metrics"]["mae"] == 0.0
    assert summary["params"]["search"]["ensemble"] == label
    import html

    assert f"<th>Ensemble</th><td>{html.escape(label)}</td>" in _search_table(summary["search"])

"""With a saved blend the warnings below the Backtest tiles, the trust flags and the charts (error by horizon
step, error by series, a series' backtest) describe the blend and name it; the network's own figures stay as
a labelled trace or row ("network alone", "Keras quantile network"). Without a blend: the network, as before."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tests.demand.test_saved_blend import W, _blended

METHODS = ["Keras quantile network", "Seasonal naive", "Moving average"]


def _table_run(net: dict, blend_metrics: dict | None):
    metrics = pd.DataFrame({"bias_pct": [net["bias_pct"], -1.0, 2.5], "coverage_p10_p90": [net["coverage_p10_p90"], 80.0, 82.0]},
                           index=METHODS)
    blend = None if blend_metrics is None else {"label": "Ensemble: the network averaged with seasonal naive",
                                                "test_metrics": blend_metrics}
    return SimpleNamespace(metrics=metrics, blend=blend)


def test_warnings_describe_the_saved_blend_and_name_it():
    from core.demand.verdict import demand_warnings, saved_warnings

    # The network alone is fine; the saved blend over-forecasts most and its interval is too narrow.
    run = _table_run({"bias_pct": 0.5, "coverage_p10_p90": 80.0}, {"bias_pct": 6.0, "coverage_p10_p90": 55.0})
    notes = saved_warnings(run)
    assert len(notes) == 2
    assert notes[0].startswith("The recommended blend has the largest bias of all methods: it over-forecasts by 6.0 %")
    assert "(the network alone +0.5 %, seasonal naive -1.0 %, moving average +2.5 %)" in notes[0]
    assert notes[1].startswith("The recommended blend's P10–P90 interval holds 55 % of the actuals")
    assert demand_warnings(run.metrics) == []  # the network's own row alone says nothing is wrong
    # The network alone is biased and too narrow, the saved blend is not: no warning about the saved forecast.
    fixed = _table_run({"bias_pct": 6.0, "coverage_p10_p90": 55.0}, {"bias_pct": 0.5, "coverage_p10_p90": 79.0})
    assert saved_warnings(fixed) == []


def test_warnings_without_a_blend_are_the_networks_as_before():
    from core.demand.verdict import saved_warnings

    notes = saved_warnings(_table_run({"bias_pct": -6.0, "coverage_p10_p90": 95.0}, None))
    assert notes[0].startswith("The network has the largest bias of all methods: it under-forecasts by 6.0 % on the "
                               "backtest (seasonal naive -1.0 %, moving average +2.5 %)")
    assert notes[1].startswith("The network's P10–P90 interval holds 95 %") and "too wide" in notes[1]


def _trust_run(blend_mase: float | None, *, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    y = 100 + 20 * np.sin(np.arange(n) / 3)
    nn = y + rng.normal(scale=2.0, size=n)
    bt = pd.DataFrame({"y": y, "nn_p10": nn - 5, "nn_p50": nn, "nn_p90": nn + 5,
                       "seasonal_naive_p50": y + rng.normal(scale=4.0, size=n),
                       "moving_average_p50": y + rng.normal(scale=12.0, size=n)})
    metrics = pd.DataFrame({"mase": [0.8, 1.0, 1.4]}, index=METHODS)
    blend = None if blend_mase is None else {"baseline": "seasonal_naive", "weight": 0.5, "label": "Ensemble",
                                             "test_metrics": {"mase": blend_mase}}
    return SimpleNamespace(backtest=bt, metrics=metrics, holiday_col=None, blend=blend)


def test_trust_flags_read_and_name_the_saved_blend():
    from core.demand.trust import demand_trust

    flagged = demand_trust(_trust_run(0.05))  # the network's own MASE (0.8) is ordinary; the saved blend's is not
    assert [f.kind for f in flagged.flags] == ["too_good"]
    assert flagged.flags[0].why.startswith("The recommended blend's MASE of 0.05")
    assert demand_trust(_trust_run(None)).trusted  # the network saved: its 0.8, as before
    assert demand_trust(_trust_run(0.8)).trusted


def _steps(fig):
    return {t.name: list(t.y) for t in fig.data}


def test_error_by_step_draws_the_saved_blend_and_keeps_the_network_labelled(small_run):
    from core.demand.blend import saved_backtest, saved_row_name
    from core.demand.charts import plot_error_by_step

    run, rec = _blended(small_run)
    bt, prefix, _ = saved_backtest(run)
    fig = plot_error_by_step(bt, prefix=prefix, model=saved_row_name(run))
    names = [t.name for t in fig.data]
    assert names == [f"Recommended: {rec['label']}", "Keras network alone", "Seasonal naive", "Moving average"]
    # The saved forecast's error, computed here from its rule: w · network + (1 − w) · seasonal naive.
    b = small_run.backtest
    p50 = W * b["nn_p50"] + (1 - W) * b["seasonal_naive_p50"]
    expect = (p50.clip(lower=0) - b["y"]).abs().groupby(b["step"]).mean()
    steps = _steps(fig)
    assert steps[names[0]] == pytest.approx(list(expect))
    assert steps["Keras network alone"] == pytest.approx(list((b["nn_p50"] - b["y"]).abs().groupby(b["step"]).mean()))
    assert steps[names[0]] != pytest.approx(steps["Keras network alone"])
    net = plot_error_by_step(small_run.backtest)  # the network saved: unchanged
    assert [t.name for t in net.data] == ["Keras network", "Seasonal naive", "Moving average"]
    assert _steps(net)["Keras network"] == pytest.approx(steps["Keras network alone"])


def test_error_by_series_puts_the_saved_blend_first_and_labels_the_network(small_run):
    from core.demand.blend import saved_per_series
    from core.demand.charts import plot_error_by_series

    run, rec = _blended(small_run)
    per = saved_per_series(run)
    methods = list(dict.fromkeys(per["method"]))
    assert methods == [f"Recommended: {rec['label']}", *METHODS]
    b = small_run.backtest
    p50 = (W * b["nn_p50"] + (1 - W) * b["seasonal_naive_p50"]).clip(lower=0)
    wape = ((p50 - b["y"]).abs().groupby(b["series"]).sum() / b["y"].abs().groupby(b["series"]).sum() * 100)
    mine = per[per["method"] == methods[0]].set_index("series")["wape"]
    assert mine.to_dict() == pytest.approx(wape.to_dict())
    fig = plot_error_by_series(per, "wape")
    assert [t.name for t in fig.data] == methods
    assert fig.data[0].marker.color != fig.data[1].marker.color  # the network alone drawn apart from the blend
    assert saved_per_series(small_run) is small_run.per_series  # the network saved: unchanged


def test_series_chart_draws_the_saved_blends_backtest_and_the_network_alone(small_run):
    from core.demand.blend import saved_backtest
    from core.demand.charts import plot_forecast
    from core.demand.forecast import get_history

    run, _ = _blended(small_run)
    sid = run.series_ids[0]
    bt, prefix, model = saved_backtest(run)
    fig = plot_forecast(get_history(run, sid), bt, run.future, sid, prefix=prefix, model=model)
    traces = {t.name: t for t in fig.data if t.showlegend is not False}
    mine = bt[bt["series"] == sid]
    assert list(traces["P50 (backtest, recommended blend)"].y) == pytest.approx(list(mine["ensemble_p50"][:len(
        traces["P50 (backtest, recommended blend)"].y)]))
    assert list(traces["P50 (backtest, network alone)"].y) == pytest.approx(list(mine["nn_p50"][:len(
        traces["P50 (backtest, network alone)"].y)]))
    assert "P50 (forecast, recommended blend)" in traces and "P50 (backtest)" not in traces
    net = plot_forecast(get_history(small_run, sid), small_run.backtest, small_run.future, sid)
    names = {t.name for t in net.data}
    assert {"P50 (backtest)", "P50 (forecast)"} <= names and not any("network alone" in n for n in names)
    assert json.loads(fig.to_json())  # draws

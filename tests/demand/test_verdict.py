"""The demand verdict against the best baseline and the bias / coverage warnings."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core.demand.verdict import compare_demand, demand_warnings


def _run(nn_noise, naive_noise, holiday=None, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.uniform(50, 150, 2000)
    bt = pd.DataFrame({"y": y, "nn_p50": y + rng.normal(0, nn_noise, len(y)),
                       "seasonal_naive_p50": y + rng.normal(0, naive_noise, len(y)),
                       "moving_average_p50": y + rng.normal(0, naive_noise * 2, len(y))})
    if holiday is not None:
        bt["holiday"] = holiday
    return SimpleNamespace(backtest=bt, holiday_col="IsHoliday" if holiday is not None else None)


def test_better_network_is_better_and_compared_with_the_best_baseline():
    v = compare_demand(_run(5, 10))
    assert v.outcome == "better" and v.baseline == "seasonal naive" and v.metric == "MAE"
    assert v.value < v.baseline_value and v.high < 0


def test_equal_errors_are_on_par_and_holidays_weigh_five():
    run = _run(10, 10, holiday=(np.arange(2000) % 20 == 0).astype(float))
    v = compare_demand(run)
    assert v.metric == "holiday-weighted MAE" and v.outcome == "on par"
    bt = run.backtest
    w = np.where(bt["holiday"] > 0.5, 5, 1)
    assert v.value == pytest.approx(np.average((bt["nn_p50"] - bt["y"]).abs(), weights=w))


def test_warnings_for_worst_bias_and_missed_coverage():
    metrics = pd.DataFrame({"bias_pct": [6.0, -1.0, 2.5], "coverage_p10_p90": [55.0, 80.0, 82.0]},
                           index=["Keras quantile network", "Seasonal naive", "Moving average"])
    notes = demand_warnings(metrics)
    assert len(notes) == 2
    assert notes[0].startswith("The network has the largest bias of all methods: it over-forecasts by 6.0 %")
    assert "55 % of the actuals" in notes[1] and "too narrow" in notes[1]
    fine = metrics.assign(bias_pct=[0.5, -1.0, 2.5], coverage_p10_p90=[80.0, 80.0, 80.0])
    assert demand_warnings(fine) == []

"""Exact expectations on tiny series: metrics, baselines, windows, quantile helpers, inventory."""

import math

import numpy as np
import pandas as pd
import pytest

from core.demand import baselines as bl
from core.demand.data import ColumnMap, load_sales
from core.demand.features import make_config, make_windows, series_arrays, covariate_scales, to_units
from core.demand.fmetrics import compute_forecast_metrics
from core.demand.inventory import (PolicyParams, Z_WIDTH, check_params, loss_function, policy_from_point,
                                   policy_from_quantiles, realized_cost)
from core.demand.model import apply_spread, calibrate_spread, pinball_numpy
from core.errors import DataValidationError


def test_forecast_metrics_exact():
    m = compute_forecast_metrics([0, 2, 4], [1, 2, 2], [0, 1, 4.5], [2, 3, 5], scale=2.0)
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(math.sqrt(5 / 3))
    # A zero actual makes MAPE meaningless: it is withheld, and the near-zero period counted.
    assert math.isnan(m["mape"]) and m["near_zero_actuals"] == 1
    assert m["smape"] == pytest.approx((2 + 0 + 4 / 6) / 3 * 100)
    assert m["wape"] == pytest.approx(50.0)
    assert m["bias"] == pytest.approx(-1 / 3) and m["bias_pct"] == pytest.approx(-100 / 6)
    assert m["coverage_p10_p90"] == pytest.approx(200 / 3)
    assert m["mase"] == pytest.approx(0.5)


def test_mape_given_only_when_no_actual_is_near_zero():
    m = compute_forecast_metrics([10, 20, 30], [11, 18, 30])
    assert m["mape"] == pytest.approx((0.1 + 0.1 + 0) / 3 * 100) and m["near_zero_actuals"] == 0
    # 1.0 is at most 10 % of this series' mean (13.75): its 1,100 % error would dominate MAPE.
    m = compute_forecast_metrics([10, 20, 1.0, 24], [11, 18, 12, 24])
    assert math.isnan(m["mape"]) and m["near_zero_actuals"] == 1
    assert m["wape"] == pytest.approx(14 / 55 * 100)
    # The same 1.0 on a series of about the same size is not near zero.
    assert compute_forecast_metrics([2, 3, 1.0], [2, 3, 1.1])["mape"] == pytest.approx(10 / 3)


def test_near_zero_is_judged_against_each_series_scale():
    from core.demand.fmetrics import compute_metrics_table, compute_per_series

    rows = pd.DataFrame({"series": ["big"] * 3 + ["small"] * 3, "y": [1000.0, 900.0, 50.0, 5.0, 4.0, 6.0],
                         "scale": 1.0})
    for c in ("p10", "p50", "p90"):
        rows[f"m_{c}"] = rows["y"] * 1.1
    table = compute_metrics_table(rows, {"m": "model"})
    # 50 is 5.3 % of the big series' mean; 4.0 is 80 % of the small series' mean.
    assert math.isnan(table.loc["model", "mape"]) and table.loc["model", "near_zero_actuals"] == 1
    per = compute_per_series(rows, "m").set_index("series")
    assert math.isnan(per.loc["big", "mape"]) and per.loc["small", "mape"] == pytest.approx(10.0)
    assert list(table.columns[:2]) == ["wape", "mase"]  # the headline metrics come first


def test_clean_metrics_lead_with_wape_and_mase():
    from core.demand.fmetrics import clean_metrics, mape_note

    m = compute_forecast_metrics([0, 2, 4], [1, 2, 2], scale=2.0)
    out = clean_metrics({"relmae_snaive": 0.5, **m})
    assert list(out)[:2] == ["wape", "mase"] and out["mape"] is None
    assert mape_note(m) == ("MAPE not shown: 1 of 3 actuals are near zero (at most 10% of their series' mean), "
                            "where a percentage error explodes; read WAPE and MASE.")
    assert mape_note(compute_forecast_metrics([1, 2], [1, 2])) is None


def test_metrics_safe_with_all_zero_demand():
    m = compute_forecast_metrics([0, 0], [0, 0])
    assert m["smape"] == 0.0 and math.isnan(m["mape"]) and math.isnan(m["wape"]) and math.isnan(m["mase"])


def test_seasonal_naive_and_moving_average():
    y = np.array([1, 2, 3, 4, 5, 6], dtype=float)
    assert list(bl.seasonal_naive(y, 5, 4, 3)) == [4, 5, 6, 4]
    assert list(bl.moving_average(y, 5, 2, 3)) == [5, 5]
    assert list(bl.in_sample_errors(y, 6, "seasonal_naive", 3)) == [3, 3, 3]
    assert list(bl.in_sample_errors(y, 6, "moving_average", 3)) == [2, 2, 2]
    assert bl.mase_scale(y, 6, 3) == 3.0
    assert math.isnan(bl.mase_scale(np.ones(10), 10, 3))


def test_baseline_quantiles_widen_with_seasons_back():
    y = np.arange(12, dtype=float)
    q = bl.baseline_quantiles("seasonal_naive", y, 11, 6, 3, np.array([-1.0, 1.0]))
    q10, q90 = np.quantile([-1, 1], 0.1), np.quantile([-1, 1], 0.9)
    assert q[0, 1] == 9 and q[0, 0] == pytest.approx(9 + q10) and q[3, 2] == pytest.approx(9 + q90 * math.sqrt(2))


def tiny_sales(n=60, **extra):
    dates = pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    df = pd.DataFrame({"date": dates, "units": np.arange(n) % 7 + 1, **extra})
    return load_sales(df, ColumnMap("date", "units"))


def test_windows_reference_is_the_seasonal_naive_forecast():
    s = tiny_sales(promo=[0, 1] * 30)
    cfg = make_config(s, 7)
    assert (cfg.input_len, cfg.version, cfg.calendar) == (28, 2, True)  # daily windows are at least four weeks
    arrs = series_arrays(s, cfg, covariate_scales(s, cfg, {"all": 50}))
    w = make_windows(arrs, cfg, {"all": np.array([40])})
    # History: 28 lags, 28 past promo flags, level change, its flag, moving average, level / 5.
    assert w.hist.shape == (1, 28 * 2 + 4)
    # Future: 9 calendar, promo, position x2, then reference known, aligned, smoothed, week before / after, naive.
    assert w.fut.shape == (1, 7, 9 + 1 + 2 + 6)
    y = arrs["all"].y
    naive = bl.seasonal_naive(y, 40, 7, 7)
    np.testing.assert_allclose(to_units(w.ref[..., 0], w.level)[0], naive, rtol=1e-5)  # daily: no holiday shift
    np.testing.assert_allclose(to_units(w.fut[..., -1], w.level)[0], naive, rtol=1e-5)
    np.testing.assert_allclose(to_units(w.hist[:, -2:-1], w.level)[0, 0], bl.moving_average(y, 40, 1, 7)[0], rtol=1e-5)
    np.testing.assert_allclose(to_units(w.target, w.level)[0], y[41:48], rtol=1e-5)
    assert w.fut[0, :, 9].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]  # promo on the forecast days


def test_windows_saved_before_keep_their_inputs():
    """A run saved with version 1 windows (references inside the window) still forecasts as trained."""
    from core.demand.features import WindowConfig

    s = tiny_sales(promo=[0, 1] * 30)
    cfg = WindowConfig.from_dict({"input_len": 28, "horizon": 7, "season": 7, "frequency": "daily",
                                  "covariates": ["promo"], "binary": ["promo"], "groups": [], "past": ["promo"],
                                  "window_relative": True})
    assert cfg.version == 1
    arrs = series_arrays(s, cfg, covariate_scales(s, cfg, {"all": 50}))
    assert arrs["all"].lags is None and arrs["all"].smooth is None
    w = make_windows(arrs, cfg, {"all": np.array([40])})
    assert w.hist.shape == (1, 28 * 2 + 1) and w.fut.shape == (1, 7, 9 + 1 + 2 + 1) and w.weight is None
    np.testing.assert_allclose(to_units(w.ref[..., 0], w.level)[0], bl.seasonal_naive(arrs["all"].y, 40, 7, 7),
                               rtol=1e-5)


def test_future_binary_covariates_assumed_off():
    s = tiny_sales(promo=[1] * 60)
    cfg = make_config(s, 7)
    a = series_arrays(s, cfg, covariate_scales(s, cfg, {"all": 60}))["all"]
    assert len(a.dates) == 67 and a.cov[59, 0] == 1.0 and a.cov[60:, 0].tolist() == [0.0] * 7


def test_make_config_errors():
    s = tiny_sales()
    with pytest.raises(DataValidationError, match="Horizon must be a whole number of periods between 1 and 120; got 0"):
        make_config(s, 0)
    with pytest.raises(DataValidationError, match="Input window must be between 1 and 1000 periods; got 0"):
        make_config(s, 10, input_len=0)


def test_pinball_and_interval_calibration():
    assert pinball_numpy(np.array([1.0]), np.array([[0.0, 1.0, 2.0]])) == pytest.approx(0.2 / 3)
    qz = np.tile([-1.0, 0.0, 1.0], (10, 1))
    t = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 2.0, -3.0])
    f = calibrate_spread(qz, t, 0.8)
    assert f == pytest.approx(np.quantile(np.abs(t), 0.8))
    np.testing.assert_allclose(apply_spread(qz, 2.0)[0], [-2, 0, 2])


def test_policy_from_quantiles_exact():
    p = PolicyParams(service_level=0.95, lead_time=1, review_period=1, holding_cost=0.5, stockout_cost=4.0)
    q = np.array([[10 - Z_WIDTH / 2, 10, 10 + Z_WIDTH / 2]] * 4)  # sigma 1 per period
    r = policy_from_quantiles(q, p)
    z = 1.6448536
    assert r["demand_protection"] == pytest.approx(20)
    assert r["sigma_protection"] == pytest.approx(math.sqrt(2))
    assert r["safety_stock"] == pytest.approx(z * math.sqrt(2), rel=1e-5)
    assert r["reorder_point"] == pytest.approx(20 + z * math.sqrt(2), rel=1e-5)
    short = math.sqrt(2) * loss_function(z)
    assert r["expected_cost"] == pytest.approx(0.5 * (z * math.sqrt(2) + 10 / 2) + 4.0 * short, rel=1e-5)
    assert loss_function(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))


def test_naive_policy_and_realized_cost():
    p = PolicyParams(service_level=0.5, lead_time=2, review_period=2, holding_cost=1.0, stockout_cost=3.0)
    r = policy_from_point(np.array([5.0, 5, 5, 5, 9]), 2.0, p)
    assert r["demand_protection"] == 20 and r["sigma_protection"] == pytest.approx(4.0)
    assert r["safety_stock"] == pytest.approx(0.0, abs=1e-6)
    assert realized_cost(10, np.array([4, 3, 0, 0, 100]), p) == {
        "actual_demand": 7.0, "short": 0.0, "leftover": 3.0, "realized_cost": 1.5, "stocked_out": False}
    assert realized_cost(5, np.array([4, 3, 1, 0]), p)["realized_cost"] == pytest.approx(3 * 3 / 2)


@pytest.mark.parametrize("kw,msg", [
    ({"service_level": 1.0}, "Service level must be at least 0.5 and below 1"),
    ({"review_period": 0}, "Lead time must be >= 0 and review period >= 1 period"),
    ({"lead_time": 6, "review_period": 3}, r"Lead time \+ review period \(9 periods\) must fit in the forecast horizon \(7\)"),
    ({"holding_cost": -1.0}, "Costs must not be negative"),
])
def test_policy_errors(kw, msg):
    with pytest.raises(DataValidationError, match=msg):
        check_params(PolicyParams(**{"lead_time": 1, "review_period": 1, **kw}), 7)


def test_weekly_windows_read_the_reference_a_year_back_aligned_on_easter():
    dates = pd.date_range("2022-01-02", periods=120, freq="W-SUN")
    s = load_sales(pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "units": np.arange(120) % 52 + 1}),
                   ColumnMap("date", "units"))
    cfg = make_config(s, 8)
    # A quarter of recent history; the season's reference comes from the whole history.
    assert (s.frequency, s.freq, cfg.input_len, cfg.calendar) == ("weekly", "W-SUN", 13, False)
    arrs = series_arrays(s, cfg, covariate_scales(s, cfg, {"all": 100}))
    a = arrs["all"]
    w = make_windows(arrs, cfg, {"all": np.array([60, 63])})
    assert w.fut.shape == (2, 8, 2 + 6)  # position x2 and the six reference inputs; no calendar
    for i, T in enumerate((60, 63)):
        np.testing.assert_allclose(to_units(w.fut[i, :, -1], w.level[i]), bl.seasonal_naive(a.y, T, 8, 52), rtol=1e-5)
        lags = a.lags[T + 1:T + 9]
        np.testing.assert_allclose(to_units(w.ref[i, :, 0], w.level[i]), a.y[np.arange(T + 1, T + 9) - lags], rtol=1e-5)
    # Easter Sunday 2023 (9 April) is 52 weeks after 10 April 2022, a week after Easter 2022 (17 April):
    # the reference of Easter 2023 is Easter 2022, and the week 52 weeks after Easter 2022 avoids it.
    easter = dates.get_loc(pd.Timestamp("2023-04-09"))
    assert a.lags[easter] == 51 and a.lags[dates.get_loc(pd.Timestamp("2023-04-16"))] == 53


def test_aggregate_scale_measures_error_correlation():
    from core.demand.inventory import aggregate_scale

    q = np.tile([[-Z_WIDTH / 2, 0.0, Z_WIDTH / 2]], (2, 2, 1))  # P50 0, sigma 1 per period
    together = np.array([[1.0, 1.0], [-1.0, -1.0]])  # errors move together: sum spread is sqrt(2) x wider
    assert aggregate_scale(together, q, 2) == pytest.approx(math.sqrt(2))
    assert aggregate_scale(np.array([[1.0, -1.0], [-1.0, 1.0]]), q, 2) == 0.5  # cancel out: clipped floor
    assert aggregate_scale(together, q, 1) == pytest.approx(1.0)


def test_auc_interval_is_seeded_and_separates_skill_from_chance():
    from core.demand.events import compute_auc_interval

    rng = np.random.default_rng(3)
    y = rng.random(2000) < 0.1
    assert compute_auc_interval(y, y + 0.0) == (1.0, 1.0)  # perfect ranking
    noise = rng.random(2000)
    lo, hi = compute_auc_interval(y, noise, seed=1)
    assert lo < 0.5 < hi and hi - lo < 0.15
    assert compute_auc_interval(y, noise, seed=1) == (lo, hi) != compute_auc_interval(y, noise, seed=2)
    assert all(math.isnan(v) for v in compute_auc_interval(np.zeros(5), np.arange(5.0)))
    # Some skill, with tied scores: the interval brackets the rank-based ROC-AUC and excludes chance.
    skill = np.round(noise + 0.3 * y, 1)
    pos, neg = skill[y], skill[~y]
    auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    lo, hi = compute_auc_interval(y, skill, seed=0)
    assert 0.5 < lo < auc < hi < 1


def test_event_metrics_label_a_chance_classifier():
    from core.demand.events import EventConfig, EventRun, compute_event_metrics, event_note

    rng = np.random.default_rng(0)
    event = (rng.random(300) < 0.1).astype(int)
    test = pd.DataFrame({"series": "a", "date": pd.Timestamp("2024-01-01"), "y": 1.0, "level": 1.0, "event": event,
                         "p_classifier": rng.random(300), "p_quantile": 0.2 + 0.6 * event})
    ev = EventRun(EventConfig(seed=0), {}, test, {}, {}, {})
    m = compute_event_metrics(ev, 0.5)
    clf, q = m.loc["Event classifier"], m.loc["Quantile forecast"]
    # The interval is worked out once per run and kept: moving the alert threshold does not redo it.
    assert set(ev.auc_intervals) == {"p_classifier", "p_quantile"}
    other = compute_event_metrics(ev, 0.3)
    assert other["roc_auc_low"].equals(m["roc_auc_low"]) and not other["recall"].equals(m["recall"])
    assert clf["verdict"] == "no better than chance" and clf["roc_auc_low"] < 0.5 < clf["roc_auc_high"]
    assert q["verdict"] == "better than chance" and q["roc_auc_low"] == 1.0
    assert event_note("Event classifier", clf).startswith(
        f"Event classifier: ROC-AUC {clf['roc_auc']:.2f} (95 % interval {clf['roc_auc_low']:.2f}–")
    assert "is no better than chance; its alerts, precision, recall and F1 say nothing" in event_note("x", clf)
    assert event_note("Quantile forecast", q) is None


@pytest.mark.parametrize("days,freq,periods", [(7, "daily", 7), (7, "weekly", 1), (10, "weekly", 2), (14, "weekly", 2),
                                               (7, "monthly", 1), (0, "weekly", 0), (61, "monthly", 3)])
def test_days_convert_to_whole_periods_rounded_up(days, freq, periods):
    from core.demand.inventory import periods_from_days

    assert periods_from_days(days, freq) == periods


def test_default_policy_is_set_in_days_and_fits_the_horizon():
    from core.demand.inventory import default_policy, describe_params

    p, notes = default_policy("weekly", 39)
    assert (p.lead_time, p.review_period, notes) == (1, 1, [])
    assert describe_params(p, "weekly") == {
        "lead_time": {"periods": 1, "unit": "week", "days": 7.0},
        "review_period": {"periods": 1, "unit": "week", "days": 7.0},
        "text": "lead time 1 week (~7 days), review every 1 week (~7 days)"}
    monthly, _ = default_policy("monthly", 12)
    assert describe_params(monthly, "monthly")["text"] == "lead time 1 month (~30 days), review every 1 month (~30 days)"
    assert describe_params(monthly, "monthly")["lead_time"]["days"] == 30.4
    p, notes = default_policy("daily", 28, lead_time_days=3, review_days=7, holding_cost=0.5)
    assert (p.lead_time, p.review_period, p.holding_cost, notes) == (3, 7, 0.5, [])
    p, notes = default_policy("daily", 7)
    assert (p.lead_time, p.review_period) == (6, 1)
    assert notes == ["Lead time 7 + review period 7 days do not fit in the 7-day horizon: shortened to 6 + 1. "
                     "Train with a longer horizon to plan the full lead time."]
    with pytest.raises(DataValidationError, match="Lead time and review period must be zero or more days; got -2"):
        default_policy("weekly", 8, lead_time_days=-2)
    with pytest.raises(DataValidationError, match=r"Frequency must be one of \['daily', 'weekly', 'monthly'\]"):
        default_policy("hourly", 8)


def _policy_bt(stock, naive_stock, short, naive_short):
    n = len(short)
    return pd.DataFrame({"series": "a", "origin": range(n), "actual_demand": 10.0, "reorder_point": stock / n,
                         "cost": 1.0, "stocked_out": short, "naive_reorder_point": naive_stock / n,
                         "naive_cost": 2.0, "naive_stocked_out": naive_short})


def test_policy_summary_says_why_the_network_holds_more_stock():
    from core.demand.inventory import summarize_policy

    s = summarize_policy(_policy_bt(120.0, 100.0, [False, False, False, True], [True, True, False, True]),
                         PolicyParams(service_level=0.95))
    assert (s["cycles"], s["stockouts_model"], s["stockouts_naive"]) == (4, 1, 3)
    assert s["extra_stock_pct"] == pytest.approx(20.0)
    assert s["explanation"] == (
        "The network's policy holds 20% more stock than the naive one to avoid stock-outs: 1 of 4 replenishment "
        "cycles ran short against 3 for the naive policy (2 avoided); 75% of cycles without a stock-out against "
        "a 95% target (naive 25%); backtest cost 4.0 vs 8.0.")
    # With the page's currency the costs read as money.
    s = summarize_policy(_policy_bt(120.0, 100.0, [False, False, False, True], [True, True, False, True]),
                         PolicyParams(service_level=0.95), currency="USD")
    assert s["explanation"].endswith("backtest cost $4 vs $8.")
    s = summarize_policy(_policy_bt(150.0, 100.0, [True, False], [True, False]))
    assert s["explanation"].startswith("The network's policy holds 50% more stock than the naive one without "
                                       "avoiding stock-outs (1 vs 1 of 2 cycles short)")
    assert "compare the costs, or lower the service level" in s["explanation"]
    s = summarize_policy(_policy_bt(80.0, 100.0, [True, False], [False, False]))
    assert s["explanation"].startswith("The network's policy holds 20% less stock than the naive one, with 1 vs 0")

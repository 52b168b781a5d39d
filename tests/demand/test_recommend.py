"""The recommended demand forecast replaces the network only when its gain on the validation periods
is outside the noise (a paired bootstrap redrawing whole series and whole periods): a blend or a
baseline that wins by one lucky week, or one lucky series, leaves the network saved, with a note."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from core.demand.recommend import recommend_forecast, validation_noise


def _grid(n_series=40, n_periods=12):
    s, p = np.meshgrid(np.arange(n_series), np.arange(n_periods), indexing="ij")
    return s.ravel(), p.ravel()


def test_a_gain_in_every_series_and_period_is_outside_the_noise():
    s, p = _grid()
    rng = np.random.default_rng(0)
    err_nn = 10 + rng.random(s.size)
    noise = validation_noise(err_nn, err_nn - 1.0, np.ones(s.size), s, p)
    assert noise["difference"] == pytest.approx(-1.0)
    assert noise["high"] < 0 and noise["outside"]
    assert (noise["series"], noise["periods"]) == (40, 12)


def test_a_gain_from_one_period_only_is_inside_the_noise():
    s, p = _grid()
    err_nn = np.full(s.size, 10.0)
    other = np.where(p == 3, 0.0, 10.0)  # far better in one week, the same in the eleven others
    noise = validation_noise(err_nn, other, np.ones(s.size), s, p)
    assert noise["difference"] < 0  # the plain comparison would pick it
    assert noise["low"] < 0 <= noise["high"] and not noise["outside"]


def test_a_gain_from_one_series_only_is_inside_the_noise():
    s, p = _grid()
    err_nn = np.full(s.size, 10.0)
    other = np.where(s == 7, 0.0, 10.0)
    assert not validation_noise(err_nn, other, np.ones(s.size), s, p)["outside"]


def test_the_weights_count_and_masked_targets_do_not():
    s, p = _grid(10, 4)
    err_nn = np.full(s.size, 5.0)
    other = np.where(p == 0, 0.0, 5.0)
    w = np.where(p == 0, 0.0, 1.0)  # the only period where the other wins is masked
    noise = validation_noise(err_nn, other, w, s, p)
    assert noise["difference"] == 0 and not noise["outside"] and noise["periods"] == 3


def test_the_interval_is_the_same_every_time():
    s, p = _grid()
    rng = np.random.default_rng(1)
    a, b = rng.random(s.size), rng.random(s.size)
    assert validation_noise(a, b, np.ones(s.size), s, p) == validation_noise(a, b, np.ones(s.size), s, p)


def _made_up_run(n=30, h=10):
    """Validation windows with each window its own series and each step its own period (no series ids)."""
    import pandas as pd

    from core.demand.recommend import NAMES

    y = np.full((n, h), 100.0)
    net = y + 10.0
    ma = np.where(np.arange(h) == 0, 100.0, 110.0) * np.ones((n, 1))  # far better in one period only
    sn = y + 9.5  # a little better everywhere
    metrics = pd.DataFrame({"wmae": [1.0, 2.0, 3.0], "mae": [1.0, 2.0, 3.0]}, index=list(NAMES.values()))
    return SimpleNamespace(val_actual=y, val_quantiles=np.stack([net - 5, net, net + 5], axis=2),
                           val_weight=np.ones((n, h)), val_baselines={"seasonal_naive": sn, "moving_average": ma},
                           val_sid=None, val_origin=None, holiday_col=None, metrics=metrics)


def test_the_lowest_gain_outside_the_noise_wins_over_a_lower_one_inside_it():
    rec = recommend_forecast(_made_up_run())
    assert rec["lowest"]["candidate"] == "moving_average"  # 9.0 against 9.5: the plain comparison's pick
    checked = {c["label"]: c for c in rec["candidates_checked"]}
    assert not checked["Moving average"]["outside"] and checked["Seasonal naive"]["outside"]
    assert rec["choice"] == "seasonal_naive" and rec["noise"]["challenger"] == "seasonal_naive"
    assert rec["validation_scores"]["seasonal_naive"] == pytest.approx(9.5)


def _with_network(run, p50):
    run = copy.copy(run)
    q = np.array(run.val_quantiles, dtype=float)
    shift = p50 - q[..., 1]
    run.val_quantiles = q + shift[..., None]
    return run


def test_a_blend_better_everywhere_on_validation_is_recommended(small_run):
    y = np.nan_to_num(np.asarray(small_run.val_actual, dtype=float))
    sn = np.asarray(small_run.val_baselines["seasonal_naive"], dtype=float)
    run = _with_network(small_run, y + 2.0 * (y - sn))  # the blend with seasonal naive cancels most of its error
    rec = recommend_forecast(run)
    assert rec["choice"] == "ensemble" and rec["baseline"] == "seasonal_naive"
    assert rec["noise"]["outside"] and rec["noise"]["challenger"] == "ensemble"
    assert rec["noise"]["series"] == len(set(np.asarray(small_run.val_sid)))
    assert rec["test_metrics"]["wmae"] > 0 and "noise_note" not in rec


def test_a_baseline_that_wins_by_one_period_leaves_the_network(small_run):
    from core.demand.blend import apply_recommendation, recommended_text

    y = np.nan_to_num(np.asarray(small_run.val_actual, dtype=float))
    w = np.asarray(small_run.val_weight)
    # the network as the best baseline on validation, but worse in one period
    best = min(small_run.val_baselines, key=lambda k: (w * np.abs(small_run.val_baselines[k] - y)).sum())
    sn = np.asarray(small_run.val_baselines[best], dtype=float)
    step = np.asarray(small_run.val_origin)[:, None] + 1 + np.arange(y.shape[1])[None, :]
    one = step == step[w > 0].max()  # the last validation period of the series
    run = _with_network(small_run, np.where(one, sn + 50.0, sn))
    rec = recommend_forecast(run)
    assert rec["validation_scores"][best] < rec["validation_scores"]["network"]  # the old rule would pick it
    assert rec["noise"]["challenger"] == best and not rec["noise"]["outside"]
    assert rec["choice"] == "nn" and rec["label"] == "Keras quantile network"
    assert "inside the noise" in rec["noise_note"] and best.replace("_", " ") in rec["noise_note"].lower()
    out = apply_recommendation(copy.copy(run), rec)
    assert out["saved"] == "network"
    level, text = recommended_text(out)
    assert level == "info" and "inside the noise" in text and "the Keras quantile network, chosen on the validation" in text


def test_a_run_whose_network_is_best_on_validation_has_no_noise_check(small_run):
    y = np.nan_to_num(np.asarray(small_run.val_actual, dtype=float))
    rec = recommend_forecast(_with_network(small_run, y))  # a perfect network
    assert rec["choice"] == "nn" and rec["noise"] is None and "noise_note" not in rec


def test_windows_without_series_ids_count_as_their_own_series(small_run):
    run = copy.copy(small_run)
    run.val_sid = run.val_origin = None
    y = np.nan_to_num(np.asarray(run.val_actual, dtype=float))
    sn = np.asarray(run.val_baselines["seasonal_naive"], dtype=float)
    rec = recommend_forecast(_with_network(run, y + 2.0 * (y - sn)))
    assert rec["noise"]["series"] == int((np.asarray(run.val_weight).sum(axis=1) > 0).sum())

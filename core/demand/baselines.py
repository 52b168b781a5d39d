"""Baseline forecasts on the same origins as the model: seasonal naive and moving average.

Both get P10/P90 intervals from their own in-sample errors, so interval coverage and the
inventory policy can be compared like for like with the network.
"""

from __future__ import annotations

import math

import numpy as np

BASELINES = ("seasonal_naive", "moving_average")


def seasonal_naive(y: np.ndarray, origin: int, horizon: int, season: int) -> np.ndarray:
    """y[t+h] = y[t+h - season * ceil(h / season)]: the last observed season repeated."""
    steps = np.arange(1, horizon + 1)
    idx = origin + steps - season * np.ceil(steps / season).astype(int)
    if idx.min() < 0:
        raise ValueError("not enough history for a seasonal naive forecast")
    return np.asarray(y, dtype=float)[idx]


def moving_average(y: np.ndarray, origin: int, horizon: int, window: int) -> np.ndarray:
    """The mean of the last ``window`` observations, flat over the horizon."""
    lo = max(0, origin - window + 1)
    return np.full(horizon, float(np.mean(np.asarray(y, dtype=float)[lo:origin + 1])))


def in_sample_errors(y: np.ndarray, n_train: int, kind: str, season: int) -> np.ndarray:
    """One-step errors of a baseline over the training part of a series."""
    y = np.asarray(y, dtype=float)[:n_train]
    if kind == "seasonal_naive":
        return y[season:] - y[:-season] if len(y) > season else np.zeros(1)
    if len(y) <= season:
        return np.zeros(1)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    ma = (csum[season:-1] - csum[:-season - 1]) / season  # mean of y[t-season .. t-1]
    return y[season:] - ma


def baseline_quantiles(kind: str, y: np.ndarray, origin: int, horizon: int, season: int,
                       errors: np.ndarray) -> np.ndarray:
    """(H, 3) P10/P50/P90 for a baseline; the interval widens with the number of seasons back."""
    if kind == "seasonal_naive":
        point = seasonal_naive(y, origin, horizon, season)
        widen = np.sqrt(np.ceil(np.arange(1, horizon + 1) / season))
    elif kind == "moving_average":
        point = moving_average(y, origin, horizon, season)
        widen = np.ones(horizon)
    else:
        raise ValueError(f"unknown baseline {kind}")
    e = errors if len(errors) else np.zeros(1)
    q10, q90 = np.quantile(e, 0.1), np.quantile(e, 0.9)
    out = np.stack([point + q10 * widen, point, point + q90 * widen], axis=1)
    return np.maximum(out, 0.0)


def mase_scale(y: np.ndarray, n_train: int, season: int) -> float:
    """Mean absolute in-sample seasonal-naive error (MASE denominator); NaN if it is zero."""
    y = np.asarray(y, dtype=float)[:n_train]
    m = season if len(y) > season else 1
    if len(y) <= m:
        return math.nan
    scale = float(np.mean(np.abs(y[m:] - y[:-m])))
    return scale if scale > 0 else math.nan

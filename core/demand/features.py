"""Input windows for the global forecasting model: lags, calendar features, covariates, scaling.

Every window is scaled by its own level (mean of log1p(units) over the input window), so one model
serves slow and fast movers alike and a trend only shifts the level. Quantiles survive the
monotone log transform exactly, so P10/P50/P90 learned in log space are P10/P50/P90 in units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.demand.data import SERIES_COL, SalesData
from core.errors import DataValidationError

MAX_HORIZON = 120


@dataclass(frozen=True)
class WindowConfig:
    """Shape of the model's inputs: input window length, horizon, season and covariates."""

    input_len: int
    horizon: int
    season: int
    frequency: str
    covariates: tuple[str, ...]
    binary: tuple[str, ...]

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "WindowConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def default_input_len(season: int, horizon: int, frequency: str) -> int:
    """Long enough to hold the seasonal-naive reference for every horizon step."""
    length = season * math.ceil(horizon / season)
    return max(length, 28) if frequency == "daily" else length


def make_config(data: SalesData, horizon: int, input_len: int | None = None) -> WindowConfig:
    """Window configuration for ``data``; checks the horizon and window length."""
    if not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= MAX_HORIZON:
        raise DataValidationError(
            f"Horizon must be a whole number of periods between 1 and {MAX_HORIZON}; got {horizon}. "
            "Pick a shorter horizon."
        )
    need = data.season * math.ceil(horizon / data.season)
    L = default_input_len(data.season, int(horizon), data.frequency) if input_len is None else int(input_len)
    if L < need:
        raise DataValidationError(
            f"Input window must cover at least {need} periods for a {horizon}-period horizon "
            f"(season {data.season}); got {L}. Use a longer window or a shorter horizon."
        )
    return WindowConfig(L, int(horizon), data.season, data.frequency,
                        tuple(data.covariates), tuple(data.binary_covariates))


def calendar_features(dates: pd.DatetimeIndex, frequency: str) -> tuple[np.ndarray, list[str]]:
    """Calendar features known for any date: day of week / day of year, week of year or month."""
    dates = pd.DatetimeIndex(dates)
    if frequency == "daily":
        dow = np.eye(7)[dates.day_of_week]
        ang = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
        cols = [dow, np.sin(ang)[:, None], np.cos(ang)[:, None]]
        names = [f"day of week {i}" for i in range(7)] + ["day of year sin", "day of year cos"]
    elif frequency == "weekly":
        ang = 2 * np.pi * dates.isocalendar().week.to_numpy(dtype=float) / 52.18
        cols = [np.sin(ang)[:, None], np.cos(ang)[:, None]]
        names = ["week of year sin", "week of year cos"]
    else:
        cols = [np.eye(12)[dates.month - 1]]
        names = [f"month {i}" for i in range(1, 13)]
    return np.concatenate(cols, axis=1).astype(np.float32), names


def calendar_group(name: str) -> str:
    """SHAP group of a calendar feature name ('day of week 3' -> 'day of week')."""
    for g in ("day of week", "day of year", "week of year", "month"):
        if name.startswith(g):
            return g
    return name


@dataclass
class SeriesArrays:
    """One series as arrays, extended ``horizon`` periods past its last date for forecasting."""

    sid: str
    dates: pd.DatetimeIndex  # n + horizon dates
    y: np.ndarray  # n observed values (units)
    logy: np.ndarray  # n + horizon (NaN in the future)
    cov: np.ndarray  # (n + horizon, k) scaled covariates
    cal: np.ndarray  # (n + horizon, c)

    @property
    def n(self) -> int:
        return len(self.y)


def covariate_scales(data: SalesData, cfg: WindowConfig, train_end: dict[str, int]) -> dict[str, list[float]]:
    """Per-series mean of each non-binary covariate over its training rows (price -> relative price)."""
    scales = {}
    for sid in data.series_ids:
        g = data.series(sid).iloc[: train_end.get(sid, 0)]
        scales[sid] = [1.0 if c in cfg.binary or len(g) == 0 else float(np.abs(g[c]).mean()) or 1.0
                       for c in cfg.covariates]
    return scales


def series_arrays(data: SalesData, cfg: WindowConfig, scales: dict[str, list[float]],
                  future_cov: pd.DataFrame | None = None) -> dict[str, SeriesArrays]:
    """Arrays for every series. Future covariates come from ``future_cov`` when given, else binary
    ones (promotion, holiday) are assumed off and others (price) keep their last value."""
    out = {}
    for sid in data.series_ids:
        g = data.series(sid)
        n = len(g)
        dates = pd.date_range(g["date"].iloc[0], periods=n + cfg.horizon, freq=data.freq)
        cov = np.zeros((n + cfg.horizon, len(cfg.covariates)), dtype=np.float32)
        for j, c in enumerate(cfg.covariates):
            vals = g[c].to_numpy(dtype=float)
            tail = 0.0 if c in cfg.binary else (vals[-1] if n else 0.0)
            full = np.concatenate([vals, np.full(cfg.horizon, tail)])
            if future_cov is not None and c in future_cov:
                fut = future_cov[future_cov[SERIES_COL] == sid].set_index("date")[c]
                known = pd.Series(full, index=dates)
                known.update(fut[fut.index.isin(dates[n:])])
                full = known.to_numpy(dtype=float)
            cov[:, j] = full if c in cfg.binary else full / scales[sid][j] - 1.0
        cal, _ = calendar_features(dates, cfg.frequency)
        y = g["y"].to_numpy(dtype=float)
        logy = np.concatenate([np.log1p(y), np.full(cfg.horizon, np.nan)])
        out[sid] = SeriesArrays(sid, dates, y, logy, cov, cal)
    return out


@dataclass
class Windows:
    """Model inputs for N forecast origins (and targets when the future is known)."""

    hist: np.ndarray  # (N, L * (1 + k) + 1)
    fut: np.ndarray  # (N, H, F)
    ref: np.ndarray  # (N, H, 1) seasonal-naive reference, scaled
    level: np.ndarray  # (N,) window level, log1p space
    target: np.ndarray | None  # (N, H) scaled, or None
    sid: np.ndarray  # (N,) series id per window
    origin: np.ndarray  # (N,) index of the last observed period

    def inputs(self) -> list[np.ndarray]:
        return [self.hist, self.fut, self.ref]

    def __len__(self) -> int:
        return len(self.level)


def feature_names(cfg: WindowConfig) -> tuple[list[str], list[str]]:
    """Names of the flattened history inputs and of the per-step future inputs."""
    hist = [f"lag {cfg.input_len - i}" for i in range(cfg.input_len)]
    for c in cfg.covariates:
        hist += [f"past {c} (lag {cfg.input_len - i})" for i in range(cfg.input_len)]
    hist.append("recent level")
    _, cal = calendar_features(pd.DatetimeIndex(["2020-01-01"]), cfg.frequency)
    fut = cal + [f"{c} (forecast period)" for c in cfg.covariates] + [
        "horizon step", "seasons back", "seasonal naive reference"]
    return hist, fut


def make_windows(arrs: dict[str, SeriesArrays], cfg: WindowConfig, origins: dict[str, np.ndarray],
                 *, with_target: bool = True) -> Windows:
    """Build windows ending at ``origins[sid]`` (indices of the last observed period)."""
    L, H, m = cfg.input_len, cfg.horizon, cfg.season
    steps = np.arange(1, H + 1)
    ref_off = steps - m * np.ceil(steps / m).astype(int)
    pos = np.stack([steps / H, np.ceil(steps / m) / math.ceil(H / m)], axis=1).astype(np.float32)
    parts = {k: [] for k in ("hist", "fut", "ref", "level", "target", "sid", "origin")}
    for sid, T in origins.items():
        T = np.asarray(T, dtype=int)
        if len(T) == 0:
            continue
        a = arrs[sid]
        hidx = T[:, None] + np.arange(-L + 1, 1)
        fidx = T[:, None] + steps
        z = a.logy[hidx]
        level = z.mean(axis=1)
        zc = z - level[:, None]
        hist = [zc] + [a.cov[hidx, j] for j in range(a.cov.shape[1])] + [level[:, None] / 5.0]
        ref = a.logy[T[:, None] + ref_off] - level[:, None]
        fut = np.concatenate([a.cal[fidx], a.cov[fidx], np.broadcast_to(pos, (len(T), H, 2)),
                              ref[..., None]], axis=2)
        parts["hist"].append(np.concatenate(hist, axis=1))
        parts["fut"].append(fut)
        parts["ref"].append(ref[..., None])
        parts["level"].append(level)
        if with_target:
            parts["target"].append(a.logy[fidx] - level[:, None])
        parts["sid"].append(np.full(len(T), sid, dtype=object))
        parts["origin"].append(T)
    if not parts["level"]:
        raise DataValidationError(
            "No series has enough history to build an input window; expected at least "
            f"{L + 1} periods per series. Use a shorter horizon or upload more history."
        )
    cat = {k: np.concatenate(v) for k, v in parts.items() if v}
    f32 = {k: cat[k].astype(np.float32) for k in ("hist", "fut", "ref")}
    return Windows(f32["hist"], f32["fut"], f32["ref"], cat["level"],
                   cat["target"].astype(np.float32) if with_target else None, cat["sid"], cat["origin"])


def to_units(z: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Scaled log values back to units (never negative)."""
    shape = (-1,) + (1,) * (z.ndim - 1)
    return np.maximum(np.expm1(z + np.asarray(level).reshape(shape)), 0.0)

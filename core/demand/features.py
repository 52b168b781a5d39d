"""Input windows for the global forecasting model: lags, calendar features, covariates, scaling.

Every window is scaled by its own level (mean of log1p(units) over the input window), so one model
serves slow and fast movers alike and a trend only shifts the level.

With two or more series columns (store and department), each column is also a group: a series reads
its group's seasonal reference, the mean over the group's series of their own seasonal-naive
reference (log demand one season before the forecast period, relative to that series' level over the
input window ending at the origin). Departments share their seasonal shape across stores, so the
group mean is a far less noisy seasonal reference than the series' own value of a year ago. It uses
other series' values only up to the forecast origin's date. Quantiles survive the
monotone log transform exactly, so P10/P50/P90 learned in log space are P10/P50/P90 in units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.demand.data import SERIES_COL, SalesData
from core.demand.smoothing import low_rank_smooth, smooth_column
from core.demand.windowparts import (  # noqa: F401  (re-exported: their old home)
    Windows, calendar_features, history_covariates, horizon_steps, same_period_covariates,
)
from core.demand.windows import history_needed  # noqa: F401  (re-exported: forecast, export, serving)
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
    groups: tuple[str, ...] = ()  # series columns whose groups give a seasonal reference
    past: tuple[str, ...] | None = None  # covariates with past values in the history (None: all, as saved before)
    window_relative: bool = False  # continuous covariates of the forecast periods relative to the input window
    lagged: tuple[str, ...] = ()  # observed covariates: past values only, never read for a forecast period
    version: int = 1  # 1: references inside the window (runs saved before); 2: core.demand.windows
    smooth_by: str | None = None  # version 2: series column grouping the low-rank smoothing (core.demand.smoothing)
    calendar: bool = True  # version 2: calendar features of the forecast periods (not for weekly data)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "WindowConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def default_input_len(season: int, horizon: int, frequency: str) -> int:
    """Long enough to hold the seasonal-naive reference for every horizon step (version 1 windows)."""
    length = season * math.ceil(horizon / season)
    return max(length, 28) if frequency == "daily" else length


def default_input_len_v2(season: int, horizon: int, frequency: str) -> int:
    """Version 2 windows carry the recent level and shape only (references come from the whole history)."""
    return WINDOW_V2.get(frequency, default_input_len(season, horizon, frequency))


WINDOW_V2 = {"weekly": 13}  # a quarter; daily and monthly keep whole seasons covering the horizon


def make_config(data: SalesData, horizon: int, input_len: int | None = None) -> WindowConfig:
    """Window configuration for ``data`` (version 2); checks the horizon and window length."""
    if not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= MAX_HORIZON:
        raise DataValidationError(
            f"Horizon must be a whole number of periods between 1 and {MAX_HORIZON}; got {horizon}. "
            "Pick a shorter horizon."
        )
    L = default_input_len_v2(data.season, int(horizon), data.frequency) if input_len is None else int(input_len)
    if not 1 <= L <= MAX_WINDOW:
        raise DataValidationError(
            f"Input window must be between 1 and {MAX_WINDOW} periods; got {L}. Use a window of about one season."
        )
    lagged = tuple(c for c in data.covariates if c in getattr(data.columns, "lagged", ()))
    return WindowConfig(L, int(horizon), data.season, data.frequency, tuple(data.covariates),
                        tuple(data.binary_covariates), _group_columns(data, int(horizon)),
                        tuple(c for c in data.covariates if c in data.binary_covariates or c in lagged), True,
                        lagged, version=2,
                        smooth_by=smooth_column(data.columns.series if data.columns is not None else ()),
                        calendar=data.frequency not in NO_CALENDAR)


# Weekly references already carry the week of the year; a year or two of training targets cannot tell
# a calendar effect from that year's own shocks, so weekly windows leave the calendar out.
NO_CALENDAR = ("weekly",)
MAX_WINDOW = 1000


GROUP_BYTES = 256 * 2 ** 20  # memory for the group references (groups x periods^2 floats)


def _group_columns(data: SalesData, horizon: int) -> tuple[str, ...]:
    """The series columns that act as groups: with two or more series columns, while the group
    references fit in ``GROUP_BYTES`` (long daily histories with many groups would not)."""
    series = tuple(data.columns.series) if data.columns is not None else ()
    if len(series) < 2:
        return ()
    parts = pd.Series(data.series_ids).str.split(" / ", expand=True)
    if parts.shape[1] != len(series):
        return ()
    periods = len(pd.date_range(data.frame["date"].min(), data.frame["date"].max(), freq=data.freq)) + horizon
    n_groups = sum(parts[j].nunique() for j in range(parts.shape[1]))
    return series if n_groups * periods ** 2 * 4 <= GROUP_BYTES else ()


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
    grp: tuple = ()  # per group column: (periods x periods) group reference [period, origin] of this series' group
    offset: int = 0  # this series' first period on the grid the ``grp`` matrices are indexed by
    lags: np.ndarray | None = None  # (n + horizon,) lag of each period's seasonal reference (version 2)
    smooth: np.ndarray | None = None  # (n + horizon,) log1p of the low-rank smoothed demand (version 2)

    @property
    def n(self) -> int:
        return len(self.y)


def covariate_scales(data: SalesData, cfg: WindowConfig, train_end: dict[str, int]) -> dict[str, list[float]]:
    """Per-series mean of each non-binary covariate over its training rows (price -> relative price).

    A series whose covariate is (almost) always 0 in its training rows (a markdown that only started
    later) takes a tenth of the mean over all series instead: dividing by a near-zero mean would turn
    the first real value into an input thousands of times larger than anything seen in training."""
    if not cfg.covariates:
        return {sid: [] for sid in data.series_ids}
    rows = data.frame.groupby(SERIES_COL, sort=False).indices
    values = np.abs(data.frame[list(cfg.covariates)].to_numpy(dtype=float))
    train = {sid: rows[sid][: train_end.get(sid, 0)] for sid in data.series_ids}
    every = np.concatenate([t for t in train.values()] + [np.zeros(0, dtype=int)])
    floor = 0.1 * values[every].mean(axis=0) if len(every) else np.zeros(values.shape[1])
    scales = {}
    for sid in data.series_ids:
        v = values[train[sid]]
        scales[sid] = [1.0 if c in cfg.binary or len(v) == 0 else float(max(v[:, j].mean(), floor[j])) or 1.0
                       for j, c in enumerate(cfg.covariates)]
    return scales


def unsquash(v: np.ndarray) -> np.ndarray:
    """The inverse of ``squash`` (to show a covariate's value in its own units)."""
    a = np.abs(v)
    return np.where(a <= 1.0, v, np.sign(v) * np.exp(a - 1.0))


def squash(v: np.ndarray) -> np.ndarray:
    """Identity on [-1, 1], logarithmic beyond: relative covariates (price -1 .. +1) pass unchanged,
    rare large ones (a markdown 30x its usual size) stay in the range the network was trained on."""
    a = np.abs(v)
    return np.where(a <= 1.0, v, np.sign(v) * (1.0 + np.log(np.maximum(a, 1.0))))


def _ffill_rows(a: np.ndarray) -> np.ndarray:
    """Carry the last non-NaN value of every column forward (NaN before the first value stays NaN)."""
    idx = np.where(np.isnan(a), 0, np.arange(len(a))[:, None])
    np.maximum.accumulate(idx, axis=0, out=idx)
    return a[idx, np.arange(a.shape[1])[None, :]]


def series_arrays(data: SalesData, cfg: WindowConfig, scales: dict[str, list[float]],
                  future_cov: pd.DataFrame | None = None, *, fit_until: dict[str, int] | None = None
                  ) -> dict[str, SeriesArrays]:
    """Arrays for every series. Covariates of the periods after the history come from ``future_cov``
    (``series``, ``date`` and covariate columns) where it has them; periods it does not cover carry
    the last known value forward, except 0/1 flags (promotion, holiday), which are assumed off.
    ``fit_until`` (series -> periods): the history the low-rank smoothing may learn from (version 2;
    default: all of it)."""
    frame, H, covs = data.frame, cfg.horizon, list(cfg.covariates)
    # One date grid and one set of calendar features for all series: every series' dates lie on the
    # same frequency grid, so each series is a slice of it (thousands of series stay fast).
    grid = pd.date_range(frame["date"].min(), frame["date"].max(), freq=data.freq)
    grid = grid.append(pd.date_range(grid[-1], periods=H + 1, freq=data.freq)[1:])
    pos = grid.get_indexer(frame["date"])
    cal_all, _ = calendar_features(grid, cfg.frequency)
    rows = frame.groupby(SERIES_COL, sort=False).indices
    y_all = frame["y"].to_numpy(dtype=float)
    c_all = frame[covs].to_numpy(dtype=float) if covs else np.zeros((len(frame), 0))
    binary = np.array([c in cfg.binary for c in covs], dtype=bool)
    fut_rows, fut_pos, fut_vals, fut_cols = {}, None, None, []
    if future_cov is not None and len(future_cov) and covs:
        fut_cols = [j for j, c in enumerate(covs) if c in future_cov.columns]
        fut_rows = future_cov.groupby(SERIES_COL, sort=False).indices
        fut_pos = grid.get_indexer(pd.DatetimeIndex(future_cov["date"]))
        fut_vals = future_cov[[covs[j] for j in fut_cols]].to_numpy(dtype=float)
    profiles = group_profiles(data, cfg, grid, pos, rows)
    lag_for = _lag_lookup(cfg, grid)
    smooth = {}
    if cfg.version >= 2 and cfg.smooth_by and data.columns is not None and cfg.smooth_by in data.columns.series:
        series = tuple(data.columns.series)
        smooth = low_rank_smooth(frame, rows, series.index(cfg.smooth_by), len(series), fit_until=fit_until)
    out = {}
    for sid, idx in rows.items():
        n = len(idx)
        p0 = int(pos[idx[0]])
        if p0 < 0 or pos[idx[-1]] != p0 + n - 1:  # off the grid (never after load_sales): build it alone
            dates = pd.date_range(frame["date"].iloc[idx[0]], periods=n + H, freq=data.freq)
            cal, _ = calendar_features(dates, cfg.frequency)
            p0 = -1
        else:
            dates, cal = grid[p0:p0 + n + H], cal_all[p0:p0 + n + H]
        full = np.concatenate([c_all[idx], np.full((H, len(covs)), np.nan)])
        if sid in fut_rows and p0 >= 0 and fut_cols:
            fi = fut_rows[sid]
            step = fut_pos[fi] - (p0 + n)
            ok = (fut_pos[fi] >= 0) & (step >= 0) & (step < H)
            full[n + step[ok][:, None], np.array(fut_cols)[None, :]] = fut_vals[fi[ok]]
        if covs:
            full[n:, binary] = np.nan_to_num(full[n:, binary], nan=0.0)
            full = np.nan_to_num(_ffill_rows(full), nan=0.0)
            sc = np.array(scales[sid], dtype=float)
            full = np.where(binary[None, :], full, squash(full / sc[None, :] - 1.0))
        y = y_all[idx]
        logy = np.concatenate([np.log1p(y), np.full(H, np.nan)])
        grp = tuple(mats[code[sid]] for mats, code in profiles) if profiles and p0 >= 0 else ()
        out[sid] = SeriesArrays(sid, dates, y, logy, full.astype(np.float32), cal, grp, max(p0, 0),
                                lag_for(dates, full, p0))
        if sid in smooth:
            out[sid].smooth = np.concatenate([np.log1p(smooth[sid]), np.full(H, np.nan)])
    return out


def _lag_lookup(cfg: WindowConfig, grid: pd.DatetimeIndex):
    """``lags(dates, covariates, first grid period)`` of one series (version 2; None before): the
    holiday-aligned lag of each period (``core.demand.seasonal.aligned_lags``), from the series' own
    holiday flag where the data has one. Series with the same flags share one computation."""
    if cfg.version < 2:
        return lambda dates, full, p0: None
    from core.demand.holidays import find_holiday_column
    from core.demand.seasonal import aligned_lags

    hol = find_holiday_column(cfg.covariates, cfg.binary)
    j = None if hol is None else cfg.covariates.index(hol)
    cache: dict = {}

    def lags(dates, full, p0):
        flags = None if j is None else (full[:, j] > 0.5)
        key = (p0, len(dates), None if flags is None else flags.tobytes()) if p0 >= 0 else None
        if key is not None and key in cache:
            return cache[key]
        got = aligned_lags(dates, cfg.season, cfg.frequency, flags)
        if key is not None:
            cache[key] = got
        return got

    return lags


def group_profiles(data: SalesData, cfg: WindowConfig, grid: pd.DatetimeIndex, pos: np.ndarray,
                   rows: dict) -> list[tuple[np.ndarray, dict]]:
    """Per group column: (reference matrices, one per group, and each series' group index).

    ``R[g][t, T]`` is the mean over the series of group ``g`` that have a value at grid period ``t``
    and a full input window ending at origin ``T`` of log1p(demand at t) minus that series' mean
    log1p(demand) over the window (the level the model scales by). Only periods ``t <= T`` are read.
    """
    if not cfg.groups:
        return []
    sids = list(rows)
    parts = [str(s).split(" / ") for s in sids]
    if any(len(p) != len(cfg.groups) for p in parts):  # ids not built from the group columns
        return []
    G = len(grid)
    z = np.full((len(sids), G), np.nan)
    y_all = data.frame["y"].to_numpy(dtype=float)
    for i, sid in enumerate(sids):
        idx = rows[sid]
        ok = pos[idx] >= 0
        z[i, pos[idx][ok]] = np.log1p(y_all[idx][ok])
    L = cfg.input_len
    level = pd.DataFrame(z.T).rolling(L, min_periods=L).mean().to_numpy().T  # window level per origin
    has_z, has_l = ~np.isnan(z), ~np.isnan(level)
    zf, lf = np.where(has_z, z, 0.0), np.where(has_l, level, 0.0)
    mz, ml = has_z.astype(float), has_l.astype(float)
    out = []
    for j in range(len(cfg.groups)):
        codes, _ = pd.factorize(pd.Series([p[j] for p in parts]))
        mats = np.zeros((codes.max() + 1, G, G), dtype=np.float32)
        for g in range(codes.max() + 1):
            r = codes == g
            count = mz[r].T @ ml[r]
            total = zf[r].T @ ml[r] - mz[r].T @ lf[r]
            mats[g] = np.where(count > 0, total / np.maximum(count, 1.0), 0.0)
        out.append((mats, dict(zip(sids, codes))))
    return out


def feature_names(cfg: WindowConfig) -> tuple[list[str], list[str]]:
    """Names of the flattened history inputs and of the per-step future inputs."""
    if cfg.version >= 2:
        from core.demand.windows import feature_names_v2

        return feature_names_v2(cfg, history_covariates(cfg))
    hist = [f"lag {cfg.input_len - i}" for i in range(cfg.input_len)]
    for c in history_covariates(cfg):
        hist += [f"past {c} (lag {cfg.input_len - i})" for i in range(cfg.input_len)]
    hist.append("recent level")
    _, cal = calendar_features(pd.DatetimeIndex(["2020-01-01"]), cfg.frequency)
    fut = cal + [f"{c} (forecast period)" for c in same_period_covariates(cfg)] + [
        "horizon step", "seasons back"] + [f"{c} group seasonal reference" for c in cfg.groups] + [
        "seasonal naive reference"]
    return hist, fut


def make_windows(arrs: dict[str, SeriesArrays], cfg: WindowConfig, origins: dict[str, np.ndarray],
                 *, with_target: bool = True, **v2) -> Windows:
    """Build windows ending at ``origins[sid]`` (indices of the last observed period).

    Version 2 configurations go to ``core.demand.windows.make_windows_v2`` (``v2``: its target range
    and holiday column)."""
    if cfg.version >= 2:
        from core.demand.windows import make_windows_v2

        return make_windows_v2(arrs, cfg, origins, with_target=with_target, **v2)
    L, H, m = cfg.input_len, cfg.horizon, cfg.season
    steps, ref_off, pos = horizon_steps(H, m)
    past = [cfg.covariates.index(c) for c in history_covariates(cfg)]
    now = [cfg.covariates.index(c) for c in same_period_covariates(cfg)]
    cont = [i for i, j in enumerate(now) if cfg.covariates[j] not in cfg.binary]  # positions within ``now``
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
        hist = [zc] + [a.cov[hidx, j] for j in past] + [level[:, None] / 5.0]
        ref = a.logy[T[:, None] + ref_off] - level[:, None]
        if cfg.groups and a.grp:
            t_idx, o_idx = a.offset + T[:, None] + ref_off, np.broadcast_to(a.offset + T[:, None], (len(T), H))
            grp = np.stack([m[t_idx, o_idx] for m in a.grp], axis=2)
        else:
            grp = np.zeros((len(T), H, len(cfg.groups)))
        cov_f = a.cov[fidx][:, :, now]
        if cfg.window_relative and len(cont):
            # Continuous covariates as the change from their mean over the input window, like demand:
            # a drifting index (CPI, fuel price) then never leaves the range seen in training.
            cov_f = cov_f.copy()
            cov_f[:, :, cont] -= a.cov[hidx][:, :, [now[i] for i in cont]].mean(axis=1, keepdims=True)
        fut = np.concatenate([a.cal[fidx], cov_f, np.broadcast_to(pos, (len(T), H, 2)), grp,
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

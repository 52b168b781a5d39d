"""Model inputs of the forecasting network (window version 2): seasonal references read from the whole history.

Version 1 (runs saved before) read the seasonal-naive reference inside the input window, so the window
had to span whole seasons (52 weeks for a weekly horizon of up to a year), and a series gave one
training window per period after its first year and a horizon: 14 per series on three years of
weekly retail sales. Version 2 reads every reference from the series' whole history up to the
forecast origin, so the window only has to carry the recent level and shape.

Per forecast step the network reads (all in log1p units relative to the window's level):

- the **smoothed reference**: the low-rank smoothed demand (``core.demand.smoothing``: the series
  denoised by the other stores of its department) in the week of the year before that matches the
  forecast week (``core.demand.seasonal.aligned_lags``: the same distance from Easter, the same
  flagged holiday). P50 is learnt as a correction of it; a series that is not smoothed (one series
  column, a small group) reads its own value there;
- the series' own value in that week and in the weeks either side of it, and each group's seasonal
  reference at that week (the mean over the store's, and over the department's, series);
- the plain seasonal-naive value (the baseline's forecast, kept as an input so the ensemble's
  baseline is a function of the network's inputs), and whether a reference exists at all;
- calendar (not for weekly data), the planned covariates of the forecast period and the step's
  position in the horizon.

The history input holds the window's values, the past 0/1 covariates, the change in level against
the same weeks a year before, the moving-average forecast (the mean of the last season, as the
baseline computes it) and, last, the level / 5.

Training targets may run past the end of a window's usable history (they are then masked, with
weight 0), so the most recent periods train the network at short horizons as well. Each target's
weight is the series' level in units (times 5 in a flagged holiday week, for weekly data with a
holiday flag): the pinball loss on log demand then approximates the holiday-weighted MAE in units,
the figure the forecast is judged by, instead of treating a department selling 10 a week like one
selling 50,000.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.errors import DataValidationError

HOLIDAY_WEIGHT = 5.0  # the WMAE's weight of a flagged holiday period
# Frequencies whose flagged holiday periods weigh HOLIDAY_WEIGHT in the loss. Measured: on the weekly
# retail file it lowered the validation WMAE (the holiday weeks' peaks are kept instead of shrunk
# towards the level); on the daily sample it raised both its MAE and its WMAE (one-day holidays are
# few, and five times the weight on them fits their noise).
HOLIDAY_WEIGHTED = ("weekly",)


def history_needed(cfg) -> int:
    """Periods of history a series needs at its forecast origin: the window, and (version 2) a
    seasonal reference for every step of the horizon."""
    if cfg.version < 2:
        return cfg.input_len
    return max(cfg.input_len, cfg.season * math.ceil(cfg.horizon / cfg.season))


def feature_names_v2(cfg, hist_covariates: list[str]) -> tuple[list[str], list[str]]:
    """Names of the flattened history inputs and of the per-step future inputs (version 2)."""
    from core.demand.windowparts import calendar_features

    L = cfg.input_len
    hist = [f"lag {L - i}" for i in range(L)]
    for c in hist_covariates:
        hist += [f"past {c} (lag {L - i})" for i in range(L)]
    hist += ["level change vs a year before", "level a year before known", "moving average", "recent level"]
    _, cal = calendar_features(pd.DatetimeIndex(["2020-01-01"]), cfg.frequency)
    fut = (cal if cfg.calendar else []) + [f"{c} (forecast period)" for c in planned_covariates(cfg)] + [
        "horizon step", "seasons back"] + [
        f"{c} group seasonal reference" for c in cfg.groups] + [
        "reference known", "aligned seasonal reference", "smoothed seasonal reference", "reference week before",
        "reference week after", "seasonal naive reference"]
    return hist, fut


def planned_covariates(cfg) -> list[str]:
    """Covariates whose forecast-period values the network reads: all but the observed ones the leakage
    audit leaves to their past values (``core.demand.windowparts.same_period_covariates``)."""
    from core.demand.windowparts import same_period_covariates

    return same_period_covariates(cfg)


def make_windows_v2(arrs: dict, cfg, origins: dict[str, np.ndarray], *, with_target: bool = True,
                    target_range: dict[str, tuple[int, int]] | None = None, holiday_idx: int | None = None):
    """Windows ending at ``origins[sid]`` (indices of the last observed period), version 2.

    With ``target_range`` (series -> first and last period index a target may have), targets outside
    it and targets without a seasonal reference get weight 0; ``Windows.weight`` (N, H, 2) holds each
    target's series level in units (0 when masked) and its holiday factor (5 in a flagged holiday
    period, else 1); ``target_weights`` turns them into the loss's weights.
    """
    from core.demand.windowparts import Windows, history_covariates, horizon_steps

    L, H, m = cfg.input_len, cfg.horizon, cfg.season
    steps, raw_off, pos = horizon_steps(H, m)
    past = [cfg.covariates.index(c) for c in history_covariates(cfg)]
    fcols = [cfg.covariates.index(c) for c in planned_covariates(cfg)]
    cont = [k for k, j in enumerate(fcols) if cfg.covariates[j] not in cfg.binary]
    keys = ("hist", "fut", "ref", "level", "target", "weight", "sid", "origin")
    parts = {k: [] for k in keys}
    for sid, T in origins.items():
        T = np.asarray(T, dtype=int)
        if len(T) == 0:
            continue
        a = arrs[sid]
        hidx = T[:, None] + np.arange(-L + 1, 1)
        z = a.logy[hidx]
        level = z.mean(axis=1)
        col = level[:, None]
        # Level change against the same weeks one season before (0 where the series is younger).
        yidx = hidx - m
        yok = yidx[:, 0] >= 0
        before = np.where(yok, a.logy[np.maximum(yidx, 0)].mean(axis=1), level)
        csum = np.concatenate([[0.0], np.cumsum(a.y)])
        lo = np.maximum(T - m + 1, 0)
        ma = (csum[T + 1] - csum[lo]) / (T + 1 - lo)
        hist = ([z - col] + [a.cov[hidx, j] for j in past]
                + [(level - before)[:, None], yok[:, None].astype(float), (np.log1p(np.maximum(ma, 0.0)) - level)[:, None],
                   col / 5.0])
        tidx = T[:, None] + steps
        lags = a.lags[tidx] if a.lags is not None else np.full(tidx.shape, m)
        raw = T[:, None] + raw_off
        ridx = np.where(steps[None, :] <= lags, tidx - lags, raw)
        ok, raw_ok = ridx >= 0, raw >= 0

        def rel(idx, good):
            return np.where(good, a.logy[np.maximum(idx, 0)] - col, 0.0)

        aref = rel(ridx, ok)
        sref = np.where(ok, a.smooth[np.maximum(ridx, 0)] - col, 0.0) if a.smooth is not None else aref
        before_nb = np.where(ok & (ridx >= 1), rel(ridx - 1, ridx >= 1), aref)
        after_nb = np.where(ok & (ridx + 1 <= T[:, None]), rel(ridx + 1, ok), aref)
        if cfg.groups and a.grp:
            t_idx = a.offset + np.maximum(ridx, 0)
            o_idx = np.broadcast_to(a.offset + T[:, None], ridx.shape)
            grp = np.stack([np.where(ok, g[t_idx, o_idx], 0.0) for g in a.grp], axis=2)
        else:
            grp = np.zeros((len(T), H, len(cfg.groups)))
        cov_f = a.cov[tidx][:, :, fcols]
        if cfg.window_relative and len(cont):
            cov_f[:, :, cont] -= a.cov[hidx][:, :, [fcols[k] for k in cont]].mean(axis=1, keepdims=True)
        cal = a.cal[tidx] if cfg.calendar else np.zeros(tidx.shape + (0,))
        fut = np.concatenate([cal, cov_f, np.broadcast_to(pos, (len(T), H, 2)), grp,
                              np.stack([ok.astype(float), aref, sref, before_nb, after_nb, rel(raw, raw_ok)], axis=2)],
                             axis=2)
        parts["hist"].append(np.concatenate(hist, axis=1))
        parts["fut"].append(fut)
        parts["ref"].append(sref[..., None])
        parts["level"].append(level)
        if with_target:
            target = a.logy[tidx] - col
            good = np.isfinite(target) & ok
            if target_range is not None and sid in target_range:
                first, last = target_range[sid]
                good &= (tidx >= first) & (tidx <= last)
            scale = np.maximum(np.expm1(level), 1e-3)[:, None]
            flag = a.cov[tidx, holiday_idx] > 0.5 if holiday_idx is not None else np.zeros(tidx.shape, dtype=bool)
            parts["weight"].append(np.stack([np.where(good, scale, 0.0), np.where(flag, HOLIDAY_WEIGHT, 1.0)], axis=2))
            parts["target"].append(np.where(good, target, 0.0))
        parts["sid"].append(np.full(len(T), sid, dtype=object))
        parts["origin"].append(T)
    if not parts["level"]:
        raise DataValidationError(
            "No series has enough history to build an input window; expected at least "
            f"{L + 1} periods per series. Use a shorter horizon or upload more history."
        )
    # Straight into float32: a float64 copy of tens of thousands of windows would double the peak memory.
    f32 = ("hist", "fut", "ref", "target", "weight")
    cat = {k: np.concatenate(v, dtype=np.float32 if k in f32 else None) for k, v in parts.items() if v}
    return Windows(cat["hist"], cat["fut"], cat["ref"], cat["level"], cat.get("target"), cat["sid"], cat["origin"],
                   cat.get("weight"))


def target_weights(w, *, scale_power: float = 1.0, norm: float | None = None) -> tuple[np.ndarray, float]:
    """``y_true`` for the weighted loss, (N, H, 3): the target and the weights of its P50 and of its
    outer quantiles (the same here): the series' level in units to the power ``scale_power`` (1: the
    MAE in units) times the holiday factor, divided by their mean over the unmasked targets (``norm``:
    the training windows' mean, so validation targets are weighed alike)."""
    scale, hol = w.weight[..., 0].astype(float), w.weight[..., 1].astype(float)
    live = scale > 0
    weight = np.where(live, np.power(np.maximum(scale, 1e-3), scale_power) * hol, 0.0)
    if norm is None:
        norm = float(weight[live].mean()) if live.any() else 1.0
    weight = weight / max(norm, 1e-12)
    return np.stack([w.target, weight, weight], axis=2).astype(np.float32), norm


def plan_origins_v2(n_train: dict[str, int], cfg, cap: int, val_periods: int) -> tuple[dict, dict, dict, dict, int]:
    """Training and validation origins per series, and the target periods each may use.

    The last ``val_periods`` periods of every series' training history are validation targets only
    (forecast from origins before them, at every step of the horizon, as the test will be); the
    network trains on the targets before them. Origins start where the window is full and end one
    period before the last usable target; past ``cap`` windows every k-th origin is kept (the most
    recent always). Returns (train origins, validation origins, train target ranges, validation
    target ranges, stride)."""
    L, H, m = cfg.input_len, cfg.horizon, cfg.season
    tr, va, tr_rng, va_rng = {}, {}, {}, {}
    for sid, nt in n_train.items():
        v = int(min(val_periods, max(0, nt - L - 1)))
        last_train = nt - v - 1  # last period a training target may be
        lo = max(L - 1, m - H - 3, 0)  # earlier origins' targets have no reference a season back
        tr[sid] = np.arange(lo, last_train)  # origin < last target
        tr_rng[sid] = (0, last_train)
        if v:
            va[sid] = np.arange(max(L - 1, nt - v - H), nt - 1)
            va_rng[sid] = (nt - v, nt - 1)
        else:
            va[sid] = np.zeros(0, dtype=int)
    total = sum(len(t) for t in tr.values())
    stride = max(1, int(np.ceil(total / cap)))
    if stride > 1:
        tr = {sid: t[::-1][::stride][::-1] for sid, t in tr.items()}
    vtotal = sum(len(t) for t in va.values())
    vstride = max(1, int(np.ceil(vtotal / max(cap // 4, 1))))
    if vstride > 1:
        va = {sid: t[::-1][::vstride][::-1] for sid, t in va.items()}
    return tr, va, tr_rng, va_rng, stride


def default_val_periods(n_train: dict[str, int], cfg) -> int:
    """Periods at the end of the training history held out to stop training and calibrate the
    interval: 15 % of the typical history after the window, at least 1 and at most the horizon."""
    if not n_train:
        return 1
    typical = float(np.median(list(n_train.values())))
    return int(min(cfg.horizon, max(1, round(0.15 * (typical - cfg.input_len)))))


def training_windows(arrays: dict, wcfg, n_train: dict[str, int], *, cap: int, val_periods: int | None = None,
                     holiday_idx: int | None = None, scale_power: float = 1.0):
    """Training and validation windows with their weighted targets (``target_weights``).

    Returns (train windows, validation windows, y_train, y_val, stride, validation periods). Windows
    whose targets are all masked are left out; without validation targets (histories too short) the
    training windows validate themselves."""
    v = default_val_periods(n_train, wcfg) if val_periods is None else int(val_periods)
    if wcfg.frequency not in HOLIDAY_WEIGHTED:
        holiday_idx = None
    tr_o, va_o, tr_rng, va_rng, stride = plan_origins_v2(n_train, wcfg, cap, v)
    if sum(len(t) for t in tr_o.values()) == 0:
        return None, None, None, None, stride, v
    train_w = _live(make_windows_v2(arrays, wcfg, tr_o, target_range=tr_rng, holiday_idx=holiday_idx))
    if len(train_w) == 0:
        return None, None, None, None, stride, v
    y_train, norm = target_weights(train_w, scale_power=scale_power)
    val_w = None
    if sum(len(t) for t in va_o.values()):
        val_w = _live(make_windows_v2(arrays, wcfg, va_o, target_range=va_rng, holiday_idx=holiday_idx))
    if val_w is None or len(val_w) == 0:
        return train_w, train_w, y_train, y_train, stride, v
    y_val, _ = target_weights(val_w, scale_power=scale_power, norm=norm)
    return train_w, val_w, y_train, y_val, stride, v


def _live(w):
    """The windows with at least one unmasked target."""
    from dataclasses import replace

    keep = (w.weight[..., 0] > 0).any(axis=1)
    if keep.all():
        return w
    return replace(w, hist=w.hist[keep], fut=w.fut[keep], ref=w.ref[keep], level=w.level[keep],
                   target=w.target[keep], sid=w.sid[keep], origin=w.origin[keep], weight=w.weight[keep])

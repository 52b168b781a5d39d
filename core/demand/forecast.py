"""Train the global quantile model, run the rolling-origin backtest and forecast the future.

Split: per series, the last ``horizon + (origins - 1) * step`` periods are held out (or the rows of
a separate test file). The model trains once on windows whose targets lie wholly before the first
origin; at every later origin it reads the actual history up to that origin (no refit, no data
after the origin), as do the two baselines.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.demand import baselines as bl
from core.demand.blend import window_baselines
from core.demand.data import SERIES_COL, SalesData
from core.demand.features import (SeriesArrays, WindowConfig, Windows, covariate_scales, history_needed,
                                  make_config, make_windows, series_arrays, to_units)
from core.demand.fmetrics import compute_metrics_table, compute_per_series
from core.demand.holidays import add_wmae, find_holiday_column
from core.errors import DataValidationError

METHODS = {"nn": "Keras quantile network", "seasonal_naive": "Seasonal naive", "moving_average": "Moving average"}


@dataclass(frozen=True)
class DemandConfig:
    """Training and backtest options."""

    horizon: int = 28
    input_len: int | None = None
    origins: int = 1  # rolling-origin backtest: how many forecast origins
    step: int | None = None  # periods between origins (default: the horizon)
    epochs: int = 60
    batch_size: int = 256
    width: int = 64
    learning_rate: float = 3e-3
    patience: int = 6
    seed: int = 0
    max_windows: int = 40_000  # cap on training windows (memory on small cloud instances)
    # Network and loss settings the model search tunes (core/demand/search.py); these are today's.
    depth: int = 2
    dropout: float = 0.3
    l2: float = 1e-4
    tail_quantile: float = 0.1
    median_weight: float = 1.0
    # Version 2 windows (core.demand.windows): validation periods held out at the end of the training
    # history (None: 15 % of it, at most the horizon) and the loss weights' power of the series level
    # (1: each target weighs its series' level in units, as the MAE in units does; 0: every series alike).
    val_periods: int | None = None
    scale_power: float = 1.0
    refit: bool = False  # train again on the whole training history for the epochs validation chose
    members: int = 3  # networks averaged into the model (core.demand.fitting)


@dataclass
class DemandRun:
    """Everything the page, CLI and benchmark show about one trained model."""

    config: DemandConfig
    wcfg: WindowConfig
    data: SalesData
    model: Any
    history: dict
    arrays: dict[str, SeriesArrays]
    n_train: dict[str, int]
    scales: dict[str, list[float]]
    backtest: pd.DataFrame
    metrics: pd.DataFrame
    per_series: pd.DataFrame
    future: pd.DataFrame
    excluded: list[dict]
    timings: dict
    notices: list[str] = field(default_factory=list)
    device: str = ""
    train_windows: Windows | None = None
    spread_factor: float = 1.0
    val_actual: np.ndarray | None = None  # (N, H) units, validation windows
    val_quantiles: np.ndarray | None = None  # (N, H, 3) calibrated quantiles in units
    holiday_col: str | None = None  # the 0/1 holiday covariate behind the WMAE column, if any
    # Validation windows (version 2): each target's weight (5 in holiday periods, 0 when masked) and
    # the baselines' P50 in units, for the recommendation (core.demand.recommend).
    val_weight: np.ndarray | None = None
    val_baselines: dict | None = None
    # Each validation window's series and origin (the last observed period), so the recommendation can
    # resample whole series and weeks when it asks whether the blend's gain is outside the noise.
    val_sid: np.ndarray | None = None
    val_origin: np.ndarray | None = None
    # The recommended forecast when it is the network's blend with a baseline (core.demand.blend):
    # saved as "blend", and ``future`` holds its forecast.
    blend: dict | None = None
    recommended: dict | None = None  # the JSON's "recommended" (core.demand.blend.apply_recommendation)

    def aggregate_scale(self, periods: int) -> float:
        """How much wider the demand spread over ``periods`` really is than the per-period spreads
        combined as if independent (forecast errors of neighbouring periods are correlated).
        Root mean square of standardised validation residuals of the summed demand."""
        from core.demand.inventory import aggregate_scale

        if self.val_actual is None or self.val_quantiles is None:
            return 1.0
        q = self.val_quantiles
        if self.blend is not None and self.val_baselines is not None:  # the saved forecast's residuals
            from core.demand.blend import blend_quantiles

            q = blend_quantiles(q, self.val_baselines[self.blend["baseline"]], self.blend["weight"])
        return aggregate_scale(self.val_actual, q, periods)

    def predict(self, w: Windows) -> np.ndarray:
        """Calibrated quantiles in units, (N, H, 3), for windows ``w``."""
        from core.demand.model import apply_spread, predict_quantiles

        return to_units(apply_spread(predict_quantiles(self.model, w.inputs()), self.spread_factor), w.level)

    @property
    def series_ids(self) -> list[str]:
        return list(self.n_train)


def combine_test(train: SalesData, test: SalesData) -> tuple[SalesData, dict[str, int], list[str]]:
    """Append a separate test file to the training history; returns data, n_train, notices."""
    if test.frequency != train.frequency:
        raise DataValidationError(
            f"Test data must have the training data's frequency ({train.frequency}); got {test.frequency}. "
            "Upload test data at the same frequency."
        )
    if list(test.covariates) != list(train.covariates):
        raise DataValidationError(
            f"Test data must have the covariates {train.covariates}; got {test.covariates}. "
            "Use the same columns in both files."
        )
    notices, frames, n_train = [], [], {}
    test_ids = set(test.series_ids)
    for sid in train.series_ids:
        g = train.series(sid)
        n_train[sid] = len(g)
        t = test.series(sid) if sid in test_ids else test.frame.iloc[:0]
        t = t[t["date"] > g["date"].iloc[-1]]
        full = pd.concat([g, t]).set_index("date")
        grid = pd.date_range(full.index[0], full.index[-1], freq=train.freq)
        full = full.reindex(grid)
        full[SERIES_COL] = sid
        full = full.interpolate(limit_direction="both") if full.isna().any().any() else full
        frames.append(full.rename_axis("date").reset_index())
    extra = test_ids - set(train.series_ids)
    if extra:
        notices.append(f"{len(extra)} series in the test file have no training history and were skipped.")
    frame = pd.concat(frames, ignore_index=True)[train.frame.columns]
    data = SalesData(frame, train.frequency, train.freq, train.season, train.covariates,
                     train.binary_covariates, train.columns, train.report)
    return data, n_train, notices


def plan_split(data: SalesData, wcfg: WindowConfig, cfg: DemandConfig,
               n_train: dict[str, int] | None = None) -> tuple[dict, dict, list[dict]]:
    """Per series: training length and backtest origins; series too short are excluded with a reason."""
    step = cfg.step or wcfg.horizon
    if cfg.origins < 1 or step < 1:
        raise DataValidationError(
            f"The backtest needs at least 1 origin and a step of at least 1 period; got {cfg.origins} "
            f"origins and step {step}. Use origins >= 1."
        )
    hold = wcfg.horizon + (cfg.origins - 1) * step
    need_hist = history_needed(wcfg)
    lengths = data.lengths()
    keep, origins, excluded = {}, {}, []
    for sid in data.series_ids:
        n = int(lengths[sid])
        nt = n_train[sid] if n_train else n - hold
        if nt < need_hist:
            need = need_hist + (hold if not n_train else 0)
            excluded.append({"series": sid, "periods": n, "reason":
                             f"too short: {n} periods, needs at least {need} ({_history_words(wcfg)} "
                             f"{need_hist} + held-out {hold})"})
            continue
        T = np.arange(nt - 1, n - wcfg.horizon, step)[: cfg.origins]
        if len(T) == 0:
            excluded.append({"series": sid, "periods": n, "reason": "no test periods after the training data"})
            continue
        keep[sid], origins[sid] = nt, T
    if not keep:
        raise DataValidationError(
            f"No series is long enough to forecast: each needs at least {need_hist + hold} periods "
            f"({_history_words(wcfg)} {need_hist} + held-out {hold}); the longest has {int(lengths.max())}. "
            "Choose a shorter horizon or fewer backtest origins, or upload more history."
        )
    return keep, origins, excluded


def _history_words(wcfg: WindowConfig) -> str:
    if wcfg.version >= 2 and history_needed(wcfg) > wcfg.input_len:
        return "a season of history for the seasonal reference"
    return "input window"


def _training_origins(n_train: dict[str, int], wcfg: WindowConfig, cap: int) -> tuple[dict, dict, int]:
    """Training and validation origins per series (SHAP backgrounds and demand events use them too)."""
    if wcfg.version >= 2:
        from core.demand.windows import default_val_periods, plan_origins_v2

        tr, va, _, _, stride = plan_origins_v2(n_train, wcfg, cap, default_val_periods(n_train, wcfg))
        return tr, va, stride
    L, H = wcfg.input_len, wcfg.horizon
    all_t = {sid: np.arange(L - 1, nt - H) for sid, nt in n_train.items()}
    total = sum(len(t) for t in all_t.values())
    stride = max(1, int(np.ceil(total / cap)))
    tr, va = {}, {}
    for sid, t in all_t.items():
        t = t[::-1][::stride][::-1]  # keep the most recent origin when striding
        n_val = int(round(0.15 * len(t))) if len(t) >= 4 else 0
        tr[sid], va[sid] = t[: len(t) - n_val], t[len(t) - n_val:]
    return tr, va, stride


def train_demand(data: SalesData, cfg: DemandConfig = DemandConfig(), *, test: SalesData | None = None,
                 future_covariates: pd.DataFrame | None = None,
                 progress: Callable[[int, int, dict], None] | None = None) -> DemandRun:
    """Train the global quantile network and evaluate it against the baselines on the backtest.

    ``future_covariates`` (``series``, ``date`` and covariate columns, e.g. from
    ``core.demand.covariates.horizon_covariates``) gives the known-in-advance covariates of the
    periods after each series' history, for the forward forecast. With a 0/1 holiday covariate
    (IsHoliday / holiday / is_holiday) the metrics include the holiday-weighted MAE (``wmae``)."""
    from core.demand.model import apply_spread, calibrate_spread, predict_quantiles

    t0 = time.perf_counter()
    notices: list[str] = []
    wcfg = make_config(data, cfg.horizon, cfg.input_len)
    given_train = None
    if test is not None:
        data, given_train, notices = combine_test(data, test)
    n_train, origins, excluded = plan_split(data, wcfg, cfg, given_train)
    wcfg, dropped = screen_covariates(data, wcfg, n_train)
    notices += dropped
    scales = covariate_scales(data, wcfg, n_train)
    arrays = series_arrays(data, wcfg, scales, future_covariates, fit_until=n_train)
    from core.demand.windows import training_windows

    holiday = find_holiday_column(wcfg.covariates, wcfg.binary)
    train_w, val_w, y_train, y_val, stride, _ = training_windows(
        arrays, wcfg, n_train, cap=cfg.max_windows, val_periods=cfg.val_periods,
        holiday_idx=None if holiday is None else wcfg.covariates.index(holiday), scale_power=cfg.scale_power)
    if stride > 1:
        notices.append(f"Training used every {stride}th window (cap {cfg.max_windows:,}) to stay within memory.")
    if train_w is None:
        raise DataValidationError(
            f"No training windows: each series needs at least {history_needed(wcfg) + 1} periods "
            f"before the test period ({_history_words(wcfg)} {history_needed(wcfg)} and a period to learn from). "
            "Choose a shorter horizon or upload more history."
        )
    # Small data sets (one monthly series gives ~50 windows) need several gradient steps per epoch,
    # or early stopping ends training after a handful of updates and results swing with the seed.
    batch = int(min(cfg.batch_size, max(16, len(train_w) // 8)))
    t1 = time.perf_counter()
    from core.demand.fitting import fit_members

    refit_data = None
    if cfg.refit and val_w is not train_w:
        full_w, _, y_full, _, _, _ = training_windows(
            arrays, wcfg, n_train, cap=cfg.max_windows, val_periods=0,
            holiday_idx=None if holiday is None else wcfg.covariates.index(holiday), scale_power=cfg.scale_power)
        refit_data = (full_w, y_full)
    fit, validated, _ = fit_members(train_w, val_w, y_train, y_val, wcfg, cfg, batch=batch, refit_data=refit_data,
                                    progress=progress)
    val_qz = predict_quantiles(validated, val_w.inputs())
    val_t = np.where(y_val[..., 1] > 0, val_w.target, np.nan)  # masked targets stay out of the calibration
    factor = calibrate_spread(val_qz, val_t)
    val_q = to_units(apply_spread(val_qz, factor), val_w.level)
    val_y = to_units(val_t, val_w.level)
    if refit_data is not None:
        train_w = refit_data[0]
    t2 = time.perf_counter()

    def predict(model, inputs):
        return apply_spread(predict_quantiles(model, inputs), factor)

    backtest = _backtest(fit.model, arrays, wcfg, origins, n_train, predict,
                         None if holiday is None else wcfg.covariates.index(holiday))
    metrics = compute_metrics_table(backtest, METHODS)
    if holiday is not None:
        metrics = add_wmae(metrics, backtest, METHODS)
    per_series = pd.concat([compute_per_series(backtest, p).assign(method=METHODS[p]) for p in METHODS],
                           ignore_index=True)
    future = forecast_future(fit.model, arrays, wcfg, n_train, predict)
    if wcfg.covariates:
        notices += horizon_notices(data, wcfg, n_train, future_covariates)
    t3 = time.perf_counter()
    timings = {"prepare": t1 - t0, "train": t2 - t1, "backtest": t3 - t2, "total": t3 - t0}
    return DemandRun(cfg, wcfg, data, fit.model, fit.history, arrays, n_train, scales, backtest, metrics,
                     per_series, future, excluded, {k: round(v, 3) for k, v in timings.items()}, notices,
                     fit.device.label if fit.device else "", train_w, factor, val_y, val_q, holiday,
                     np.where(y_val[..., 1] > 0, val_w.weight[..., 1], 0.0), window_baselines(val_w),
                     val_sid=np.asarray(val_w.sid), val_origin=np.asarray(val_w.origin))


def screen_covariates(data: SalesData, wcfg: WindowConfig, n_train: dict) -> tuple[WindowConfig, list[str]]:
    """Leave out covariates that hold values (non-zero) on fewer than one season of training dates.

    A markdown recorded only for the last weeks of the training history coincides with whatever
    those weeks were (the holiday season): the network would learn the season as the markdown's
    effect and overshoot every later week with a markdown. 0/1 flags are events by nature and stay.
    """
    candidates = [c for c in wcfg.covariates if c not in wcfg.binary]
    if not candidates:
        return wcfg, []
    f = data.frame
    in_train = f.groupby(SERIES_COL, sort=False).cumcount().to_numpy() < f[SERIES_COL].map(n_train).fillna(0).to_numpy()
    train = f[in_train]
    n_dates = train["date"].nunique()
    short = {c: int(train.loc[train[c] != 0, "date"].nunique()) for c in candidates}
    short = {c: k for c, k in short.items() if k < min(wcfg.season, n_dates)}
    if not short:
        return wcfg, []
    keep = tuple(c for c in wcfg.covariates if c not in short)
    detail = ", ".join(f"{c} ({k})" for c, k in short.items())
    note = (f"Covariates with values on fewer than {min(wcfg.season, n_dates)} of the {n_dates} training "
            f"dates were left out of the network (dates with a value): {detail}. So little history "
            "cannot separate their effect from the season's; they are used once the history holds a full season.")
    return replace(wcfg, covariates=keep, binary=tuple(c for c in wcfg.binary if c in keep)), [note]


def horizon_notices(data: SalesData, wcfg: WindowConfig, n_train: dict, future: pd.DataFrame | None) -> list[str]:
    """What the forward forecast assumes about covariates the data does not give for the horizon."""
    assume = ("0/1 flags (promotion, holiday) are assumed off and other covariates (e.g. price) keep "
              "their last known value")
    if future is None or len(future) == 0:
        return [f"Future covariates are not in the data: {assume} in the forward forecast."]
    last = data.frame.groupby(SERIES_COL, sort=False)["date"].max()
    known = future[future[SERIES_COL].isin(list(n_train))]
    ahead = known.merge(last.rename("last").reset_index(), on=SERIES_COL)
    ends = ahead["last"] + pd.tseries.frequencies.to_offset(data.freq) * wcfg.horizon
    covered = ahead[(ahead["date"] > ahead["last"]) & (ahead["date"] <= ends)].groupby(SERIES_COL).size()
    short = {sid: wcfg.horizon - int(covered.get(sid, 0)) for sid in n_train}
    short = {sid: k for sid, k in short.items() if k > 0}
    if not short:
        return [f"The covariates file covers the whole {wcfg.horizon}-period forecast horizon of every series."]
    end = known["date"].max()
    return [f"The covariates file does not cover the forecast horizon for {len(short):,} of {len(n_train):,} "
            f"series (it ends {'on ' + str(end.date()) if pd.notna(end) else 'before the horizon'}; up to "
            f"{max(short.values())} of {wcfg.horizon} periods missing): there {assume}. Add the "
            "missing dates to the covariates file for a better forward forecast."]


def _backtest(model, arrays, wcfg: WindowConfig, origins: dict, n_train: dict, predict,
              holiday_idx: int | None = None) -> pd.DataFrame:
    w = make_windows(arrays, wcfg, origins, with_target=False)
    q = to_units(predict(model, w.inputs()), w.level)  # (N, H, 3)
    H, m = wcfg.horizon, wcfg.season
    cols: dict[str, list] = {k: [] for k in ("origin", "date", "y", "scale", "holiday")}
    for kind in bl.BASELINES:
        cols[kind] = []
    errs: dict[tuple, np.ndarray] = {}
    for sid, T in zip(w.sid, w.origin):
        a = arrays[sid]
        nt = n_train[sid]
        y = a.y
        cols["origin"].append(np.repeat(a.dates[T], H))
        cols["date"].append(a.dates[T + 1:T + H + 1])
        cols["y"].append(y[T + 1:T + H + 1])
        cols["scale"].append(np.full(H, bl.mase_scale(y, nt, m)))
        cols["holiday"].append(a.cov[T + 1:T + H + 1, holiday_idx] if holiday_idx is not None else np.zeros(H))
        for kind in bl.BASELINES:
            key = (sid, kind)
            if key not in errs:
                errs[key] = bl.in_sample_errors(y, nt, kind, m)
            cols[kind].append(bl.baseline_quantiles(kind, y, int(T), H, m, errs[key]))
    out = pd.DataFrame({"series": np.repeat(w.sid, H), "origin": np.concatenate(cols["origin"]),
                        "date": np.concatenate([np.asarray(d) for d in cols["date"]]),
                        "step": np.tile(np.arange(1, H + 1), len(w)), "y": np.concatenate(cols["y"]),
                        "scale": np.concatenate(cols["scale"])})
    for j, name in enumerate(("p10", "p50", "p90")):
        out[f"nn_{name}"] = q[:, :, j].ravel()
    for kind in bl.BASELINES:
        bq = np.concatenate(cols[kind])
        for j, name in enumerate(("p10", "p50", "p90")):
            out[f"{kind}_{name}"] = bq[:, j]
    if holiday_idx is not None:
        out["holiday"] = np.concatenate(cols["holiday"]).astype(float)
    return out


def forecast_future(model, arrays, wcfg: WindowConfig, n_train: dict, predict) -> pd.DataFrame:
    """Forecast the ``horizon`` periods after each series' last date (model and seasonal naive)."""
    origins = {sid: np.array([arrays[sid].n - 1]) for sid in n_train}
    w = make_windows(arrays, wcfg, origins, with_target=False)
    q = to_units(predict(model, w.inputs()), w.level)
    H, m = wcfg.horizon, wcfg.season
    dates, naive, sd = [], [], []
    for sid in w.sid:
        a = arrays[sid]
        T = a.n - 1
        errs = bl.in_sample_errors(a.y, a.n, "seasonal_naive", m)
        dates.append(np.asarray(a.dates[T + 1:T + H + 1]))
        naive.append(bl.baseline_quantiles("seasonal_naive", a.y, T, H, m, errs)[:, 1])
        sd.append(float(np.std(errs)))
    return pd.DataFrame({"series": np.repeat(w.sid, H), "date": np.concatenate(dates),
                         "step": np.tile(np.arange(1, H + 1), len(w)),
                         "p10": q[:, :, 0].ravel(), "p50": q[:, :, 1].ravel(), "p90": q[:, :, 2].ravel(),
                         "naive_p50": np.concatenate(naive), "naive_sd": np.repeat(sd, H)})


def get_naive_sd(run: DemandRun) -> dict[str, float]:
    """Per series: spread of the seasonal-naive in-sample errors (the naive policy's uncertainty)."""
    return {sid: float(np.std(bl.in_sample_errors(run.arrays[sid].y, nt, "seasonal_naive", run.wcfg.season)))
            for sid, nt in run.n_train.items()}


def get_history(run: DemandRun, sid: str) -> pd.DataFrame:
    """Observed history of one series with a flag for the held-out part."""
    a = run.arrays[sid]
    return pd.DataFrame({"date": a.dates[: a.n], "y": a.y, "held_out": np.arange(a.n) >= run.n_train[sid]})


def run_summary(run: DemandRun) -> dict:
    """JSON-serialisable summary (configuration, window shape, timings, exclusions)."""
    from core.ml.training import summarize_epochs

    return {"config": asdict(run.config), "window": run.wcfg.to_dict(), "timings": run.timings,
            "excluded": run.excluded, "notices": run.notices, "device": run.device,
            **summarize_epochs(run.history, run.config.epochs), "frequency": run.data.frequency,
            "n_series": len(run.n_train), "interval_calibration_factor": round(run.spread_factor, 4)}

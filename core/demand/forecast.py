"""Train the global quantile model, run the rolling-origin backtest and forecast the future.

Split: per series, the last ``horizon + (origins - 1) * step`` periods are held out (or the rows of
a separate test file). The model trains once on windows whose targets lie wholly before the first
origin; at every later origin it reads the actual history up to that origin (no refit, no data
after the origin), as do the two baselines.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.demand import baselines as bl
from core.demand.data import SERIES_COL, SalesData
from core.demand.features import (SeriesArrays, WindowConfig, Windows, covariate_scales, make_config,
                                  make_windows, series_arrays, to_units)
from core.demand.fmetrics import compute_metrics_table, compute_per_series
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

    def aggregate_scale(self, periods: int) -> float:
        """How much wider the demand spread over ``periods`` really is than the per-period spreads
        combined as if independent (forecast errors of neighbouring periods are correlated).
        Root mean square of standardised validation residuals of the summed demand."""
        from core.demand.inventory import aggregate_scale

        if self.val_actual is None or self.val_quantiles is None:
            return 1.0
        return aggregate_scale(self.val_actual, self.val_quantiles, periods)

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
    lengths = data.lengths()
    keep, origins, excluded = {}, {}, []
    for sid in data.series_ids:
        n = int(lengths[sid])
        nt = n_train[sid] if n_train else n - hold
        if nt < wcfg.input_len:
            need = wcfg.input_len + (hold if not n_train else 0)
            excluded.append({"series": sid, "periods": n, "reason":
                             f"too short: {n} periods, needs at least {need} (input window "
                             f"{wcfg.input_len} + held-out {hold})"})
            continue
        T = np.arange(nt - 1, n - wcfg.horizon, step)[: cfg.origins]
        if len(T) == 0:
            excluded.append({"series": sid, "periods": n, "reason": "no test periods after the training data"})
            continue
        keep[sid], origins[sid] = nt, T
    if not keep:
        raise DataValidationError(
            f"No series is long enough to forecast: each needs at least {wcfg.input_len + hold} periods "
            f"(input window {wcfg.input_len} + held-out {hold}); the longest has {int(lengths.max())}. "
            "Choose a shorter horizon or fewer backtest origins, or upload more history."
        )
    return keep, origins, excluded


def _training_origins(n_train: dict[str, int], wcfg: WindowConfig, cap: int) -> tuple[dict, dict, int]:
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
                 progress: Callable[[int, int, dict], None] | None = None) -> DemandRun:
    """Train the global quantile network and evaluate it against the baselines on the backtest."""
    from core.demand.model import apply_spread, build_quantile_model, calibrate_spread, predict_quantiles
    from core.training import train_keras

    t0 = time.perf_counter()
    notices: list[str] = []
    wcfg = make_config(data, cfg.horizon, cfg.input_len)
    given_train = None
    if test is not None:
        data, given_train, notices = combine_test(data, test)
    n_train, origins, excluded = plan_split(data, wcfg, cfg, given_train)
    scales = covariate_scales(data, wcfg, n_train)
    arrays = series_arrays(data, wcfg, scales)
    tr_o, va_o, stride = _training_origins(n_train, wcfg, cfg.max_windows)
    if stride > 1:
        notices.append(f"Training used every {stride}th window (cap {cfg.max_windows:,}) to stay within memory.")
    if sum(len(t) for t in tr_o.values()) == 0:
        raise DataValidationError(
            f"No training windows: each series needs at least {wcfg.input_len + wcfg.horizon} periods "
            f"before the test period (input window {wcfg.input_len} + horizon {wcfg.horizon}). "
            "Choose a shorter horizon or upload more history."
        )
    train_w = make_windows(arrays, wcfg, tr_o)
    val_w = make_windows(arrays, wcfg, va_o) if sum(len(t) for t in va_o.values()) else train_w
    # Small data sets (one monthly series gives ~50 windows) need several gradient steps per epoch,
    # or early stopping ends training after a handful of updates and results swing with the seed.
    batch = int(min(cfg.batch_size, max(16, len(train_w) // 8)))
    t1 = time.perf_counter()
    fit = train_keras(
        lambda: build_quantile_model(train_w.hist.shape[1], wcfg.horizon, train_w.fut.shape[2],
                                     width=cfg.width, learning_rate=cfg.learning_rate),
        train_w.inputs(), train_w.target, val_w.inputs(), val_w.target,
        epochs=cfg.epochs, batch_size=batch, seed=cfg.seed, patience=cfg.patience, progress=progress)
    t2 = time.perf_counter()
    val_qz = predict_quantiles(fit.model, val_w.inputs())
    factor = calibrate_spread(val_qz, val_w.target)
    val_q = to_units(apply_spread(val_qz, factor), val_w.level)
    val_y = to_units(val_w.target, val_w.level)

    def predict(model, inputs):
        return apply_spread(predict_quantiles(model, inputs), factor)

    backtest = _backtest(fit.model, arrays, wcfg, origins, n_train, predict)
    metrics = compute_metrics_table(backtest, METHODS)
    per_series = pd.concat([compute_per_series(backtest, p).assign(method=METHODS[p]) for p in METHODS],
                           ignore_index=True)
    future = forecast_future(fit.model, arrays, wcfg, n_train, predict)
    if data.covariates:
        notices.append("Future covariates are not in the data: promotions/holidays are assumed off and "
                       "other covariates (e.g. price) keep their last value in the forward forecast.")
    t3 = time.perf_counter()
    timings = {"prepare": t1 - t0, "train": t2 - t1, "backtest": t3 - t2, "total": t3 - t0}
    return DemandRun(cfg, wcfg, data, fit.model, fit.history, arrays, n_train, scales, backtest, metrics,
                     per_series, future, excluded, {k: round(v, 3) for k, v in timings.items()}, notices,
                     fit.device.label if fit.device else "", train_w, factor, val_y, val_q)


def _backtest(model, arrays, wcfg: WindowConfig, origins: dict, n_train: dict, predict) -> pd.DataFrame:
    w = make_windows(arrays, wcfg, origins, with_target=False)
    q = to_units(predict(model, w.inputs()), w.level)  # (N, H, 3)
    H, m = wcfg.horizon, wcfg.season
    rows = []
    for i, (sid, T) in enumerate(zip(w.sid, w.origin)):
        a = arrays[sid]
        nt = n_train[sid]
        y = a.y
        block = {"series": sid, "origin": a.dates[T], "date": a.dates[T + 1:T + H + 1],
                 "step": np.arange(1, H + 1), "y": y[T + 1:T + H + 1],
                 "scale": bl.mase_scale(y, nt, m),
                 "nn_p10": q[i, :, 0], "nn_p50": q[i, :, 1], "nn_p90": q[i, :, 2]}
        for kind in bl.BASELINES:
            bq = bl.baseline_quantiles(kind, y, int(T), H, m, bl.in_sample_errors(y, nt, kind, m))
            block[f"{kind}_p10"], block[f"{kind}_p50"], block[f"{kind}_p90"] = bq[:, 0], bq[:, 1], bq[:, 2]
        rows.append(pd.DataFrame(block))
    return pd.concat(rows, ignore_index=True)


def forecast_future(model, arrays, wcfg: WindowConfig, n_train: dict, predict) -> pd.DataFrame:
    """Forecast the ``horizon`` periods after each series' last date (model and seasonal naive)."""
    origins = {sid: np.array([arrays[sid].n - 1]) for sid in n_train}
    w = make_windows(arrays, wcfg, origins, with_target=False)
    q = to_units(predict(model, w.inputs()), w.level)
    H, m = wcfg.horizon, wcfg.season
    rows = []
    for i, sid in enumerate(w.sid):
        a = arrays[sid]
        T = a.n - 1
        errs = bl.in_sample_errors(a.y, a.n, "seasonal_naive", m)
        sn = bl.baseline_quantiles("seasonal_naive", a.y, T, H, m, errs)
        rows.append(pd.DataFrame({
            "series": sid, "date": a.dates[T + 1:T + H + 1], "step": np.arange(1, H + 1),
            "p10": q[i, :, 0], "p50": q[i, :, 1], "p90": q[i, :, 2],
            "naive_p50": sn[:, 1], "naive_sd": float(np.std(errs)),
        }))
    return pd.concat(rows, ignore_index=True)


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
    return {"config": asdict(run.config), "window": run.wcfg.to_dict(), "timings": run.timings,
            "excluded": run.excluded, "notices": run.notices, "device": run.device,
            "epochs_run": len(run.history.get("loss", [])), "frequency": run.data.frequency,
            "n_series": len(run.n_train), "interval_calibration_factor": round(run.spread_factor, 4)}

"""SHAP for the forecasting network: which lags, calendar features and covariates drove a forecast.

Uses ``shap.GradientExplainer`` (expected gradients) on the Keras model with a fixed, non-trainable
read-out layer that picks P50 at one horizon step, or averages P50 over the horizon. Never
DeepExplainer (it breaks TensorFlow for the whole process when it fails). Values are in the
model's space: log demand relative to the series' recent level, so +0.10 means about +10 %.
Raw input columns are summed into readable groups (all 28 'day of week' one-hots of a horizon
-> 'day of week'); expected-gradient values are additive, so group sums are valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.demand.features import calendar_group, feature_names, make_windows, unsquash
from core.demand.forecast import DemandRun, _training_origins
from core.errors import DataValidationError
from core.ml.explain import ShapResult


@dataclass
class DemandShap:
    """Grouped SHAP values plus the rows they explain (series, origin date, step)."""

    result: ShapResult
    rows: pd.DataFrame
    step: int | None  # None: mean P50 over the horizon


def _groups(run: DemandRun) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Group name per history input and per future input column (ref input -> reference group)."""
    hist, fut = feature_names(run.wcfg)
    hg = [n if n.startswith("lag ") or n == "recent level" else n.split(" (lag")[0] for n in hist]
    fg = [calendar_group(n) if not n.endswith("(forecast period)") else n for n in fut]
    fg = ["horizon position" if n in ("horizon step", "seasons back") else n for n in fg]
    names = list(dict.fromkeys(hg + fg))
    return names, np.array([names.index(g) for g in hg]), np.array([names.index(g) for g in fg])


def _readout_model(model, horizon: int, step: int | None):
    import keras

    w = np.zeros((horizon * 3, 1), dtype="float32")
    if step is None:
        w[1::3] = 1.0 / horizon
    else:
        w[(step - 1) * 3 + 1] = 1.0
    sel = keras.layers.Dense(1, use_bias=False, trainable=False, name="p50_readout")
    out = sel(keras.layers.Flatten(name="flat_quantiles")(model.output))
    sel.set_weights([w])
    return keras.Model(model.inputs, out, name="p50_readout_model")


def compute_demand_shap(run: DemandRun, origins: dict[str, np.ndarray], *, step: int | None = None,
                        n_background: int = 100, nsamples: int = 200, seed: int = 0,
                        readout=None) -> DemandShap:
    """SHAP values for the windows ending at ``origins`` (series -> period indices).

    ``readout(model, horizon, step)`` builds the explained model from the network (default: its
    P50 in log space relative to the level, ``_readout_model``); ``core.demand.ensemble`` passes
    the ensemble's P50 in units."""
    import shap

    H = run.wcfg.horizon
    if step is not None and not 1 <= step <= H:
        raise DataValidationError(f"Forecast step must be between 1 and {H}; got {step}. Pick a date in the horizon.")
    if run.train_windows is None or len(run.train_windows) == 0:
        raise DataValidationError("SHAP needs the training windows as background; got none. Train a model first.")
    w = make_windows(run.arrays, run.wcfg, origins, with_target=False)
    rng = np.random.default_rng(seed)
    bg_idx = rng.choice(len(run.train_windows), min(n_background, len(run.train_windows)), replace=False)
    bg = [x[bg_idx] for x in run.train_windows.inputs()]
    wrap = (readout or _readout_model)(run.model, H, step)
    explainer = shap.GradientExplainer(wrap, bg)
    sv = explainer.shap_values(w.inputs(), nsamples=nsamples, rseed=seed)
    sv = [np.asarray(s)[..., 0] if np.asarray(s).shape[-1] == 1 and np.asarray(s).ndim > 2 else np.asarray(s)
          for s in sv]
    names, hgi, fgi = _groups(run)
    n = len(w)
    vals = np.zeros((n, len(names)))
    np.add.at(vals.T, hgi, sv[0].reshape(n, -1).T)
    fut_sv = sv[1].reshape(n, H, -1)
    np.add.at(vals.T, fgi, fut_sv.sum(axis=1).T)
    # The reference input is what P50 corrects: the seasonal naive value (version 1), the smoothed one (2).
    ref_group = "seasonal naive reference" if run.wcfg.version < 2 else "smoothed seasonal reference"
    vals[:, names.index(ref_group)] += sv[2].reshape(n, -1).sum(axis=1)
    base = float(np.mean(np.asarray(wrap(bg))))
    preds = np.asarray(wrap(w.inputs())).reshape(-1)
    display = _display(run, w, names, step)
    rows = pd.DataFrame({"series": w.sid, "origin": [run.arrays[s].dates[t] for s, t in zip(w.sid, w.origin)]})
    return DemandShap(ShapResult(values=vals, base_value=base, data=display, feature_names=names,
                                 predictions=preds), rows, step)


def _display(run: DemandRun, w, names: list[str], step: int | None) -> pd.DataFrame:
    """Readable values per group: units for lags and the reference, the forecast date's calendar,
    covariates at the explained step (or over the input window for their past values)."""
    d = pd.DataFrame("", index=range(len(w)), columns=names, dtype=object)
    L, m, s = run.wcfg.input_len, run.wcfg.season, step or 1
    ref_lag = m * int(np.ceil(s / m))
    for i, (sid, T) in enumerate(zip(w.sid, w.origin)):
        a = run.arrays[sid]
        for k in range(1, L + 1):
            d.loc[i, f"lag {k}"] = round(float(a.y[T - k + 1]), 2)
        d.loc[i, "recent level"] = round(float(np.expm1(w.level[i])), 2)
        if T + s - ref_lag >= 0:  # version 2 windows early in a series have no reference yet
            d.loc[i, "seasonal naive reference"] = round(float(a.y[T + s - ref_lag]), 2)
        if run.wcfg.version >= 2:
            _display_v2(d, i, a, T, s, m, L, w.level[i])
        date = a.dates[T + s]
        for g, v in (("day of week", date.day_name()), ("day of year", str(date.date())),
                     ("week of year", f"week {date.isocalendar().week}"), ("month", date.month_name()),
                     ("horizon position", f"step {s}" if step else "all steps")):
            if g in d.columns:
                d.loc[i, g] = v
        for j, c in enumerate(run.wcfg.covariates):
            raw = a.cov[:, j] if c in run.wcfg.binary else (unsquash(a.cov[:, j]) + 1) * run.scales[sid][j]
            past = raw[T - L + 1:T + 1]
            if f"past {c}" in d.columns:  # continuous covariates have no past inputs in newer runs
                d.loc[i, f"past {c}"] = (f"{int(past.sum())} of {L} periods" if c in run.wcfg.binary
                                         else f"mean {past.mean():.4g}")
            if f"{c} (forecast period)" in d.columns:  # observed covariates are never read for the forecast period
                d.loc[i, f"{c} (forecast period)"] = round(float(raw[T + s]), 4)
    return d


def _display_v2(d: pd.DataFrame, i: int, a, T: int, s: int, m: int, L: int, level: float) -> None:
    """Readable values of the version 2 inputs: the aligned and smoothed references in units, the
    week either side, the moving average and the level change against a year before."""
    lag = int(a.lags[T + s]) if a.lags is not None else m
    r = T + s - lag if s <= lag else T + s - m * int(np.ceil(s / m))
    if r >= 0:
        d.loc[i, "aligned seasonal reference"] = f"{a.y[r]:.2f} ({a.dates[r].date()})"
        if a.smooth is not None:
            d.loc[i, "smoothed seasonal reference"] = round(float(np.expm1(a.smooth[r])), 2)
        if r >= 1:
            d.loc[i, "reference week before"] = round(float(a.y[r - 1]), 2)
        if r + 1 <= T:
            d.loc[i, "reference week after"] = round(float(a.y[r + 1]), 2)
    d.loc[i, "moving average"] = round(float(a.y[max(0, T - m + 1):T + 1].mean()), 2)
    if T - m - L + 1 >= 0:
        change = np.expm1(level - a.logy[T - m - L + 1:T - m + 1].mean())
        d.loc[i, "level change vs a year before"] = f"{change * 100:+.0f} %"


def compute_global_shap(run: DemandRun, *, n_rows: int = 150, seed: int = 0, readout=None) -> DemandShap:
    """Overall importance: mean P50 over the horizon, for a seeded sample of training windows
    (``readout`` as for ``compute_demand_shap``)."""
    tr, _, _ = _training_origins(run.n_train, run.wcfg, run.config.max_windows)
    pairs = [(s, t) for s, ts in tr.items() for t in ts]
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(pairs), min(n_rows, len(pairs)), replace=False)
    origins: dict[str, list] = {}
    for k in sorted(pick):
        origins.setdefault(pairs[k][0], []).append(pairs[k][1])
    return compute_demand_shap(run, {s: np.array(v) for s, v in origins.items()}, step=None, seed=seed,
                               readout=readout)


def compute_local_shap(run: DemandRun, sid: str, date, *, seed: int = 0) -> DemandShap:
    """Why the forward forecast for ``sid`` on ``date`` is what it is."""
    step = local_step(run, sid, date)
    return compute_demand_shap(run, {sid: np.array([run.arrays[sid].n - 1])}, step=step, seed=seed)


def local_step(run: DemandRun, sid: str, date) -> int:
    """The horizon step of the forward forecast for ``sid`` on ``date``; a clear error when the series was
    not forecast or the date is outside its horizon (checked before any explaining starts)."""
    if sid not in run.n_train:
        raise DataValidationError(f"Series '{sid}' was not forecast; pick one of the listed series.")
    f = run.future[run.future["series"] == sid]
    hit = f[f["date"] == pd.Timestamp(date)]
    if hit.empty:
        raise DataValidationError(
            f"Date {pd.Timestamp(date).date()} is not in the forecast for '{sid}'; expected a date between "
            f"{f['date'].min().date()} and {f['date'].max().date()}. Pick a forecast date."
        )
    return int(hit["step"].iloc[0])

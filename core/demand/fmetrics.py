"""Forecast accuracy metrics, overall and per series.

MAPE skips periods with zero actual demand (it is undefined there) and says how many it skipped;
sMAPE counts 0/0 as a perfect 0; MASE divides by each series' in-sample seasonal-naive error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

METRIC_NAMES = ("mae", "rmse", "mape", "smape", "wape", "mase", "bias", "bias_pct", "coverage_p10_p90")


def _nan_to_none(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def compute_forecast_metrics(y, p50, p10=None, p90=None, *, scale=None) -> dict:
    """Accuracy of point forecast ``p50`` (and the P10-P90 interval) against actuals ``y``.

    ``scale`` is the MASE denominator per value (array) or a number; MASE is NaN without it.
    Percentages (mape, smape, wape, bias_pct, coverage) are in percent.
    """
    y = np.asarray(y, dtype=float).ravel()
    f = np.asarray(p50, dtype=float).ravel()
    if y.shape != f.shape:
        raise ValueError(f"actuals and forecasts differ in length: {y.shape} vs {f.shape}")
    if len(y) == 0:
        return {k: math.nan for k in METRIC_NAMES} | {"n": 0, "mape_zero_skipped": 0}
    err = f - y
    ae = np.abs(err)
    nz = y != 0
    denom = np.abs(y) + np.abs(f)
    sm = np.where(denom > 0, 2 * ae / np.where(denom > 0, denom, 1), 0.0)
    total = float(np.abs(y).sum())
    out = {
        "mae": float(ae.mean()),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "mape": float(np.mean(ae[nz] / np.abs(y[nz])) * 100) if nz.any() else math.nan,
        "smape": float(np.mean(sm) * 100),
        "wape": float(ae.sum() / total * 100) if total > 0 else math.nan,
        "bias": float(err.mean()),
        "bias_pct": float(err.sum() / total * 100) if total > 0 else math.nan,
        "n": int(len(y)),
        "mape_zero_skipped": int((~nz).sum()),
    }
    if scale is not None:
        s = np.broadcast_to(np.asarray(scale, dtype=float), y.shape)
        ok = np.isfinite(s) & (s > 0)
        out["mase"] = float(np.mean(ae[ok] / s[ok])) if ok.any() else math.nan
    else:
        out["mase"] = math.nan
    if p10 is not None and p90 is not None:
        lo = np.asarray(p10, dtype=float).ravel()
        hi = np.asarray(p90, dtype=float).ravel()
        out["coverage_p10_p90"] = float(np.mean((y >= lo) & (y <= hi)) * 100)
    else:
        out["coverage_p10_p90"] = math.nan
    return out


def compute_metrics_table(results: pd.DataFrame, methods: dict[str, str]) -> pd.DataFrame:
    """Metrics per method (rows) from a long backtest table.

    ``results`` has columns y, scale and, per method prefix p, ``{p}_p10``, ``{p}_p50``, ``{p}_p90``;
    ``methods`` maps prefix -> display name. MASE is averaged per series, as in the M competitions.
    """
    rows = []
    for prefix, label in methods.items():
        m = compute_forecast_metrics(results["y"], results[f"{prefix}_p50"], results[f"{prefix}_p10"],
                                     results[f"{prefix}_p90"], scale=results["scale"])
        per = [compute_forecast_metrics(g["y"], g[f"{prefix}_p50"], scale=g["scale"])["mase"]
               for _, g in results.groupby("series", sort=False)]
        per = [v for v in per if math.isfinite(v)]
        m["mase"] = float(np.mean(per)) if per else math.nan
        rows.append({"method": label, **m})
    return pd.DataFrame(rows).set_index("method")


def compute_per_series(results: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Metrics per series for one method prefix."""
    rows = []
    for sid, g in results.groupby("series", sort=False):
        m = compute_forecast_metrics(g["y"], g[f"{prefix}_p50"], g[f"{prefix}_p10"], g[f"{prefix}_p90"],
                                     scale=g["scale"])
        rows.append({"series": sid, **m})
    return pd.DataFrame(rows)


def clean_metrics(d: dict) -> dict:
    """JSON-safe metrics: NaN -> None, numbers rounded."""
    ints = ("n", "mape_zero_skipped")
    return _nan_to_none({k: (int(v) if k in ints and v == v else round(float(v), 6) if isinstance(v, float) else v)
                         for k, v in d.items()})

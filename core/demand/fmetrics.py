"""Forecast accuracy metrics, overall and per series.

WAPE (total absolute error / total demand) and MASE (error / the series' in-sample seasonal-naive
error) lead: both stay meaningful when some periods sell nothing. MAPE divides each error by its own
actual, so one near-zero week turns it into thousands of percent; it is given only when no actual
is near zero, otherwise NaN (shown as "—") with the count in ``near_zero_actuals``.

Near zero: an actual whose absolute value is at most ``NEAR_ZERO_FRAC`` (10 %) of its series' mean
absolute actual over the evaluated periods; zero and negative actuals always count. An error on
such a period is at least ten times the size it would have as a share of a typical period.
sMAPE counts 0/0 as a perfect 0; MASE divides by each series' in-sample seasonal-naive error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# Headline first: WAPE and MASE, then the unit errors, bias, interval coverage, and the percentages.
METRIC_NAMES = ("wape", "mase", "mae", "rmse", "bias", "bias_pct", "coverage_p10_p90", "smape", "mape")
NEAR_ZERO_FRAC = 0.10


def _nan_to_none(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def near_zero_level(y) -> float:
    """The level at or below which an actual counts as near zero for one series."""
    y = np.abs(np.asarray(y, dtype=float))
    return float(NEAR_ZERO_FRAC * y.mean()) if len(y) else 0.0


def compute_forecast_metrics(y, p50, p10=None, p90=None, *, scale=None, near_zero=None) -> dict:
    """Accuracy of point forecast ``p50`` (and the P10-P90 interval) against actuals ``y``.

    ``scale`` is the MASE denominator per value (array) or a number; MASE is NaN without it.
    ``near_zero`` is the near-zero level per value or a number (default: ``near_zero_level(y)``,
    i.e. ``y`` is one series); MAPE is NaN when any actual is at or below it.
    Percentages (mape, smape, wape, bias_pct, coverage) are in percent.
    """
    y = np.asarray(y, dtype=float).ravel()
    f = np.asarray(p50, dtype=float).ravel()
    if y.shape != f.shape:
        raise ValueError(f"actuals and forecasts differ in length: {y.shape} vs {f.shape}")
    if len(y) == 0:
        return {k: math.nan for k in METRIC_NAMES} | {"n": 0, "near_zero_actuals": 0}
    err = f - y
    ae = np.abs(err)
    level = np.broadcast_to(np.asarray(near_zero_level(y) if near_zero is None else near_zero, dtype=float),
                            y.shape)
    near = (y <= 0) | (np.abs(y) <= level)
    denom = np.abs(y) + np.abs(f)
    sm = np.where(denom > 0, 2 * ae / np.where(denom > 0, denom, 1), 0.0)
    total = float(np.abs(y).sum())
    out = {
        "wape": float(ae.sum() / total * 100) if total > 0 else math.nan,
        "mase": math.nan,
        "mae": float(ae.mean()),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "bias": float(err.mean()),
        "bias_pct": float(err.sum() / total * 100) if total > 0 else math.nan,
        "coverage_p10_p90": math.nan,
        "smape": float(np.mean(sm) * 100),
        "mape": float(np.mean(ae / np.abs(y)) * 100) if not near.any() else math.nan,
        "n": int(len(y)),
        "near_zero_actuals": int(near.sum()),
    }
    if scale is not None:
        s = np.broadcast_to(np.asarray(scale, dtype=float), y.shape)
        ok = np.isfinite(s) & (s > 0)
        out["mase"] = float(np.mean(ae[ok] / s[ok])) if ok.any() else math.nan
    if p10 is not None and p90 is not None:
        lo = np.asarray(p10, dtype=float).ravel()
        hi = np.asarray(p90, dtype=float).ravel()
        out["coverage_p10_p90"] = float(np.mean((y >= lo) & (y <= hi)) * 100)
    return out


def compute_metrics_table(results: pd.DataFrame, methods: dict[str, str]) -> pd.DataFrame:
    """Metrics per method (rows) from a long backtest table.

    ``results`` has columns y, scale and, per method prefix p, ``{p}_p10``, ``{p}_p50``, ``{p}_p90``;
    ``methods`` maps prefix -> display name. MASE is averaged per series, as in the M competitions.
    """
    rows = []
    level = results.groupby("series", sort=False)["y"].transform(near_zero_level)
    for prefix, label in methods.items():
        m = compute_forecast_metrics(results["y"], results[f"{prefix}_p50"], results[f"{prefix}_p10"],
                                     results[f"{prefix}_p90"], scale=results["scale"], near_zero=level)
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


def mape_note(m: dict) -> str | None:
    """Why MAPE is not given, or None when it is."""
    k = int(m.get("near_zero_actuals") or 0)
    if not k:
        return None
    return (f"MAPE not shown: {k} of {int(m.get('n') or 0)} actuals are near zero (at most "
            f"{NEAR_ZERO_FRAC:.0%} of their series' mean), where a percentage error explodes; read WAPE and MASE.")


def clean_metrics(d: dict) -> dict:
    """JSON-safe metrics in headline order (WAPE, MASE first): NaN -> None, numbers rounded."""
    ints = ("n", "near_zero_actuals")
    order = [k for k in METRIC_NAMES if k in d] + [k for k in d if k not in METRIC_NAMES]
    return _nan_to_none({k: (int(d[k]) if k in ints and d[k] == d[k] else round(float(d[k]), 6)
                             if isinstance(d[k], float) else d[k]) for k in order})

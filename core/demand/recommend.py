"""The forecast a demand run recommends, chosen on its validation periods only.

The candidates are the network, each baseline (seasonal naive, moving average) and the network
blended with a baseline at 25, 50 or 75 % (``core.search.ensemble``, the ensemble rule of every
scenario). They are scored by the (holiday-weighted) MAE of P50 on the validation periods — the last
periods of the training history, forecast by the network validated before its refit — and the lowest
wins; a tie keeps the network. The test periods only report the choice's figures, so the
recommendation is a forecast a planner could have picked before seeing them.
"""

from __future__ import annotations

import math

import numpy as np

NAMES = {"nn": "Keras quantile network", "seasonal_naive": "Seasonal naive", "moving_average": "Moving average"}


def recommend_forecast(run) -> dict:
    """``{"choice": "nn" | "ensemble" | baseline, "label", "validation_scores", "test_metrics", ...}``;
    ``{"checked": False, "note"}`` for runs without validation baselines (windows saved before)."""
    from core.search.ensemble import choose_ensemble, ensemble_label

    if run.val_baselines is None or run.val_quantiles is None or run.val_weight is None:
        return {"checked": False, "note": "This run has no validation forecasts of the baselines to choose with."}
    y = np.asarray(run.val_actual, dtype=float)
    w = np.where(np.isfinite(y), np.asarray(run.val_weight, dtype=float), 0.0)
    if not (w > 0).any():
        return {"checked": False, "note": "No validation periods to choose on."}
    y0 = np.nan_to_num(y)

    def score(p50) -> float:
        return float((w * np.abs(np.nan_to_num(p50) - y0)).sum() / w.sum())

    ens = choose_ensemble(score, run.val_quantiles[..., 1], dict(run.val_baselines), direction="minimize")
    scores = ens["validation_scores"]
    best_base = ens["best_baseline"]
    pick = min((("nn", scores["network"]), (best_base, scores[best_base]), ("ensemble", scores["ensemble"])),
               key=lambda kv: kv[1])[0]
    out = {"checked": True, "choice": pick, "use": pick != "nn", "metric": "wmae" if run.holiday_col else "mae",
           "validation_scores": {k: round(v, 4) for k, v in scores.items()}}
    if pick == "ensemble":
        from core.demand.search import demand_ensemble_metrics

        label = ensemble_label(ens, network=NAMES["nn"], names={k: v.lower() for k, v in NAMES.items()})
        out.update(baseline=ens["baseline"], weight=ens["weight"], label=label,
                   test_metrics=demand_ensemble_metrics(run, {**ens, "use": True}))
    else:
        row = run.metrics.loc[NAMES[pick]].to_dict()
        out.update(label=NAMES[pick], test_metrics={k: None if isinstance(v, float) and not math.isfinite(v)
                                                     else float(v) for k, v in row.items()})
    return out

"""The forecast a demand run recommends, chosen on its validation periods only.

The candidates are the network, each baseline (seasonal naive, moving average) and the network
blended with a baseline at 25, 50 or 75 % (``core.search.ensemble``, the ensemble rule of every
scenario). They are scored by the (holiday-weighted) MAE of P50 on the validation periods — the last
periods of the training history, forecast by the network validated before its refit. A candidate
replaces the network only when its gain is outside the validation noise: a paired bootstrap that
redraws whole series and whole validation periods together (``validation_noise``), because a few
validation weeks are all one season and the same weeks recur in every series' windows (one holiday
week can make a blend look better). Of the candidates whose gain is outside the noise, the lowest
validation score wins; when none is, the network is kept, as on a tie. The test periods only report
the choice's figures, so the recommendation is a forecast a planner could have picked before seeing them.
"""

from __future__ import annotations

import math

import numpy as np

NAMES = {"nn": "Keras quantile network", "seasonal_naive": "Seasonal naive", "moving_average": "Moving average"}
N_BOOT = 300
LEVEL = 0.95


def _groups(run, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each validation target's series and period (0 = the first validation period), (N, H) each.
    Without the windows' series and origins (runs built by hand), each window counts as a series and
    each horizon step as a period."""
    n, h = y.shape
    sid, origin = getattr(run, "val_sid", None), getattr(run, "val_origin", None)
    if sid is None or origin is None or len(sid) != n:
        return np.repeat(np.arange(n)[:, None], h, axis=1), np.repeat(np.arange(h)[None, :], n, axis=0)
    n_train = getattr(run, "n_train", None) or {}
    end = np.array([n_train.get(k.item() if hasattr(k, "item") else k, 0) for k in np.asarray(sid)], dtype=int)
    _, series = np.unique(np.asarray(sid).astype(str), return_inverse=True)
    # periods before each series' test start (-1 = the last validation period), so series that end
    # on the same date share their periods
    period = np.asarray(origin, dtype=int)[:, None] + 1 + np.arange(h)[None, :] - end[:, None]
    _, period = np.unique(period, return_inverse=True)
    return np.repeat(series.reshape(-1)[:, None], h, axis=1), period.reshape(n, h)


def validation_noise(err_model, err_other, weight, series, period, *, n_boot: int = N_BOOT, seed: int = 0,
                     level: float = LEVEL) -> dict:
    """The weighted MAE of ``err_other`` minus that of ``err_model`` (absolute errors, same targets) and
    its ``level`` interval from a paired bootstrap that gives every series and every period a Poisson(1)
    count, a target counting their product (a two-way bootstrap: the gain must hold over other series
    and other weeks). ``outside`` is true when the whole interval is below zero."""
    w = np.asarray(weight, dtype=float).ravel()
    d = (np.asarray(err_other, dtype=float).ravel() - np.asarray(err_model, dtype=float).ravel()) * w
    s, p = np.asarray(series).ravel(), np.asarray(period).ravel()
    ns, nperiods = int(s.max()) + 1, int(p.max()) + 1
    cell = s * nperiods + p  # (series, period) sums: the replicates only reweight cells
    diff = np.bincount(cell, d, ns * nperiods).reshape(ns, nperiods)
    mass = np.bincount(cell, w, ns * nperiods).reshape(ns, nperiods)
    point = float(diff.sum() / mass.sum())
    rng = np.random.default_rng(seed)
    ks, kp = rng.poisson(1.0, (n_boot, ns)), rng.poisson(1.0, (n_boot, nperiods))
    num = np.einsum("bs,sp,bp->b", ks, diff, kp)
    den = np.einsum("bs,sp,bp->b", ks, mass, kp)
    reps = num[den > 0] / den[den > 0]
    alpha = (1.0 - level) / 2.0
    low, high = (float(v) for v in np.quantile(reps, [alpha, 1.0 - alpha])) if len(reps) else (math.nan, math.nan)
    return {"difference": round(point, 4), "low": round(low, 4), "high": round(high, 4), "level": level,
            "outside": bool(high < 0), "series": int((mass.sum(axis=1) > 0).sum()),
            "periods": int((mass.sum(axis=0) > 0).sum()), "resampled": "series and periods"}


def recommend_forecast(run) -> dict:
    """``{"choice": "nn" | "ensemble" | baseline, "label", "validation_scores", "noise", "test_metrics", ...}``;
    ``{"checked": False, "note"}`` for runs without validation baselines (windows saved before)."""
    from core.search.ensemble import blend, choose_ensemble, ensemble_label

    if run.val_baselines is None or run.val_quantiles is None or run.val_weight is None:
        return {"checked": False, "note": "This run has no validation forecasts of the baselines to choose with."}
    y = np.asarray(run.val_actual, dtype=float)
    w = np.where(np.isfinite(y), np.asarray(run.val_weight, dtype=float), 0.0)
    if not (w > 0).any():
        return {"checked": False, "note": "No validation periods to choose on."}
    y0 = np.nan_to_num(y)

    def score(p50) -> float:
        return float((w * np.abs(np.nan_to_num(p50) - y0)).sum() / w.sum())

    network = run.val_quantiles[..., 1]
    ens = choose_ensemble(score, network, dict(run.val_baselines), direction="minimize")
    scores = ens["validation_scores"]
    metric = "wmae" if run.holiday_col else "mae"
    names = {k: v.lower() for k, v in NAMES.items()}
    # Every candidate that scored lower than the network on validation, lowest first (ties: baselines, then
    # the blends in choose_ensemble's order), with its gain against the validation noise.
    cands = [{"candidate": k, "score": scores[k]} for k in run.val_baselines]
    cands += [{"candidate": "ensemble", "baseline": c["baseline"], "weight": c["weight"], "score": c["score"]}
              for c in ens["candidates"]]
    cands = sorted((c for c in cands if c["score"] < scores["network"]), key=lambda c: c["score"])
    err_nn = np.abs(np.nan_to_num(network) - y0)
    groups = _groups(run, y) if cands else None
    for c in cands:
        other = (blend(network, run.val_baselines[c["baseline"]], c["weight"]) if c["candidate"] == "ensemble"
                 else run.val_baselines[c["candidate"]])
        c["noise"] = validation_noise(err_nn, np.abs(np.nan_to_num(other) - y0), w, *groups)
        c["label"] = ensemble_label(c, network=NAMES["nn"], names=names) if c["candidate"] == "ensemble" \
            else NAMES[c["candidate"]]
    safe = [c for c in cands if c["noise"]["outside"]]
    chosen = safe[0] if safe else None  # the lowest validation score among the gains outside the noise
    pick = chosen["candidate"] if chosen else "nn"
    shown = chosen or (cands[0] if cands else None)
    noise = None if shown is None else {**shown["noise"], "challenger": shown["candidate"],
                                        **({"baseline": shown["baseline"], "weight": shown["weight"]}
                                           if shown["candidate"] == "ensemble" else {})}
    if chosen and pick == "ensemble":
        scores = {**scores, "ensemble": chosen["score"]}  # the saved blend's own validation score
    out = {"checked": True, "choice": pick, "use": pick != "nn", "metric": metric,
           "validation_scores": {k: round(v, 4) for k, v in scores.items()}, "noise": noise,
           "lowest": None if not cands else {k: cands[0][k] for k in ("candidate", "baseline", "weight", "score", "label")
                                             if k in cands[0]},
           "candidates_checked": [{"label": c["label"], "score": round(c["score"], 4), "low": c["noise"]["low"],
                                   "high": c["noise"]["high"], "outside": c["noise"]["outside"]} for c in cands]}
    if cands and pick == "nn":
        c = cands[0]
        out["noise_note"] = (
            f"{c['label']} scored lower on the validation periods ({metric.upper()} {c['score']:,.1f} "
            f"against the network's {scores['network']:,.1f}), but inside the noise ({noise['level'] * 100:.0f} % interval "
            f"of the difference {noise['low']:+,.1f} to {noise['high']:+,.1f}, redrawing series and periods), as "
            "was every other candidate's gain: the network is kept.")
    if pick == "ensemble":
        from core.demand.search import demand_ensemble_metrics

        out.update(baseline=chosen["baseline"], weight=chosen["weight"], label=chosen["label"],
                   test_metrics=demand_ensemble_metrics(run, {"baseline": chosen["baseline"],
                                                              "weight": chosen["weight"], "use": True}))
    else:
        row = run.metrics.loc[NAMES[pick]].to_dict()
        out.update(label=NAMES[pick], test_metrics={k: None if isinstance(v, float) and not math.isfinite(v)
                                                     else float(v) for k, v in row.items()})
    return out

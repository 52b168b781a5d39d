"""The recommended demand forecast saved with the run: the network, or its blend with a baseline.

When ``core.demand.recommend`` picks the blend on the validation periods, the run keeps it under
``"blend"`` in its metadata (baseline, weight, the validation scores it was chosen on, the test
figures) and every door that forecasts with the saved run (``python -m core score``, the Score page,
Dask, ``python -m core serve`` on Keras or ONNX Runtime, the page's export) gives

    P50 = w * network P50 + (1 - w) * baseline,

with the baseline computed in numpy from the same history windows the network reads (seasonal naive:
the future input's last column; moving average: the history input next to last; version 2 windows).
P10 and P90 are the network's, shifted by the same offset as P50 (never below zero), so the interval
keeps the network's calibrated width and the safety stock and reorder point are built around the
saved P50. A run saved without ``"blend"`` forecasts with its network, as before.
"""

from __future__ import annotations

import numpy as np

from core.demand.baselines import BASELINES
from core.errors import DataValidationError

BLEND_VERSION = 1
INTERVALS = "the network's P10 and P90 shifted by the blend's change to P50 (never below zero)"


def blend_quantiles(q: np.ndarray, base: np.ndarray, weight: float) -> np.ndarray:
    """(..., 3) P10 / P50 / P90 in units with P50 = ``weight`` · network + (1 − ``weight``) · ``base``
    and P10 / P90 moved by the same offset (clipped at zero)."""
    q = np.asarray(q, dtype=float)
    shift = (1.0 - float(weight)) * (np.asarray(base, dtype=float) - q[..., 1])
    return np.maximum(q + shift[..., None], 0.0)


def check_blend(blend: dict, window: dict) -> tuple[str, float]:
    """The saved record's baseline and weight, or a clear error for a record this version cannot apply."""
    kind = blend.get("baseline") if isinstance(blend, dict) else None
    weight = blend.get("weight") if isinstance(blend, dict) else None
    if kind not in BASELINES or not isinstance(weight, (int, float)) or not 0.0 <= float(weight) <= 1.0:
        raise DataValidationError(
            f"The run's saved blend must name a baseline in {list(BASELINES)} and a network weight between 0 and 1; "
            f"got baseline {kind!r}, weight {weight!r}. Fix: train and save the run again.")
    if int(window.get("version", 1)) < 2:
        raise DataValidationError(
            f"The run's saved blend needs version 2 windows; this run's are version {window.get('version', 1)}. "
            "Fix: train and save the run again.")
    return str(kind), float(weight)


def window_baselines(w) -> dict[str, np.ndarray]:
    """The baselines' P50 in units on version 2 windows: seasonal naive (the future input's last
    column) and the moving average (the history input next to last), both relative to the level.
    The recommendation chooses with them on the validation windows; the saved blend applies them."""
    level = np.asarray(w.level)[:, None]
    return {"seasonal_naive": np.maximum(np.expm1(w.fut[..., -1] + level), 0.0),
            "moving_average": np.repeat(np.maximum(np.expm1(w.hist[:, -2:-1] + level), 0.0), w.fut.shape[1], axis=1)}


def window_baseline(w, kind: str) -> np.ndarray:
    """(N, H) the baseline ``kind``'s P50 in units on version 2 windows ``w``."""
    return window_baselines(w)[kind]


def blend_backtest(backtest, kind: str, weight: float):
    """The backtest with the saved forecast's columns ``ensemble_p10/p50/p90`` (the same rule)."""
    bt = backtest.copy()
    q = blend_quantiles(bt[["nn_p10", "nn_p50", "nn_p90"]].to_numpy(float), bt[f"{kind}_p50"].to_numpy(float), weight)
    for j, name in enumerate(("p10", "p50", "p90")):
        bt[f"ensemble_{name}"] = q[:, j]
    return bt


def saved_backtest(run):
    """``(backtest, prefix, name)`` of the saved forecast: the backtest with the blend's ``ensemble_p10/p50/p90``
    (prefix ``"ensemble"``, name ``"recommended blend"``) when the run has one, else the network's own
    (``"nn"``, ``"network"``). The policy costs, the workspace's figures and the page's tiles read it."""
    blend = getattr(run, "blend", None)
    if not blend:
        return run.backtest, "nn", saved_name(run)
    return blend_backtest(run.backtest, blend["baseline"], blend["weight"]), "ensemble", saved_name(run)


def saved_name(run) -> str:
    """The saved forecast in words: ``"recommended blend"`` or ``"network"``."""
    return "recommended blend" if getattr(run, "blend", None) else "network"


def saved_metrics(run) -> dict:
    """The saved forecast's test figures (WAPE, MASE, coverage, MAE, ...): the blend's when the run has one
    (None where undefined), else the network's row of ``run.metrics``."""
    blend = getattr(run, "blend", None)
    if blend:
        return dict(blend.get("test_metrics") or blend_test_metrics(run, blend["baseline"], blend["weight"]))
    return run.metrics.iloc[0].to_dict()


def saved_metrics_table(run):
    """``run.metrics`` with the saved blend's row first, named ``"Recommended: <label>"`` (the network keeps
    its own row, "Keras quantile network"); ``run.metrics`` itself without a blend."""
    import pandas as pd

    blend = getattr(run, "blend", None)
    if not blend:
        return run.metrics
    row = pd.DataFrame([saved_metrics(run)], index=[saved_row_name(run)]).astype(float)
    table = pd.concat([row.reindex(columns=run.metrics.columns), run.metrics])
    table.index.name = run.metrics.index.name
    return table


def saved_row_name(run) -> str:
    """The saved forecast's row in the page's tables and charts: ``"Recommended: <label>"`` with a blend, else the
    network's own row name, ``"Keras quantile network"``."""
    blend = getattr(run, "blend", None)
    return f"Recommended: {blend['label']}" if blend else str(run.metrics.index[0])


def saved_per_series(run):
    """``run.per_series`` (metrics per series and method) with the saved blend's rows first, named as in
    ``saved_metrics_table``; the network keeps its own rows. ``run.per_series`` itself without a blend."""
    import pandas as pd

    from core.demand.fmetrics import compute_per_series

    blend = getattr(run, "blend", None)
    if not blend:
        return run.per_series
    rows = compute_per_series(blend_backtest(run.backtest, blend["baseline"], blend["weight"]), "ensemble")
    return pd.concat([rows.assign(method=saved_row_name(run)), run.per_series], ignore_index=True)


def blend_test_metrics(run, kind: str, weight: float) -> dict:
    """The saved blend's test figures (the network's metrics, on the backtest's held-out periods)."""
    import math

    from core.demand.fmetrics import compute_metrics_table

    bt = blend_backtest(run.backtest, kind, weight)
    table = compute_metrics_table(bt, {"ensemble": "ensemble"})
    if "holiday" in bt and getattr(run, "holiday_col", None) is not None:
        from core.demand.holidays import add_wmae

        table = add_wmae(table, bt, {"ensemble": "ensemble"})
    return {k: (None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v))
            for k, v in table.loc["ensemble"].items()}


def apply_recommendation(run, rec: dict, *, enabled: bool = True) -> dict:
    """Make ``rec`` (``recommend_forecast(run)``) the run's saved forecast and return the JSON's
    ``recommended`` with ``"model"`` and ``"saved"``.

    The blend: ``run.blend`` is set (saved as ``"blend"`` by ``save_demand_run``) and ``run.future``,
    the forecast table, the policy and the export, becomes the blend's. A baseline alone: the network
    is saved and a note says plainly that the baseline did better on validation. ``enabled=False``
    (``--no-ensemble``): the network is recommended and saved."""
    out = _decide(run, rec, enabled)
    if out.get("test_metrics") is not None:
        out["metrics"] = out["test_metrics"]  # the key credit, fraud and quality use
    run.recommended = out
    return out


def _decide(run, rec: dict, enabled: bool) -> dict:
    out = {**rec, "model": "network", "saved": "network"}
    if not rec.get("checked"):
        return out
    choice = rec["choice"]
    if not enabled and choice == "ensemble":
        out.update(model="network", label="Keras quantile network", note=(
            f"The blend ({rec['label']}) did better on validation, but the blend was switched off "
            "(--no-ensemble): the network alone is recommended and saved."))
        out["test_metrics"] = _network_metrics(run)
        return out
    if choice == "ensemble":
        kind, weight = rec["baseline"], float(rec["weight"])
        metrics = blend_test_metrics(run, kind, weight)
        coverage = validation_coverage(run, kind, weight)
        run.blend = {"version": BLEND_VERSION, "model": "ensemble", "baseline": kind, "weight": weight,
                     "label": rec["label"], "chosen_on": "validation periods", "metric": rec["metric"],
                     "validation_scores": rec["validation_scores"], "intervals": INTERVALS,
                     "validation_coverage_p10_p90": coverage, "test_metrics": metrics}
        run.future = blend_future(run, kind, weight)
        out.update(model="ensemble", saved="ensemble", test_metrics=metrics, intervals=INTERVALS,
                   validation_coverage_p10_p90=coverage)
        return out
    if choice != "nn":
        out["note"] = (f"{rec['label']} alone did better than the network and its blend on the validation periods "
                       f"({rec['metric'].upper()} {rec['validation_scores'][choice]:,.1f} against the network's "
                       f"{rec['validation_scores']['network']:,.1f}); the saved forecast is still the network, "
                       f"so compare with {rec['label'].lower()} before ordering on it.")
    return out


def validation_coverage(run, kind: str, weight: float) -> dict | None:
    """% of validation actuals inside P10–P90, the network's and the blend's (intervals shifted):
    what the blend does to coverage, seen before the test periods."""
    y, q = run.val_actual, run.val_quantiles
    if y is None or q is None or run.val_baselines is None:
        return None
    ok = np.isfinite(y)
    if not ok.any():
        return None

    def cover(qq) -> float:
        return round(float(100.0 * ((y[ok] >= qq[..., 0][ok]) & (y[ok] <= qq[..., 2][ok])).mean()), 2)

    return {"network": cover(q), "ensemble": cover(blend_quantiles(q, run.val_baselines[kind], weight))}


def _network_metrics(run) -> dict:
    import math

    row = run.metrics.iloc[0].to_dict()
    return {k: None if isinstance(v, float) and not math.isfinite(v) else float(v) for k, v in row.items()}


def blend_future(run, kind: str, weight: float):
    """``run.future`` with P10 / P50 / P90 of the blend (the baseline from the last windows' inputs)."""
    from core.demand.features import make_windows

    origins = {sid: np.array([run.arrays[sid].n - 1]) for sid in run.n_train}
    w = make_windows(run.arrays, run.wcfg, origins, with_target=False)
    order = {sid: i for i, sid in enumerate(w.sid)}
    fut = run.future.copy()
    idx = fut["series"].map(order).to_numpy(int)
    step = fut["step"].to_numpy(int) - 1
    base = window_baseline(w, kind)[idx, step]
    q = blend_quantiles(fut[["p10", "p50", "p90"]].to_numpy(float), base, weight)
    fut["p10"], fut["p50"], fut["p90"] = q[:, 0], q[:, 1], q[:, 2]
    return fut


def recommended_text(rec: dict | None) -> tuple[str, str] | None:
    """``(level, sentence)`` naming the saved forecast for the page: ``"info"`` for the network or the blend,
    ``"warning"`` when a baseline alone did better on validation; None before a recommendation."""
    if not rec or not rec.get("checked"):
        return None
    scores, metric = rec.get("validation_scores") or {}, str(rec.get("metric", "mae")).upper()
    test = rec.get("test_metrics") or {}
    figures = ", ".join(f"{name} {test[k]:,.1f}" for k, name in (("wmae", "WMAE"), ("mae", "MAE"))
                        if isinstance(test.get(k), (int, float)))
    if isinstance(test.get("coverage_p10_p90"), (int, float)):
        figures += f", P10–P90 coverage {test['coverage_p10_p90']:.0f} %"
    if rec.get("model") == "ensemble":
        return "info", (f"**Recommended forecast (saved, scored and used for the inventory policy):** {rec['label']}, "
                        f"chosen on the validation periods ({metric} {scores.get('ensemble', float('nan')):,.1f} against "
                        f"the network's {scores.get('network', float('nan')):,.1f}); on the test periods {figures}. "
                        f"Its P10 and P90 are {INTERVALS}. The model file holds the network; the blend is applied "
                        "when the run forecasts.")
    if rec.get("note"):
        return "warning", f"**Recommended forecast:** {rec['note']}"
    if rec.get("noise_note"):  # a blend or baseline scored lower, but by less than the validation noise
        return "info", ("**Recommended forecast (saved, scored and used for the inventory policy):** the Keras quantile "
                        f"network, chosen on the validation periods: {rec['noise_note']}")
    return "info", (f"**Recommended forecast (saved, scored and used for the inventory policy):** the Keras quantile "
                    f"network, chosen on the validation periods ({metric} {scores.get('network', float('nan')):,.1f}; "
                    "no blend with a baseline did better there).")

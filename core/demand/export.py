"""Exports: forecast table CSV (intervals + reorder points) and the trained run via core.store.registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.demand.forecast import DemandRun, run_summary
from core.demand.inventory import PolicyParams, compute_policy_table
from core.data.safety import escape_formula_cells

FORECAST_FILE = "forecast.csv"


def get_forecast_table(run: DemandRun, params: PolicyParams) -> pd.DataFrame:
    """One row per series and forecast date: P10/P50/P90, naive forecast, policy per series."""
    policy = compute_policy_table(run.future, params, run.wcfg.horizon,
                                  run.aggregate_scale(params.lead_time + params.review_period))
    cols = ["series", "safety_stock", "reorder_point", "expected_cost", "naive_reorder_point"]
    out = run.future.merge(policy[cols], on="series", how="left")
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    num = out.select_dtypes("number").columns.drop("step")
    out[num] = out[num].round(3)
    return out[["series", "date", "step", "p10", "p50", "p90", "naive_p50", *cols[1:]]]


def forecast_csv(run: DemandRun, params: PolicyParams) -> bytes:
    """The forecast table as CSV bytes (for a download button)."""
    # Series names come from the upload: formula text is quoted so a spreadsheet shows it as text.
    return escape_formula_cells(get_forecast_table(run, params)).to_csv(index=False).encode("utf-8")


def save_demand_run(run: DemandRun, root, params: PolicyParams | None = None, *,
                    extra_metadata: dict | None = None, run_id: str | None = None) -> Path:
    """Save the model, its window configuration and the forecast table atomically (core.store.registry).

    ``extra_metadata`` (the workspace summary, see ``core.workspace``) is stored under "workspace".
    """
    from core.store.registry import save_run

    params = params or PolicyParams(lead_time=min(7, run.wcfg.horizon // 2),
                                    review_period=max(1, min(7, run.wcfg.horizon // 2)))
    meta = {"scenario": "demand", **run_summary(run), "column_map": {
        "date": run.data.columns.date, "target": run.data.columns.target, "series": list(run.data.columns.series),
        "covariates": run.data.covariates}, "covariate_scales": run.scales,
        "metrics": run.metrics.reset_index().to_dict(orient="records")}
    if run.blend is not None:  # the recommended blend: every door that scores the run applies it
        meta["blend"] = dict(run.blend)
    if extra_metadata:
        meta["workspace"] = dict(extra_metadata)
    return save_run(root, model=run.model, metadata=meta, run_id=run_id,
                    files={FORECAST_FILE: forecast_csv(run, params)})


def model_bytes(run: DemandRun) -> bytes:
    """The trained Keras model as a ``.keras`` file (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demand_model.keras"
        run.model.save(path)
        return path.read_bytes()


def forecast_with_saved(path, df: pd.DataFrame, *, loaded=None) -> tuple[pd.DataFrame, list[str]]:
    """Forecast the horizon after each series' last date in ``df`` with a saved demand run.

    Uses the saved column map, window configuration, covariate scales and interval calibration.
    Returns the forecast table and notices (series skipped as too short). ``loaded``: the run
    already loaded (``core.runtime.load_run_model``, e.g. on ONNX Runtime), else it is read from ``path``.
    """
    import numpy as np

    from core.demand.data import ColumnMap, load_sales
    from core.demand.features import (WindowConfig, covariate_scales, history_needed, make_windows, series_arrays,
                                      to_units)
    from core.demand.model import apply_spread, predict_quantiles
    from core.errors import DataValidationError
    from core.store.registry import load_run

    run = load_run(path) if loaded is None else loaded
    meta = run.metadata
    if meta.get("scenario") != "demand" or run.model is None:
        raise DataValidationError(f"'{path}' is not a saved demand run (scenario {meta.get('scenario')!r}). "
                                  "Pass a folder saved by the demand scenario.")
    cm = meta["column_map"]
    data = load_sales(df, ColumnMap(cm["date"], cm["target"], tuple(cm["series"]), tuple(cm["covariates"])))
    wcfg = WindowConfig.from_dict(meta["window"])
    if data.frequency != wcfg.frequency:
        raise DataValidationError(f"The model forecasts {wcfg.frequency} data; this file is {data.frequency}. "
                                  "Upload history at the model's frequency.")
    lengths = data.lengths()
    scales = {**covariate_scales(data, wcfg, lengths.to_dict()), **meta.get("covariate_scales", {})}
    arrays = series_arrays(data, wcfg, scales)
    need = history_needed(wcfg)  # the window, and (version 2) a season back for the seasonal reference
    ok = [s for s in data.series_ids if lengths[s] >= need]
    notices = [f"'{s}' skipped: {lengths[s]} periods, needs at least {need}"
               for s in data.series_ids if s not in ok]
    if not ok:
        raise DataValidationError(f"No series has the {need} periods of history the model reads. "
                                  "Upload a longer history.")
    w = make_windows(arrays, wcfg, {s: np.array([arrays[s].n - 1]) for s in ok}, with_target=False)
    factor = float(meta.get("interval_calibration_factor", 1.0))
    q = to_units(apply_spread(predict_quantiles(run.model, w.inputs()), factor), w.level)
    if meta.get("blend") is not None:  # the recommended blend with a baseline (core.demand.blend)
        from core.demand.blend import blend_quantiles, check_blend, window_baseline

        kind, weight = check_blend(meta["blend"], meta["window"])
        q = blend_quantiles(q, window_baseline(w, kind), weight)
    H = wcfg.horizon
    out = pd.concat([pd.DataFrame({
        "series": s, "date": arrays[s].dates[arrays[s].n:arrays[s].n + H].strftime("%Y-%m-%d"),
        "step": np.arange(1, H + 1), "p10": q[i, :, 0].round(3), "p50": q[i, :, 1].round(3),
        "p90": q[i, :, 2].round(3)}) for i, s in enumerate(w.sid)], ignore_index=True)
    return out, notices

"""Exports: forecast table CSV (intervals + reorder points) and the trained run via core.registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.demand.forecast import DemandRun, run_summary
from core.demand.inventory import PolicyParams, compute_policy_table


def get_forecast_table(run: DemandRun, params: PolicyParams) -> pd.DataFrame:
    """One row per series and forecast date: P10/P50/P90, naive forecast, policy per series."""
    policy = compute_policy_table(run.future, params, run.wcfg.horizon)
    cols = ["series", "safety_stock", "reorder_point", "expected_cost", "naive_reorder_point"]
    out = run.future.merge(policy[cols], on="series", how="left")
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    num = out.select_dtypes("number").columns.drop("step")
    out[num] = out[num].round(3)
    return out[["series", "date", "step", "p10", "p50", "p90", "naive_p50", *cols[1:]]]


def forecast_csv(run: DemandRun, params: PolicyParams) -> bytes:
    """The forecast table as CSV bytes (for a download button)."""
    return get_forecast_table(run, params).to_csv(index=False).encode("utf-8")


def save_demand_run(run: DemandRun, root, params: PolicyParams | None = None) -> Path:
    """Save the model, its window configuration and the forecast table atomically (core.registry)."""
    from core.registry import save_run

    params = params or PolicyParams(lead_time=min(7, run.wcfg.horizon // 2),
                                    review_period=max(1, min(7, run.wcfg.horizon // 2)))
    meta = {"scenario": "demand", **run_summary(run), "column_map": {
        "date": run.data.columns.date, "target": run.data.columns.target, "series": list(run.data.columns.series),
        "covariates": run.data.covariates}, "covariate_scales": run.scales,
        "metrics": run.metrics.reset_index().to_dict(orient="records")}
    return save_run(root, model=run.model, metadata=meta,
                    files={"forecast.csv": forecast_csv(run, params)})


def model_bytes(run: DemandRun) -> bytes:
    """The trained Keras model as a ``.keras`` file (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demand_model.keras"
        run.model.save(path)
        return path.read_bytes()

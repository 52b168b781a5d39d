"""Demand's scoring step, written once for every door.

The Score page and ``python -m core score`` (through ``core.serve.batch.score_with_run`` and the scenario's
``score`` hook), the Dask engine (``core.demand.scale``, the same call per group of series) and the
prediction service (``core.demand.serving``) all forecast with :func:`score_demand_batch`: P10 / P50 / P90
per series and each series' safety stock and reorder point under the decision settings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ON_HAND_COLUMNS = ("on_hand", "stock_on_hand", "inventory_on_hand", "stock")


def score_demand_batch(run_dir: Path, meta, df, s, progress, *, loaded=None):
    """Forecast the horizon after each series' history with P10 / P50 / P90, and each series' safety
    stock, reorder point (and order quantity with stock on hand) under the decision settings.
    ``loaded``: the run already loaded (a server keeps it), else it is read from ``run_dir``."""
    from core.serve.batch import BatchResult
    from core.demand.export import forecast_with_saved
    from core.demand.inventory import PolicyParams, check_params, policy_from_quantiles

    params = PolicyParams(service_level=float(s["service_level"]), lead_time=int(s["lead_time"]),
                          review_period=int(s["review_period"]), holding_cost=float(s["holding_cost"]),
                          stockout_cost=float(s["stockout_cost"]))
    horizon = int(meta["window"]["horizon"])
    check_params(params, horizon)
    progress(0.1, "Forecasting each series")
    table, skipped = forecast_with_saved(run_dir, df, loaded=loaded)
    progress(0.8, "Safety stock and reorder points")
    agg = float(s.get("aggregate_sigma_scale", 1.0))
    on_hand = stock_on_hand(df, meta)
    rows = []
    for sid, g in table.groupby("series", sort=False):
        pol = policy_from_quantiles(g.sort_values("step")[["p10", "p50", "p90"]].to_numpy(), params, agg)
        row = {"series": sid, "demand_over_protection": pol["demand_protection"],
               "safety_stock": pol["safety_stock"], "reorder_point": pol["reorder_point"],
               "expected_cost_per_period": pol["expected_cost"]}
        if on_hand is not None:
            have = on_hand.get(sid, np.nan)
            row["on_hand"] = have
            row["order_quantity"] = max(0.0, pol["reorder_point"] - have) if np.isfinite(have) else np.nan
        rows.append(row)
    policy = pd.DataFrame(rows).round(3)
    scored = table.merge(policy[["series", "safety_stock", "reorder_point"]
                                + (["order_quantity"] if on_hand is not None else [])], on="series", how="left")
    notices = [f"{n}." for n in skipped]
    if on_hand is None:
        notices.append("Order quantities need the stock on hand: add a column named "
                       f"{' / '.join(ON_HAND_COLUMNS[:2])} (its latest value per series is used). Until then, "
                       "order up to the reorder point minus your stock on hand and on order.")
    unit = {"daily": "day", "weekly": "week", "monthly": "month"}.get(meta["window"].get("frequency"), "period")
    figures = [("Series forecast", f"{policy['series'].nunique():,}"), ("Horizon", f"{horizon} {unit}s"),
               ("Total forecast (P50)", f"{table['p50'].sum():,.0f}"),
               ("Total safety stock", f"{policy['safety_stock'].sum():,.0f}")]
    if on_hand is not None:
        figures.append(("Units to order", f"{np.nansum(policy['order_quantity']):,.0f}"))
    progress(1.0, "Done")
    return BatchResult("demand", run_dir.name, scored, figures, policy,
                       {k: s[k] for k in ("service_level", "lead_time", "review_period", "holding_cost",
                                          "stockout_cost")}, notices=notices)


def stock_on_hand(df: pd.DataFrame, meta: dict) -> dict | None:
    """Latest stock on hand per series id (the ids ``load_sales`` builds), if the file has it."""
    from core.demand.data import series_ids

    col = next((c for c in df.columns if str(c).strip().lower() in ON_HAND_COLUMNS), None)
    if col is None:
        return None
    cm = meta["column_map"]
    dates = pd.to_datetime(df[cm["date"]], errors="coerce", format="mixed")
    sid = series_ids(df, cm["series"])
    frame = pd.DataFrame({"sid": sid, "date": dates, "v": pd.to_numeric(df[col], errors="coerce")}).dropna()
    last = frame.sort_values("date", kind="stable").groupby("sid")["v"].last()
    return {str(k): float(v) for k, v in last.items()}

"""Demand forecasting as the workspace sees it: the ``Scenario`` hooks (``core.scenarios``) for saved
runs, batch scoring (a forecast and an inventory policy per series), the command line and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.scenarios import ROOT, SCENARIOS, DecisionControl, Demo, ScenarioBase, register

SAMPLE = ROOT / "sample_data" / "demand_sales.csv"
ON_HAND_COLUMNS = ("on_hand", "stock_on_hand", "inventory_on_hand", "stock")


class DemandScenario(ScenarioBase):
    key = "demand"
    title = SCENARIOS["demand"].title
    input_kind = "table"
    decision_words = "P10 / P50 / P90 forecast, safety stock, reorder point (and order quantity with stock on hand)"
    input_hint = ("Give each series' recent history; the forecast starts after its last date. Add an `on_hand` "
                  "column to get order quantities.")
    decisions_title = "Inventory policy per series"
    intended_use = ("Forecast unit demand per series with P10 / P50 / P90 intervals and turn them into safety "
                    "stock and reorder points for periodic-review replenishment.")
    limitations = (
        "Future covariates (promotions, holidays) are assumed off and prices keep their last value unless "
        "supplied.",
        "Series shorter than the input window plus horizon are not forecast.",
        "The inventory costs are a backtest on held-out history, not a guarantee for future periods.",
    )
    model_text = ("One global Keras sequence model for all series, giving P10 / P50 / P90 forecasts, backtested "
                  "over rolling origins against seasonal-naive and moving-average forecasts.")

    def build_summary(self, run, **settings) -> dict:
        from core.demand.summary import build_demand_summary

        return build_demand_summary(run, **settings)

    def expected_input(self, meta: dict) -> dict:
        from core.columncheck import CATEGORY, DATE, NUMBER, expected_from_summary

        cm = meta.get("column_map")
        if not isinstance(cm, dict):
            return expected_from_summary(meta)
        kinds = {cm["date"]: DATE, cm["target"]: NUMBER}
        kinds.update({c: CATEGORY for c in cm.get("series", [])})
        kinds.update({c: NUMBER for c in cm.get("covariates", [])})
        return expected_from_summary(meta, kinds)

    def decision_settings(self, meta: dict) -> dict:
        from core.decisions import saved_decision

        dec = saved_decision(meta)
        horizon = int((meta.get("window") or {}).get("horizon", 14))
        half = max(1, min(7, horizon // 2))
        return {"service_level": float(dec.get("service_level", 0.95)),
                "lead_time": int(dec.get("lead_time", half)), "review_period": int(dec.get("review_period", half)),
                "holding_cost": float(dec.get("holding_cost", 0.1)),
                "stockout_cost": float(dec.get("stockout_cost", 2.0)),
                "aggregate_sigma_scale": float(dec.get("aggregate_sigma_scale", 1.0))}

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        unit = {"daily": "days", "weekly": "weeks", "monthly": "months"}.get(
            (meta.get("window") or {}).get("frequency"), "periods")
        return (DecisionControl("service_level", "Service level", 0.5, 0.999, 0.01, key="sl", slider=False,
                                help="Share of periods with no stock-out the safety stock aims for."),
                DecisionControl("lead_time", f"Lead time ({unit})", 0, 365, 1, key="lt", slider=False, whole=True),
                DecisionControl("review_period", f"Review period ({unit})", 1, 365, 1, key="rp", slider=False,
                                whole=True),
                DecisionControl("holding_cost", "Holding cost per unit per period", 0.0, 1e6, None, key="hc",
                                slider=False),
                DecisionControl("stockout_cost", "Stock-out cost per unit short", 0.0, 1e6, None, key="sc",
                                slider=False))

    def input_notices(self, report, df) -> list[str]:
        # A forecast is a new table, not the upload's rows; stock on hand feeds the order quantities.
        on_hand = tuple(c for c in report.extra if str(c).strip().lower() in ON_HAND_COLUMNS)
        return (report.notices(kept=False, used=on_hand)
                + [f"'{c}' is read as the stock on hand (its latest value per series)." for c in on_hand[:1]])

    def score(self, run_dir, meta, df, s, *, progress, reason_rows):
        return score_demand_batch(Path(run_dir), meta, df, s, progress)

    def demo(self) -> Demo:
        return Demo(sample=SAMPLE, weight=0.25, run=run_demo)


def score_demand_batch(run_dir: Path, meta, df, s, progress, *, loaded=None):
    """Forecast the horizon after each series' history with P10 / P50 / P90, and each series' safety
    stock, reorder point (and order quantity with stock on hand) under the decision settings.
    ``loaded``: the run already loaded (a server keeps it), else it is read from ``run_dir``."""
    from core.batch import BatchResult
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


def run_demo(root: Path, s, progress) -> Path:
    """Train on the bundled sales with the demo settings and a standard inventory policy, and save
    the run with its workspace summary."""
    from core.datasets import read_table
    from core.demand.data import load_sales
    from core.demand.roles import guess_columns
    from core.demand.export import save_demand_run
    from core.demand.forecast import DemandConfig, train_demand
    from core.demand.inventory import PolicyParams
    from core.demand.summary import build_demand_summary
    from core.runsummary import demo_run_name

    progress(0.0, "Reading the sales history")
    df = read_table(SAMPLE).df
    cmap = guess_columns(df)
    if s.demand_series and cmap.series:
        ids = df[list(cmap.series)].drop_duplicates().iloc[: s.demand_series]
        df = df.merge(ids, on=list(cmap.series)).reset_index(drop=True)
    sales = load_sales(df, cmap)
    horizon = {"daily": 28, "weekly": 8, "monthly": 12}[sales.frequency]
    run = train_demand(sales, DemandConfig(horizon=horizon, origins=1, epochs=s.epochs, seed=s.seed),
                       progress=lambda e, n, _l: progress(0.1 + 0.75 * e / n, f"Epoch {e} of {n}"))
    lead = min(7, max(0, horizon - 1))
    params = PolicyParams(lead_time=lead, review_period=max(1, min(7, horizon - lead)))
    summary = build_demand_summary(run, name=demo_run_name("demand"), params=params, data=df,
                                   dataset_name=SAMPLE.name)
    progress(0.95, "Saving the run")
    return save_demand_run(run, root, params, extra_metadata=summary)


SCENARIO = register(DemandScenario())

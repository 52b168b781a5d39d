"""Demand forecasting as the workspace sees it: the ``Scenario`` hooks (``core.store.scenarios``) for saved
runs, batch scoring (``core.demand.service``: a forecast and an inventory policy per series), the command
line and the demo."""

from __future__ import annotations

from pathlib import Path

from core.demand.service import ON_HAND_COLUMNS, score_demand_batch
from core.store.scenarios import ROOT, DecisionControl, Demo, ScenarioBase, ScenarioSpec, register

SAMPLE = ROOT / "sample_data" / "demand_sales.csv"


# Titles, question and page for the Overview and the navigation.
SPEC = ScenarioSpec(
    "demand", "Demand forecasting", ":material/trending_up:",
    "How much will each store sell, and when should it reorder?",
    "One global Keras model forecasts every store × product series with P10/P50/P90 "
    "intervals, backtested against seasonal-naive and moving-average baselines, and turns "
    "the quantiles into safety stock and reorder points.",
    "CSV or Parquet: date, quantity, optional series ids (store, product) and covariates.",
    "pages/demand.py",
    "sample_data/demand_next_quarter.csv",
    short_title="Demand",
)


class DemandScenario(ScenarioBase):
    key = "demand"
    title = SPEC.title
    spec = SPEC
    order = 30  # demand is listed third
    model_kind = "sequence"
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

    def memory_estimate(self, data, **opts):
        """One window (input plus horizon with covariates) per series and period of ``data`` (``SalesData``
        or its frame); ``opts["horizon"]`` defaults to one season."""
        import math

        from core.store.memory_guard import estimate_demand

        frame = getattr(data, "frame", data)
        season = int(getattr(data, "season", 0) or 7)
        horizon = int(opts.get("horizon") or season)
        input_len = max(season * math.ceil(horizon / season), 28 if getattr(data, "frequency", "") == "daily" else 1)
        covariates = len(getattr(data, "covariates", []) or [])
        return estimate_demand(int(len(frame)), input_len=input_len, horizon=horizon, covariates=covariates,
                               scenario=self.key)

    def build_summary(self, run, **settings) -> dict:
        from core.demand.summary import build_demand_summary

        return build_demand_summary(run, **settings)

    def expected_input(self, meta: dict) -> dict:
        from core.data.columncheck import CATEGORY, DATE, NUMBER, expected_from_summary

        cm = meta.get("column_map")
        if not isinstance(cm, dict):
            return expected_from_summary(meta)
        kinds = {cm["date"]: DATE, cm["target"]: NUMBER}
        kinds.update({c: CATEGORY for c in cm.get("series", [])})
        kinds.update({c: NUMBER for c in cm.get("covariates", [])})
        return expected_from_summary(meta, kinds)

    def decision_settings(self, meta: dict) -> dict:
        from core.serve.decisions import saved_decision

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
        return Demo(sample=SAMPLE, weight=0.25, run=run_demo,
                    settings={"demand_series": None})  # demand_series: the first N series kept


def run_demo(root: Path, s, progress) -> Path:
    """Train on the bundled sales with the demo settings and a standard inventory policy, and save
    the run with its workspace summary."""
    from core.data.datasets import read_table
    from core.demand import service
    from core.demand.data import load_sales
    from core.demand.roles import guess_columns
    from core.demand.forecast import DemandConfig
    from core.demand.inventory import PolicyParams
    from core.report.runsummary import demo_run_name
    from core.store.registry import new_run_id

    progress(0.0, "Reading the sales history")
    df = read_table(SAMPLE).df
    cmap = guess_columns(df)
    if s.demand_series and cmap.series:
        ids = df[list(cmap.series)].drop_duplicates().iloc[: s.demand_series]
        df = df.merge(ids, on=list(cmap.series)).reset_index(drop=True)
    sales = load_sales(df, cmap)
    horizon = {"daily": 28, "weekly": 8, "monthly": 12}[sales.frequency]
    lead = min(7, max(0, horizon - 1))
    # The recommended forecast is the one saved, planned with a standard policy that fits the horizon.
    outcome = service.train_and_decide(
        sales, config=DemandConfig(horizon=horizon, origins=1, epochs=s.epochs, seed=s.seed),
        params=PolicyParams(lead_time=lead, review_period=max(1, min(7, horizon - lead))),
        progress=lambda e, n, _l: progress(0.1 + 0.75 * e / n, f"Epoch {e} of {n}"))
    progress(0.95, "Saving the run")
    return service.save(outcome, root / new_run_id("demand"), name=demo_run_name("demand"), data=df,
                        dataset_name=SAMPLE.name)


SCENARIO = register(DemandScenario())

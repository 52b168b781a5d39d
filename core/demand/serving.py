"""A saved demand run as a predictor: each request is a history of sales rows (one or more series,
at least the model's input window each), forecast as ``python -m core score`` forecasts a file
(``core.demand.service.score_demand_batch``): P10 / P50 / P90 per series and date after its last date, with each series'
safety stock and reorder point under the saved policy, and order quantities when the rows carry stock
on hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.demand.service import ON_HAND_COLUMNS
from core.serve.serving import Predictor


class DemandPredictor(Predictor):
    optional = ON_HAND_COLUMNS

    def __init__(self, run_dir: Path, *, runtime: str):
        from core.serve.decisions import get_decision_settings
        from core.runtime import load_run_model

        self.loaded = load_run_model(run_dir, runtime=runtime)
        super().__init__(run_dir, self.loaded.metadata, runtime=runtime)
        self.settings = get_decision_settings(self.meta)  # the policy `python -m core score` applies

    def example_instances(self) -> list[dict]:
        """One series' last input window before the run's forecast (dates and series from the saved
        forecast), with the training profile's median sales and covariates: a request the model accepts."""
        from core.demand.export import FORECAST_FILE

        base = self.example_row()
        cm, window = self.meta["column_map"], self.meta["window"]
        from core.demand.features import WindowConfig, history_needed

        n = history_needed(WindowConfig.from_dict(window))  # the window and, in newer runs, a season back
        try:
            fc = pd.read_csv(self.run_dir / FORECAST_FILE, nrows=1)
            first, series = pd.Timestamp(fc["date"].iloc[0]), str(fc["series"].iloc[0])
        except (OSError, ValueError, KeyError, IndexError):
            first, series = pd.Timestamp.today().normalize(), ""
        step = {"weekly": pd.DateOffset(weeks=1), "monthly": pd.DateOffset(months=1)}.get(window["frequency"],
                                                                                            pd.DateOffset(days=1))
        ids = series.split(" / ") if len(series.split(" / ")) == len(cm["series"]) else \
            [f"{c}-1" for c in cm["series"]]
        rows = []
        for k in range(n, 0, -1):
            row = {cm["date"]: (first - k * step).strftime("%Y-%m-%d"), **dict(zip(cm["series"], ids))}
            row.update({c: base.get(c, 0) for c in [cm["target"], *cm["covariates"]]})
            rows.append(row)
        return rows

    def predict(self, df: pd.DataFrame, *, remember: bool = True) -> pd.DataFrame:
        from core.demand.service import score_demand_batch

        part = self.check(df)
        result = score_demand_batch(self.run_dir, self.meta, part, self.settings, lambda *_: None, loaded=self.loaded)
        out = result.scored.reset_index(drop=True)
        out.attrs["notices"] = list(result.notices)
        return out


def make_predictor(run_dir: Path, *, runtime: str) -> DemandPredictor:
    return DemandPredictor(run_dir, runtime=runtime)

"""Monitoring a demand run: one log row per series and forecast date; the actuals are the sales that
follow.

The row id is the series and the date (``"S1 / P7|2024-06-03"``), the event time the forecast date,
the score the P50 forecast (with P10 and P90 kept beside it). Outcomes are the units sold: a sales
file of the next periods (series columns, date, quantity) fed back matches the forecasts of those
dates. Realized per period: MAE, WAPE, bias and the share of actuals inside the P10–P90 interval,
against the backtest's figures saved with the run. There is no probability to estimate from, so no
estimate before the sales arrive; the forecasts' drift is their distribution against the training
history's quantities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.demand.data import forecast_ids  # noqa: F401  (its home before retraining needed it too)
from core.monitor.ids import ids_as_text
from core.monitor.spec import FORECAST, MonitorSpec, make_log_frame

NETWORK = "Keras quantile network"


def _cmap(meta: dict) -> dict:
    return meta.get("column_map") if isinstance(meta.get("column_map"), dict) else {}


class DemandMonitor(MonitorSpec):
    task = FORECAST
    score_label = "Forecast (P50)"
    positive = "units sold"
    realized_metrics = {"mae": "MAE", "wape": "WAPE (%)", "bias": "Bias", "coverage_p10_p90": "P10–P90 coverage (%)"}
    estimated_metrics: dict[str, str] = {}
    lower_is_better = ("mae", "wape")
    headline = verdict_metric = "wape"
    can_retrain = True
    retrain_note = ("pass the sales history with the new weeks appended (--data sales.csv, or the file on the Monitor "
                    "page): a demand run keeps no copy of its history.")

    def id_columns(self, meta, df):
        return [c for c in (_cmap(meta).get("series") or [])] + [_cmap(meta).get("date")]

    def log_frame(self, meta, inputs, scored):
        return make_log_frame(row_id=forecast_ids(scored["series"], scored["date"]), event_time=scored["date"],
                              score=scored["p50"].to_numpy(), decision=None,
                              outputs={"p10": scored["p10"].to_numpy(), "p90": scored["p90"].to_numpy(),
                                       "step": scored["step"].to_numpy()})

    def label_candidates(self, meta):
        names = (_cmap(meta).get("target"), "actual", "quantity", "units", "sales", "label")
        return list(dict.fromkeys(c for c in names if c))

    def read_labels(self, meta, values):
        s = pd.Series(values).reset_index(drop=True)
        y = pd.to_numeric(s, errors="coerce")
        bad = s[y.isna()]
        if len(bad):
            examples = ", ".join(repr(v) for v in pd.unique(bad.astype(str))[:5])
            raise DataValidationError(f"Expected the units sold as numbers; got {len(bad):,} other value(s) such as "
                                      f"{examples}. Fix: give each outcome as a number of units (0 for no sale).")
        return y.to_numpy(float)

    def ids_from_file(self, meta, df, id_column):
        from core.demand.data import series_ids

        if id_column is not None:
            return super().ids_from_file(meta, df, id_column)
        cm = _cmap(meta)
        need = list(cm.get("series") or []) + [cm.get("date")]
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise DataValidationError(f"Expected the sales file to name each row's series and date ({need}); got no "
                                      f"{missing} among {list(df.columns)[:12]}. Fix: send the sales with the training "
                                      "file's columns, or name an id column ('series|date') with --id-column.")
        ids = forecast_ids(series_ids(df, cm.get("series") or []), df[cm["date"]])
        return ids_as_text(ids)

    def realized(self, meta, frame):
        from core.demand.fmetrics import compute_forecast_metrics

        p10 = frame["out.p10"] if "out.p10" in frame else None
        p90 = frame["out.p90"] if "out.p90" in frame else None
        m = compute_forecast_metrics(frame["label"].to_numpy(float), frame["score"].to_numpy(float), p10, p90)
        return {k: (None if not np.isfinite(m[k]) else float(m[k])) for k in self.realized_metrics}

    def estimated(self, meta, frame, p):
        return {}

    def test_figures(self, meta, reference):
        rows = meta.get("metrics") if isinstance(meta.get("metrics"), list) else []
        net = next((r for r in rows if isinstance(r, dict) and r.get("method") == NETWORK), None)
        return {k: float(net[k]) for k in self.realized_metrics
                if net and isinstance(net.get(k), (int, float)) and np.isfinite(net[k])}

    def retrain(self, run_dir, meta, new_rows, holdout, *, save_to, extra_file=None, train_data=None,
                lineage=None, progress=None):
        # The file is the whole sales history (the new weeks appended), not rows to add: the challenger
        # learns every sale before the champion's forecast origin (core.demand.retrain).
        from core.demand.retrain import train_demand_challenger

        sales = extra_file
        if sales is None and train_data is not None:
            from core.data.datasets import read_table

            sales = read_table(train_data, max_rows=None, personal="drop").df
        return train_demand_challenger(Path(run_dir), meta, holdout, sales=sales, save_to=save_to, lineage=lineage,
                                       progress=progress)

    def score_reference(self, run_dir, meta, reference):
        return None

    def score_profile(self, meta, scores):
        # Forecasts are compared with the quantities of the training history (same units).
        from core.data.columncheck import get_training_profile

        target = _cmap(meta).get("target")
        column = ((get_training_profile(meta) or {}).get("columns") or {}).get(target)
        return {"rows": 0, "columns": {"score": column}} if column else None


MONITOR = DemandMonitor()

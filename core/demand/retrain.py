"""A demand challenger: the champion's recipe trained again on the sales history with the new weeks
appended, forecasting the latest labelled period from the same point in time as the champion did.

The champion forecast the comparison rows (series and dates of the latest period with actual sales
fed back) from the history it was given: its origin is each row's date less ``step - 1`` periods.
The challenger is trained on every sale of the new history *before* the earliest of those origins
(the original history plus the new weeks, nothing from the comparison period or after) and forecasts
the horizon from there, with the known-in-advance covariates of the file (promotions, holidays) as
any forecast uses them. So neither model has seen the comparison sales, and the challenger forecasts
each row at least as far ahead as the champion did (never with a shorter, easier horizon).
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError

HOLIDAY_WEIGHT = 5.0  # as the run's own WMAE (core.demand.fmetrics)


def forecast_origin(holdout: pd.DataFrame, freq: str) -> pd.Timestamp:
    """The first period the challenger may not learn from: the earliest first forecast date among
    the champion's forecasts of the comparison rows (its date less ``step - 1`` periods)."""
    from pandas.tseries.frequencies import to_offset

    dates = pd.to_datetime(holdout["event_time"])
    steps = pd.to_numeric(holdout.get("out.step", pd.Series(1, index=holdout.index)), errors="coerce").fillna(1)
    offset = to_offset(freq)
    firsts = [d - offset * int(max(s, 1) - 1) for d, s in zip(dates, steps.astype(int))]
    return pd.Timestamp(min(firsts)).normalize()


def train_demand_challenger(run_dir: Path, meta: dict, holdout: pd.DataFrame, *, sales: pd.DataFrame | None,
                            save_to: Path, lineage: dict | None = None, progress=None):
    """Train and save the challenger (see the module docstring); returns a ``core.monitor.spec.Challenger``
    with its P50 forecast of each ``holdout`` row (NaN beyond its horizon) and the rows' WMAE weights."""
    from core.demand import service
    from core.demand.data import ColumnMap, forecast_ids, load_sales
    from core.demand.forecast import DemandConfig
    from core.monitor.spec import Challenger

    say = progress or (lambda _m: None)
    if sales is None or not len(sales):
        raise DataValidationError(
            "Expected the sales history with the new weeks appended (the file the run was trained on, plus the sales "
            "since) to train a demand challenger; got none, and a demand run keeps no copy of its history. Fix: pass "
            f"it with python -m core retrain --model {run_dir} --data sales.csv, or upload it on the Monitor page.")
    cm = meta.get("column_map") or {}
    cmap = ColumnMap(cm["date"], cm["target"], tuple(cm.get("series") or ()), tuple(cm.get("covariates") or ()))
    missing = [c for c in (cmap.date, cmap.target, *cmap.series, *cmap.covariates) if c not in sales.columns]
    if missing:
        raise DataValidationError(f"Expected the sales history to have the run's columns {[cmap.date, cmap.target, *cmap.series, *cmap.covariates]}; "
                                  f"got none for {missing} among {list(sales.columns)[:12]}. Fix: pass the history in "
                                  "the training file's shape, the new weeks appended.")
    data = load_sales(sales, cmap)
    origin = forecast_origin(holdout, data.freq)
    past = data.frame["date"] < origin
    if not past.any():
        raise DataValidationError(f"Expected sales before {origin.date()} (the champion's forecast origin for the "
                                  f"comparison period) in the history; got none, the file starts on "
                                  f"{data.frame['date'].min().date()}. Fix: pass the whole history, the new weeks appended.")
    history = replace(data, frame=data.frame[past].reset_index(drop=True))
    future = data.frame.loc[~past, ["series", "date", *data.covariates]].reset_index(drop=True) if data.covariates else None
    saved = meta.get("config") or {}
    cfg = DemandConfig(**{f.name: saved[f.name] for f in fields(DemandConfig) if f.name in saved})
    say(f"Training the challenger on {int(past.sum()):,} series-periods of sales before {origin.date()}, "
        f"{len(history.series_ids):,} series")
    # The network as trained on the champion's settings (no recommended blend), planned with the default policy.
    outcome = service.train_and_decide(history, config=cfg, future=future, recommend=False)
    run = outcome.run
    ids = forecast_ids(run.future["series"], run.future["date"])
    p50 = pd.Series(run.future["p50"].to_numpy(float), index=ids.to_numpy())
    p50 = p50[~p50.index.duplicated()]
    scores = p50.reindex(holdout["row_id"].astype(str).to_numpy()).to_numpy(float)
    weights = None
    if run.holiday_col:
        flags = data.frame.assign(_id=forecast_ids(data.frame["series"], data.frame["date"]).to_numpy())
        flag = flags.set_index("_id")[run.holiday_col]
        flag = flag[~flag.index.duplicated()].reindex(holdout["row_id"].astype(str).to_numpy()).fillna(0).to_numpy(float)
        weights = np.where(flag > 0.5, HOLIDAY_WEIGHT, 1.0)
    name = f"{(meta.get('workspace') or {}).get('name') or meta.get('run_id')} · challenger"
    say("Saving the challenger")
    folder = service.save(outcome, Path(save_to), name=name, dataset_name="sales history + new weeks",
                          lineage={**dict(lineage or {}), "origin": str(origin.date())})
    notes = []
    beyond = int(np.isnan(scores).sum())
    if beyond:
        notes.append(f"{beyond:,} comparison row(s) lie beyond the challenger's {run.wcfg.horizon}-period horizon from "
                     f"{origin.date()} (or belong to series it could not forecast) and are not compared.")
    return Challenger(folder, scores, notes, weights=weights,
                      metric="holiday-weighted MAE" if weights is not None else "MAE")

"""Retraining: a challenger on the original data plus the newly labelled rows, judged against the
champion on the latest labelled period, never on rows it learnt from.

``retrain(run_dir, data=..., by="week")``:

1. the labelled predictions of the log (each row id once: its latest prediction and latest label);
2. the **comparison rows**: the later half of the latest period that has labels (in time order, whole
   days when rows have an event time). Neither model has learnt from them: the champion scored them
   before their labels existed, and the challenger never trains on them;
3. the **new training rows**: every other labelled prediction (its logged inputs and label), and
   the rows of ``data`` (a labelled file, e.g. next month's applications with their outcome) whose
   ids are not comparison rows; a row in both counts once, from the file;
4. the scenario trains the challenger on the run's original training rows plus the new ones, with
   the champion's recipe (``MonitorSpec.retrain``), and saves it with its champion recorded;
5. the verdict: the challenger's scores against the champion's logged scores on the same comparison
   rows, with the paired bootstrap of ``core.ml.verdict`` (better / on par / worse, outside the noise or
   not). Nothing is promoted: ``promote`` does that on request (``core.monitor.lineage``).

A forecast (demand) differs in three places: the comparison rows are the whole latest labelled period
(the challenger learns only the sales before the champion's forecast origin, so it never saw any of
them); ``data`` is the sales history with the new weeks appended, handed over whole; and the verdict
is the paired bootstrap of the mean absolute error (holiday-weighted when the run has a holiday flag)
over the compared series-periods (``core.ml.verdict.compare_losses``).

A scenario whose labelled data are files rather than logged rows (quality inspection: images) trains
and judges its challenger whole in ``MonitorSpec.retrain_from_files`` (``core.quality.retrain``); the
status and lineage are recorded here alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.monitor.store import INPUT_PREFIX, open_log, utc_now

MIN_COMPARISON_ROWS = 20
OUTCOME_WORDS = {"better": "better than the champion, outside the noise: promote it if the team agrees",
                 "on par": "on par with the champion: the difference is inside the noise, so keep the champion",
                 "worse": "worse than the champion, outside the noise: keep the champion"}


@dataclass
class RetrainResult:
    champion: str
    challenger: Path
    period: str
    compared_rows: int
    new_rows: int
    file_rows: int
    verdict: object  # core.ml.verdict.Verdict (baseline = the champion)
    notices: list[str] = field(default_factory=list)
    unit: str = "rows"  # what is compared ("images" for quality inspection)
    more: dict = field(default_factory=dict)  # further figures of the comparison (e.g. defect recall)

    def sentence(self) -> str:
        v = self.verdict
        return (f"The challenger's {v.metric} on {self.compared_rows:,} comparison {self.unit} of {self.period} is "
                f"{v.value:.3f} against {v.baseline_value:.3f} for the champion: {v.diff:+.3f}, {v.level:.0%} interval "
                f"{v.low:+.3f} to {v.high:+.3f} — {OUTCOME_WORDS[v.outcome]}.")

    def to_dict(self) -> dict:
        return {"champion": self.champion, "challenger": str(self.challenger), "challenger_id": self.challenger.name,
                "comparison": {"period": self.period, "rows": self.compared_rows}, "new_rows": self.new_rows,
                "file_rows": self.file_rows, "verdict": {**self.verdict.to_dict(), "sentence": self.sentence()},
                "notices": list(self.notices), **self.more}


def labelled_rows(run_dir, by: str) -> pd.DataFrame:
    """Each labelled row id once: its latest logged prediction (inputs, score, decision) and latest label."""
    with open_log(run_dir) as con:
        return con.execute(f"""
            WITH p AS (SELECT *, row_number() OVER (PARTITION BY row_id ORDER BY scored_at DESC, log_key DESC) AS rn
                       FROM predictions),
                 o AS (SELECT row_id, label, row_number() OVER (PARTITION BY row_id ORDER BY received_at DESC, seq DESC,
                       label_key DESC) AS rn FROM labels)
            SELECT p.* EXCLUDE (rn), o.label, date_trunc('{by}', coalesce(p.event_time, p.scored_at)) AS period
            FROM p JOIN o ON p.row_id = o.row_id AND o.rn = 1 WHERE p.rn = 1
            ORDER BY coalesce(p.event_time, p.scored_at), p.scored_at, p.log_key""").df()


def comparison_mask(latest: pd.DataFrame) -> np.ndarray:
    """The later half of a period's rows (already in time order); with event times the cut moves to
    the start of its day, so whole days are compared (a time split trains on whole days)."""
    n = len(latest)
    cut = n // 2
    if n and latest["event_time"].notna().all():
        days = pd.to_datetime(latest["event_time"]).dt.normalize().to_numpy()
        first = np.searchsorted(days, days[cut], side="left")
        if 0 < first < n:
            cut = int(first)
    mask = np.zeros(n, dtype=bool)
    mask[cut:] = True
    return mask


def _inputs(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c.startswith(INPUT_PREFIX)]
    out = frame[cols].rename(columns=lambda c: c[len(INPUT_PREFIX):]).reset_index(drop=True)
    out["label"] = frame["label"].to_numpy(float)
    return out


def _verdict(spec, challenger, y, p_new, p_old, ok, forecast: bool):
    """Challenger against champion on the same rows: ROC-AUC / PR-AUC for a probability, the (weighted)
    mean absolute error for a forecast, each with the paired bootstrap of ``core.ml.verdict``."""
    from core.ml.verdict import compare_binary, compare_losses

    names = {"champion": "the champion"}
    if not forecast:
        return compare_binary(y[ok], p_new[ok], {"champion": p_old[ok]}, metric=spec.verdict_metric, names=names,
                              seed=0)
    weights = None if challenger.weights is None else np.asarray(challenger.weights, dtype=float)[ok]
    return compare_losses(np.abs(p_new[ok] - y[ok]), {"champion": np.abs(p_old[ok] - y[ok])}, metric=challenger.metric,
                          weights=weights, names=names, seed=0)


def default_target(run_dir: Path) -> Path:
    """``<runs folder>/<champion>-challenger-<n>``, the first free n."""
    n = 1
    while (run_dir.parent / f"{run_dir.name}-challenger-{n}").exists():
        n += 1
    return run_dir.parent / f"{run_dir.name}-challenger-{n}"


def retrain(run_dir, *, data=None, train_data=None, save=None, by: str = "week",
            progress: Callable[[str], None] | None = None) -> RetrainResult:
    """Train, save and judge a challenger of the run in ``run_dir`` (see the module docstring)."""
    from core.data.datasets import read_table
    from core.monitor.report import check_period, monitored_spec
    from core.monitor.spec import BINARY, FORECAST
    from core.store.registry import check_save_target

    run_dir = Path(run_dir)
    say = progress or (lambda _m: None)
    meta, spec = monitored_spec(run_dir)
    by = check_period(by)
    if not spec.can_retrain:
        raise DataValidationError(f"Expected a run whose scenario trains challengers from the monitor; got a "
                                  f"{meta.get('scenario')} run. Fix: {spec.retrain_note}")
    target = check_save_target(save if save is not None else default_target(run_dir), scenario=str(meta.get("scenario")))
    own = spec.retrain_from_files(run_dir, meta, data=data, train_data=train_data, save_to=target, progress=say)
    if own is not None:
        return _record(run_dir, own)
    rows = labelled_rows(run_dir, by)
    if not len(rows):
        raise DataValidationError(f"Expected labelled predictions of run '{run_dir.name}' to compare a challenger on; got "
                                  "none. Fix: score new data with the run, then feed the outcomes back (python -m core "
                                  f"feedback --model {run_dir} --data outcomes.csv, or the Monitor page).")
    latest_period = rows["period"].max()
    latest = rows[rows["period"] == latest_period].reset_index(drop=True)
    forecast = spec.task == FORECAST
    mask = np.ones(len(latest), dtype=bool) if forecast else comparison_mask(latest)
    holdout = latest[mask].reset_index(drop=True)
    start = pd.Timestamp(latest_period).date()
    period = f"the {by} from {start}"
    y = holdout["label"].to_numpy(float)
    if forecast and len(holdout) < MIN_COMPARISON_ROWS:
        raise DataValidationError(
            f"Expected at least {MIN_COMPARISON_ROWS} forecasts with actual sales in the latest labelled period "
            f"({period}); got {len(holdout):,}. Fix: compare over a longer period (--by month, or Month on the "
            "Monitor page), or feed back the sales of more days.")
    if len(holdout) < MIN_COMPARISON_ROWS or (spec.task == BINARY and len(np.unique(y)) < 2):
        raise DataValidationError(
            f"Expected at least {MIN_COMPARISON_ROWS} comparison rows with both outcomes in the latest labelled period "
            f"({period}); got {len(holdout):,} rows with {int(np.nansum(y)):,} positive. Fix: feed back more outcomes, "
            "or compare over a longer period (--by month).")
    held_ids = set(holdout["row_id"].astype(str))
    extra, file_ids, notices = None, set(), []
    if data is not None:
        say("Reading the labelled file")
        table = data if isinstance(data, pd.DataFrame) else read_table(data, max_rows=None, personal="drop").df
        ids = spec.ids_from_file(meta, table, None)
        labels = [c for c in spec.label_candidates(meta) if c in table.columns]
        if not labels:
            raise DataValidationError(f"Expected the outcome column ({', '.join(spec.label_candidates(meta))}) in the "
                                      f"labelled file; got columns {list(table.columns)[:12]}. Fix: pass a file with "
                                      "the outcomes, or retrain from the fed-back outcomes alone (leave out --data).")
        keep = (~ids.isin(held_ids)).to_numpy() & table[labels[0]].notna().to_numpy()
        if forecast:  # the whole history: the scenario cuts it before the champion's forecast origin
            keep = np.ones(len(table), dtype=bool)
        dropped = 0 if forecast else int((ids.isin(held_ids)).sum())
        if dropped:
            notices.append(f"{dropped:,} row(s) of the file are comparison rows: they are kept out of the challenger's "
                           "training.")
        extra = table[keep].reset_index(drop=True)
        file_ids = set(ids[keep].astype(str))
    others = rows[~rows["row_id"].astype(str).isin(held_ids | file_ids)].reset_index(drop=True)
    lineage = {"champion": run_dir.name, "champion_path": str(run_dir.resolve()), "holdout_period": period,
               "holdout_rows": int(len(holdout)),
               # A forecast's file is the whole history, not rows added to it: its rows are counted once.
               "new_rows": int((0 if forecast else len(others)) + (0 if extra is None else len(extra))),
               "file_rows": 0 if extra is None else int(len(extra)), "by": by,
               "trained_at": utc_now().isoformat(timespec="seconds")}
    # A forecast's scenario needs the logged rows themselves (series and date, the champion's step).
    compared = holdout if forecast else _inputs(holdout)
    challenger = spec.retrain(run_dir, meta, _inputs(others), compared, save_to=target, extra_file=extra,
                              train_data=train_data, lineage=lineage, progress=say)
    notices += challenger.notices
    p_new = np.asarray(challenger.scores, dtype=float)
    ok = np.isfinite(p_new)
    if ok.sum() < MIN_COMPARISON_ROWS:
        raise DataValidationError(f"Expected the challenger to score at least {MIN_COMPARISON_ROWS} comparison rows of "
                                  f"{period}; got {int(ok.sum()):,} of {len(holdout):,}. Fix: compare over a longer "
                                  "period (--by month) or feed back more outcomes.")
    verdict = _verdict(spec, challenger, y, p_new, holdout["score"].to_numpy(float), ok, forecast)
    result = RetrainResult(run_dir.name, Path(challenger.run_dir), period, int(ok.sum()), lineage["new_rows"],
                           lineage["file_rows"], verdict, notices)
    return _record(run_dir, result)


def _record(run_dir: Path, result: RetrainResult) -> RetrainResult:
    """Link champion and challenger: the challenger's role and verdict, the champion's list of challengers."""
    from core.monitor.lineage import read_status, write_status

    write_status(result.challenger, role="challenger", champion=run_dir.name,
                 verdict={**result.verdict.to_dict(), "sentence": result.sentence(), **result.more})
    write_status(run_dir, challengers=[*read_status(run_dir).get("challengers", []), result.challenger.name])
    return result


def retrain_job(run_dir: str, *, data=None, train_data=None, by: str = "week", report) -> RetrainResult:
    """``retrain`` as a job (``core.jobs``) from the Monitor page: its stage sentences reported as they come."""
    return retrain(run_dir, data=data, train_data=train_data, by=by, progress=report.status)

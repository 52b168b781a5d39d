"""The monitor of a saved run: per period, volume, drift, decisions, realized and estimated figures, alerts.

``compute_monitor(run_dir, by="week")`` reads the run's prediction log (``core.monitor.store``) and
groups the logged rows by the period of their event time (the transaction's time, the forecast
date) or, for rows without one, the time they were scored. For each period:

* **rows** scored and the **decision mix** (share of each decision);
* **PSI** of every logged input against the training profile saved with the run, and of the score
  against the run's test rows' scores, with ``core.data.drift`` (the same PSI as the Score page);
* **realized** figures on the rows whose labels came back (the scenario's metrics; a row scored
  twice counts once, with its latest prediction);
* **estimated** figures from the calibrated scores of every row (CBPE, ``core.monitor.cbpe``);
* **alerts** (``core.monitor.alerts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.monitor.alerts import MIN_ROWS, Alert, period_alerts
from core.monitor.calibration import Calibration, get_calibration
from core.monitor.spec import BINARY
from core.monitor.store import INPUT_PREFIX, apply_retention, compact, log_dir, open_log

PERIODS = ("day", "week", "month")


@dataclass
class Period:
    start: pd.Timestamp
    end: pd.Timestamp  # last day included
    rows: int
    psi: dict[str, float] = field(default_factory=dict)
    realized: dict = field(default_factory=dict)
    estimated: dict = field(default_factory=dict)
    decisions: dict[str, float] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    interval: tuple[float, float] | None = None  # 95 % bootstrap interval of the realized headline figure

    def to_dict(self) -> dict:
        return {"start": self.start.date().isoformat(), "end": self.end.date().isoformat(), "rows": self.rows,
                "psi": dict(self.psi), "realized": dict(self.realized),
                "realized_interval": None if self.interval is None else list(self.interval),
                "estimated": dict(self.estimated), "decisions": dict(self.decisions),
                "alerts": [a.to_dict() for a in self.alerts]}


@dataclass
class MonitorReport:
    """The monitor of one run (see the module docstring); ``to_dict()`` is the CLI's JSON."""

    run_id: str
    scenario: str
    by: str
    periods: list[Period]
    spec: object
    test: dict  # realized metrics on the run's test rows
    interval: tuple[float, float] | None  # 95 % bootstrap interval of the headline test figure
    reference_mix: dict[str, float] | None
    calibration: Calibration | None
    important: list[str]
    notices: list[str] = field(default_factory=list)

    @property
    def alerts(self) -> list[tuple[Period, Alert]]:
        return [(p, a) for p in self.periods for a in p.alerts]

    def metric_labels(self) -> dict[str, str]:
        return {**self.spec.realized_metrics, **self.spec.estimated_metrics}

    def to_dict(self) -> dict:
        return {"run": self.run_id, "scenario": self.scenario, "by": self.by,
                "periods": [p.to_dict() for p in self.periods],
                "reference": {"test": self.test, "interval": list(self.interval) if self.interval else None,
                              "decisions": self.reference_mix, "important_inputs": self.important},
                "calibration": None if self.calibration is None else {
                    **self.calibration.to_dict(), "sentence": self.calibration.sentence()},
                "notices": list(self.notices)}

    def table(self) -> pd.DataFrame:
        """One row per period: the figures a person reads and downloads (plain column names)."""
        labels = self.metric_labels()
        rows = []
        for p in self.periods:
            psi_inputs = {k: v for k, v in p.psi.items() if k != "score"}
            worst = max(psi_inputs, key=psi_inputs.get) if psi_inputs else None
            row = {"Period start": p.start.date().isoformat(), "Period end": p.end.date().isoformat(),
                   "Rows scored": p.rows, "Labelled rows": int(p.realized.get("labelled_rows") or 0),
                   "PSI of the score": p.psi.get("score"),
                   "Largest input PSI": psi_inputs.get(worst) if worst else None, "Input with the largest PSI": worst}
            row.update({f"Share {d}": s for d, s in p.decisions.items()})
            row.update({f"Realized {labels.get(k, k)}": v for k, v in p.realized.items() if k != "labelled_rows"})
            row.update({f"Estimated {labels.get(k, k)}": v for k, v in p.estimated.items()})
            row["Alerts"] = " | ".join(a.reason for a in p.alerts)
            rows.append(row)
        return pd.DataFrame(rows)


def monitored_spec(run_dir, meta: dict | None = None):
    """(metadata, the scenario's ``MonitorSpec``) of a run; raises ``DataValidationError`` when its
    predictions cannot be monitored."""
    from core.store.registry import read_metadata
    from core.store.scenarios import find_scenario

    meta = meta if meta is not None else read_metadata(run_dir)
    scenario = find_scenario(meta.get("scenario"))
    spec = scenario.monitor() if scenario is not None and hasattr(scenario, "monitor") else None
    why = "its scenario has no monitoring" if spec is None else spec.unsupported(meta)
    if why:
        raise DataValidationError(f"Expected a run whose predictions can be monitored; got run '{Path(run_dir).name}', "
                                  f"for which {why}. Fix: pick another run.")
    return meta, spec


def check_period(by: str) -> str:
    if by not in PERIODS:
        raise DataValidationError(f"Expected the period as one of {', '.join(PERIODS)}; got '{by}'. Fix: e.g. --by week.")
    return by


def headline_interval(spec, reference: pd.DataFrame | None, *, seed: int = 0, n_boot: int = 300) -> tuple | None:
    """95 % bootstrap interval of the ROC-AUC of ``reference``'s rows (``core.ml.verdict``'s Poisson
    weights): the test rows', or a period's labelled rows'."""
    if reference is None or spec.headline != "roc_auc" or "label" not in reference or not len(reference):
        return None
    from core.ml.verdict import _bootstrap_weights, _weighted_binary

    y, p = reference["label"].to_numpy(float).astype(int), reference["score"].to_numpy(float)
    if len(np.unique(y)) < 2:
        return None
    values = np.concatenate([_weighted_binary(y, p, W, "roc_auc") for W in _bootstrap_weights(len(y), n_boot, seed)])
    values = values[np.isfinite(values)]
    return (float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))) if len(values) else None


def _mix(decisions) -> dict[str, float]:
    s = pd.Series(decisions).dropna().astype(str)
    return {} if not len(s) else {k: float(v) for k, v in s.value_counts(normalize=True).sort_index().items()}


def _periods(con, by: str) -> pd.DataFrame:
    con.execute(f"""CREATE TEMP VIEW scored AS
        SELECT *, date_trunc('{by}', coalesce(event_time, scored_at)) AS period,
               row_number() OVER (PARTITION BY row_id ORDER BY scored_at DESC, log_key DESC) = 1 AS latest
        FROM predictions""")
    con.execute("""CREATE TEMP TABLE outcome AS SELECT row_id, label FROM (
        SELECT row_id, label, row_number() OVER (PARTITION BY row_id ORDER BY received_at DESC, seq DESC,
               label_key DESC) AS rn FROM labels) WHERE rn = 1""")
    return con.execute("SELECT period, count(*) AS n FROM scored GROUP BY period ORDER BY period").df()


def _period_rows(con, period) -> pd.DataFrame:
    return con.execute("""SELECT s.*, CASE WHEN s.latest THEN o.label END AS label
        FROM scored s LEFT JOIN outcome o USING (row_id) WHERE s.period = ?""", [period]).df()


def _period_end(start: pd.Timestamp, by: str) -> pd.Timestamp:
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(weeks=1), "month": pd.DateOffset(months=1)}[by]
    return start + step - pd.DateOffset(days=1)


def compute_monitor(run_dir, *, by: str = "week", maintain: bool = True) -> MonitorReport:
    """The monitor of the run in ``run_dir`` by ``by`` (day, week or month); see the module docstring."""
    from core.data.columncheck import get_training_profile
    from core.data.drift import DriftAccumulator
    from core.present.glossary import feature_label

    run_dir = Path(run_dir)
    meta, spec = monitored_spec(run_dir)
    by = check_period(by)
    if maintain:  # old days go, closed days' small files merge (both safe while others append)
        apply_retention(run_dir)
        compact(run_dir)
    notices: list[str] = []
    reference = spec.reference(run_dir, meta)
    if reference is None:
        notices.append("This run was saved without its test rows, so the score's drift, the test figure's interval "
                       "and the reference decision mix are not shown; train and save it again to get them.")
    calibration = get_calibration(log_dir(run_dir), reference) if spec.task == BINARY else None
    test = spec.test_figures(meta, reference)
    interval = headline_interval(spec, reference)
    ref_scores = spec.score_reference(run_dir, meta, reference)
    score_profile = spec.score_profile(meta, ref_scores)
    profile = get_training_profile(meta)
    ref_mix = None
    if ref_scores is not None:
        decided = spec.decide(meta, ref_scores)
        ref_mix = _mix(decided) if decided is not None else None
    important = spec.important_inputs(meta)
    labels = {c: feature_label(c) for c in ((profile or {}).get("columns") or {})}
    periods: list[Period] = []
    with open_log(run_dir) as con:
        for start, n in _periods(con, by).itertuples(index=False):
            if pd.isna(start):
                continue
            frame = _period_rows(con, start)
            start = pd.Timestamp(start)
            period = Period(start, _period_end(start, by), int(n))
            inputs = frame[[c for c in frame.columns if c.startswith(INPUT_PREFIX)]]
            inputs = inputs.rename(columns=lambda c: c[len(INPUT_PREFIX):])
            if profile is not None and len(inputs.columns):
                acc = DriftAccumulator(profile)
                acc.update(inputs)
                period.psi.update({str(r.variable): float(r.psi) for r in acc.result().itertuples()})
            if score_profile is not None:
                acc = DriftAccumulator(score_profile)
                acc.update(pd.DataFrame({"score": frame["score"].to_numpy(float)}))
                period.psi["score"] = float(acc.result()["psi"].iloc[0])
            period.decisions = _mix(frame["decision"])
            labelled = frame[frame["label"].notna()].reset_index(drop=True)
            period.realized = {"labelled_rows": int(len(labelled))}
            if len(labelled):
                period.realized.update(spec.realized(meta, labelled))
                period.interval = headline_interval(spec, labelled)
            if calibration is not None:
                p = calibration.apply(frame["score"].to_numpy(float))
                period.estimated = spec.estimated(meta, frame, p)
            period.alerts = period_alerts(period, spec=spec, test=test, interval=interval, important=important,
                                          reference_mix=ref_mix, labels=labels)
            periods.append(period)
    small = sum(p.rows < MIN_ROWS for p in periods)
    if small:
        notices.append(f"{small} period(s) have fewer than {MIN_ROWS} rows: their drift, estimate and decision-mix "
                       "figures are shown but raise no alert (over so few rows they move by chance). Choose a longer "
                       "period to have them checked.")
    if profile is None and spec.task == BINARY:
        notices.append("This run was saved without a profile of its training data, so input drift is not shown.")
    if not periods:
        notices.append("No predictions logged yet: score a file with this run (Score page, python -m core score, or "
                       "the HTTP service) and they appear here.")
    elif not any(p.realized.get("labelled_rows") for p in periods):
        notices.append("No outcomes yet: realized figures appear once labels come back (upload them below, "
                       "python -m core feedback, or POST /v1/models/{name}:feedback).")
    return MonitorReport(str(meta.get("run_id", run_dir.name)), str(meta.get("scenario")), by, periods, spec,
                         test, interval, ref_mix, calibration, important, notices)

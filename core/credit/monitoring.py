"""Monitoring a credit run: one log row per application, outcomes = default or not, months later.

The row id is the file's application id column (``applicant_id``, ``application_id``, ...); the event
time is an application date column when the file has one (else the time it was scored). Realized
figures once outcomes arrive: ROC-AUC, the bad rate of approved applicants (the defaults the
decision let through) and the default rate; before they arrive, the same three estimated from the
calibrated probabilities of default (CBPE). A challenger is the same recipe trained again on the
original applications plus the newly labelled ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.store.runmeta import decision as saved_decision
from core.store.runmeta import workspace
from core.monitor.spec import (Challenger, MonitorSpec, input_columns, make_log_frame, rate, read_binary_labels,
                               roc_auc, rows_with_inputs)

SCORE, DECISION = "probability_of_default", "decision"
APPROVE = "approve"


def find_time_column(df: pd.DataFrame, *, exclude=()) -> str | None:
    """A column of dates named like one (``application_date``, ``created_at``) that is not an input."""
    from core.data.datasets import parse_datetimes

    skip = {str(c) for c in exclude}
    for c in df.columns:
        name = str(c).lower()
        if str(c) in skip or not any(w in name for w in ("date", "time", "created", "applied")):
            continue
        sample = df[c].dropna().head(500)
        if len(sample) and parse_datetimes(sample.astype(str)).notna().mean() >= 0.9:
            return str(c)
    return None


class CreditMonitor(MonitorSpec):
    score_label = "Probability of default"
    positive = "a default"
    decision_names = ("approve", "decline")
    realized_metrics = {"roc_auc": "ROC-AUC", "bad_rate_approved": "Bad rate of approved",
                        "default_rate": "Default rate"}
    estimated_metrics = {"roc_auc": "ROC-AUC", "bad_rate_approved": "Bad rate of approved",
                         "default_rate": "Default rate"}
    headline = verdict_metric = "roc_auc"
    can_retrain = True

    batch_log = True  # log_frame's row_id is row_ids' (the request's id column)

    def log_frame(self, meta, inputs, scored, pause=None):
        kinds = input_columns(meta)
        src = rows_with_inputs(inputs, scored, kinds)
        ids = self.id_columns(meta, src)
        when = find_time_column(src, exclude=kinds)
        return make_log_frame(row_id=src[ids[0]] if ids else None, event_time=src[when] if when else None,
                              score=scored[SCORE].to_numpy(), decision=scored[DECISION].to_numpy(),
                              inputs=src, kinds=kinds, pause=pause)

    def label_candidates(self, meta):
        target = (meta.get("credit") or {}).get("target")
        return list(dict.fromkeys(c for c in (target, "default", "label", "outcome") if c))

    def read_labels(self, meta, values):
        return read_binary_labels(values, positive=(meta.get("credit") or {}).get("positive"), what="a default")

    def realized(self, meta, frame):
        y, p = frame["label"].to_numpy(float), frame["score"].to_numpy(float)
        approved = frame["decision"].astype(str).to_numpy() == APPROVE
        return {"roc_auc": roc_auc(y, p), "bad_rate_approved": rate(y[approved], approved[approved]),
                "default_rate": float(y.mean()) if len(y) else None}

    def estimated(self, meta, frame, p):
        from core.monitor.cbpe import expected_roc_auc

        approved = frame["decision"].astype(str).to_numpy() == APPROVE
        return {"roc_auc": expected_roc_auc(frame["score"].to_numpy(float), p),
                "bad_rate_approved": rate(p[approved], approved[approved]),
                "default_rate": float(np.mean(p)) if len(p) else None}

    def decide(self, meta, scores):
        from core.credit.scoring import decide
        from core.serve.decisions import get_decision_settings

        return decide(scores, float(get_decision_settings(meta)["threshold"]))

    def reference(self, run_dir, meta):
        from core.monitor.reference import read_reference

        ref = read_reference(run_dir)
        if ref is None:
            return None
        return ref.assign(decision=self.decide(meta, ref["score"].to_numpy(float)))

    # ------------------------------------------------------------ retraining
    def retrain(self, run_dir, meta, new_rows, holdout, *, save_to, extra_file=None, train_data=None,
                lineage=None, progress=None):
        from dataclasses import fields

        from core.credit import service
        from core.monitor.reference import load_training_rows
        from core.ml.tabular import TabularConfig

        say = progress or (lambda _m: None)
        cr = meta["credit"]
        target, positive = cr["target"], cr["positive"]
        say("Reading the original training rows")
        original = load_training_rows(run_dir, meta, train_data)
        if target not in original.columns:
            raise DataValidationError(f"Expected the outcome column '{target}' in the original training rows; got "
                                      f"columns {list(original.columns)[:12]}. Fix: pass the file the run was trained "
                                      "on with --train-data.")
        added = _as_training_rows(new_rows, original[target], positive, target)
        parts = [original, added] + ([extra_file] if extra_file is not None and len(extra_file) else [])
        combined = pd.concat(parts, ignore_index=True, sort=False)
        saved = meta.get("config") or {}
        names = {f.name for f in fields(TabularConfig)}
        config = TabularConfig(**{k: (tuple(v) if k == "baselines" else v) for k, v in saved.items() if k in names})
        say(f"Training the challenger on {len(combined):,} applications ({len(combined) - len(original):,} new)")
        decision = saved_decision(meta)
        # The parent's costs decide the challenger's threshold; no SHAP (the monitor compares scores only).
        outcome = service.train_and_decide(
            combined, target=target, positive=positive, config=config, shap_rows=0,
            sensitive=[c for c in cr.get("sensitive", []) if c in combined.columns],
            loss_default=decision.get("loss_default"), margin_good=decision.get("margin_good"))
        run = outcome.run
        name = f"{workspace(meta).get('name') or meta.get('run_id')} · challenger"
        say("Saving the challenger")
        folder = service.save(outcome, Path(save_to), name=name, data=combined,
                              dataset_name="original + newly labelled rows", lineage=lineage or {})
        scores = run.predict(holdout) if len(holdout) else np.zeros(0)
        return Challenger(folder, np.asarray(scores, dtype=float))


def _as_training_rows(rows: pd.DataFrame, original_target: pd.Series, positive, target: str) -> pd.DataFrame:
    """Logged inputs with their 0 / 1 labels written in the original outcome column's values."""
    if not len(rows):
        return pd.DataFrame(columns=[target])
    values = pd.unique(original_target.dropna())
    pos = next((v for v in values if str(v) == str(positive)), positive)
    neg = next((v for v in values if str(v) != str(positive)), 0)
    out = rows.drop(columns=["label"]).copy()
    out[target] = np.where(rows["label"].to_numpy(float) == 1, pos, neg)
    return out


MONITOR = CreditMonitor()

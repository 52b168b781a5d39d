"""Monitoring a fraud run: one log row per transaction; labels arrive days or weeks later.

The row id is the file's transaction id column, the event time the transaction's timestamp, so a
period holds the transactions of that week whenever they were scored. Realized figures once labels
arrive: card precision@k (the handbook's measure of an alert queue: per day, the share of
compromised cards among the k riskiest), ROC-AUC, the precision of the alerts and the fraud rate;
before they arrive, ROC-AUC, the alerts' precision and the fraud rate estimated from the calibrated
risk (CBPE). A challenger is trained on the run's labelled log (saved with it) plus the newly
labelled transactions, with the run's time split moved so that its test period is the comparison
period.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.store.runmeta import decision as saved_decision
from core.store.runmeta import workspace
from core.monitor.spec import (Challenger, MonitorSpec, input_columns, make_log_frame, rate, roc_auc,
                               rows_with_inputs)

SCORE = "risk"


def _columns(meta: dict) -> dict:
    return meta.get("columns") if isinstance(meta.get("columns"), dict) else {}


def _k(meta: dict) -> int:
    return int((meta.get("config") or {}).get("k", 100) or 100)


class FraudMonitor(MonitorSpec):
    score_label = "Fraud risk"
    positive = "fraud"
    decision_names = ("approve", "review", "block")
    realized_metrics = {"card_precision_at_k": "Card precision@k", "roc_auc": "ROC-AUC",
                        "alert_precision": "Precision of alerts", "fraud_rate": "Fraud rate"}
    estimated_metrics = {"roc_auc": "ROC-AUC", "alert_precision": "Precision of alerts", "fraud_rate": "Fraud rate"}
    headline = "roc_auc"
    verdict_metric = "pr_auc"  # as the run's own verdict: the alert queue lives at the top of the ranking
    can_retrain = True

    batch_log = True  # log_frame's row_id is row_ids' (the request's id column)

    def log_frame(self, meta, inputs, scored, pause=None):
        kinds = input_columns(meta)
        src = rows_with_inputs(inputs, scored, kinds)
        ids = self.id_columns(meta, src)
        time_col = _columns(meta).get("time")
        return make_log_frame(row_id=src[ids[0]] if ids else None,
                              event_time=src[time_col] if time_col in src.columns else None,
                              score=src[SCORE].to_numpy(), decision=src["decision"].to_numpy(),
                              inputs=src, kinds=kinds, pause=pause)

    def label_candidates(self, meta):
        target = _columns(meta).get("target")
        return list(dict.fromkeys(c for c in (target, "is_fraud", "fraud", "label", "outcome") if c))

    def read_labels(self, meta, values):
        from core.fraud.columns import parse_labels
        from core.data.outcome import LabelRule

        values = pd.Series(values).reset_index(drop=True)
        rule = LabelRule.from_dict(meta.get("label_rule"))
        if rule is not None:
            return _read_with_rule(rule, values)
        y = parse_labels(values, "label")
        if np.isnan(y).any():
            raise DataValidationError(f"Expected a label on every outcome; got {int(np.isnan(y).sum()):,} empty one(s). "
                                      "Fix: leave out the transactions whose outcome is not known yet.")
        return y

    def realized(self, meta, frame):
        from core.fraud.decisions import compute_card_precision_at_k

        y, p = frame["label"].to_numpy(float), frame["score"].to_numpy(float)
        alert = frame["decision"].astype(str).to_numpy() != "approve"
        out = {"card_precision_at_k": None, "roc_auc": roc_auc(y, p), "alert_precision": rate(y[alert], alert[alert]),
               "fraud_rate": float(y.mean()) if len(y) else None}
        days = pd.to_datetime(frame["event_time"], errors="coerce").dt.normalize()
        if len(frame) and days.notna().all():
            card_col = "in." + str(_columns(meta).get("customer"))
            cards = frame[card_col].astype(str).to_numpy() if card_col in frame else np.arange(len(frame))
            out["card_precision_at_k"] = compute_card_precision_at_k(days.to_numpy(), cards, y, p, _k(meta))[0]
        return out

    def estimated(self, meta, frame, p):
        from core.monitor.cbpe import expected_roc_auc

        alert = frame["decision"].astype(str).to_numpy() != "approve"
        return {"roc_auc": expected_roc_auc(frame["score"].to_numpy(float), p),
                "alert_precision": rate(p[alert], alert[alert]), "fraud_rate": float(np.mean(p)) if len(p) else None}

    def decide(self, meta, scores):
        from core.serve.decisions import fraud_decisions
        from core.fraud.service import decision_thresholds

        return fraud_decisions(scores, *decision_thresholds(meta))  # what `python -m core score` decides

    def reference(self, run_dir, meta):
        from core.monitor.reference import read_reference

        ref = read_reference(run_dir)
        if ref is None:
            return None
        return ref.assign(decision=self.decide(meta, ref["score"].to_numpy(float)))

    def important_inputs(self, meta):
        # The model reads history features built from these columns; every profiled one is watched.
        from core.data.columncheck import get_training_profile

        return list(((get_training_profile(meta) or {}).get("columns") or {}))

    # ------------------------------------------------------------ retraining
    def retrain(self, run_dir, meta, new_rows, holdout, *, save_to, extra_file=None, train_data=None,
                lineage=None, progress=None):
        from dataclasses import fields, replace

        from core.data.datasets import parse_datetimes, read_table
        from core.fraud.columns import FraudColumns
        from core.fraud.features import FeatureConfig
        from core.fraud import service
        from core.fraud.persist import HISTORY_FILE
        from core.fraud.pipeline import FraudConfig
        from core.ml.tabular import TabularConfig

        say = progress or (lambda _m: None)
        cols = FraudColumns(**_columns(meta))
        say("Reading the run's labelled transaction log")
        history = (read_table(train_data, max_rows=None, personal="drop").df if train_data is not None
                   else pd.read_parquet(Path(run_dir) / HISTORY_FILE))
        keep = [c for c in history.columns if c != "_row"]
        parts = [history[keep]]
        if extra_file is not None and len(extra_file) and cols.target in extra_file.columns:
            # The file's outcome as the run reads it (its label rule: Y / N, fraud / ok / pending ...).
            y = self.read_labels(meta, extra_file[cols.target])
            extra_file = extra_file.loc[np.isfinite(y)].assign(**{cols.target: y[np.isfinite(y)]})
        for rows in ([extra_file] if extra_file is not None and len(extra_file) else []) + [new_rows]:
            if len(rows):
                parts.append(_log_rows(rows, cols, keep, parse_datetimes))
        offset = sum(len(p) for p in parts)
        parts.append(_log_rows(holdout, cols, keep, parse_datetimes))
        log = pd.concat(parts, ignore_index=True, sort=False)
        cfg = meta.get("config") or {}
        tab_names = {f.name for f in fields(TabularConfig)}
        tab = TabularConfig(**{k: (tuple(v) if k == "baselines" else v) for k, v in (cfg.get("tabular") or {}).items()
                               if k in tab_names})
        feat = cfg.get("features") or {}
        test_start = pd.Timestamp(parse_datetimes(holdout[cols.time].astype(str)).min()).normalize()
        config = FraudConfig(train_start=_train_start(meta), test_start=test_start, gap_days=int(cfg.get("gap_days", 7)),
                             features=FeatureConfig(windows=tuple(feat.get("windows", (1, 7, 30))),
                                                    delay_days=int(feat.get("delay_days", 7)),
                                                    spending_ratios=bool(feat.get("spending_ratios", True))),
                             drop_known_cards=bool(cfg.get("drop_known_cards", True)), k=_k(meta), tabular=tab,
                             auto_batch=False)
        say(f"Training the challenger on {len(log):,} transactions, tested from {test_start.date()}")
        decision = saved_decision(meta)
        fee = float(decision.get("review_fee", 5.0))
        outcome = service.train_and_decide(log, cols, config=replace(config), review_fee=fee, explain_global=0,
                                           status=say)
        run = outcome.run
        scores = np.full(len(holdout), np.nan)
        pos = run.test["_row"].to_numpy(int) - offset
        inside = (pos >= 0) & (pos < len(holdout))
        scores[pos[inside]] = run.test[run.score_column].to_numpy(float)[inside]  # its recommended model
        review, block = service.decision_thresholds(meta)  # the champion's, as every door reads them
        outcome = replace(outcome, decision=service.FraudDecision(review, block, fee, outcome.decision.policy))
        name = f"{workspace(meta).get('name') or meta.get('run_id')} · challenger"
        run.label_rule = meta.get("label_rule")  # the log is 0/1 now; the challenger reads feedback as its champion
        say("Saving the challenger")
        folder = service.save(outcome, Path(save_to), name=name, data=log,
                              dataset_name="labelled log + newly labelled transactions", lineage=lineage or {})
        notes = [] if inside.all() else [f"{int((~inside).sum()):,} comparison transaction(s) were set aside by the "
                                         "split (cards already known to be compromised) and are not compared."]
        return Challenger(folder, scores, notes)


def _read_with_rule(rule, values: pd.Series) -> np.ndarray:
    """Labels read as the run's training read its outcome: the rule's positive value 1, its negative
    values 0 (any case); 0 / 1 and true / false as the model's own labels; any other value (e.g.
    'pending') NaN, left out as in training. None readable at all is refused: a wrong column."""
    y = rule.read(values)
    text = values.astype("string").str.strip().str.lower()
    own = text.map({"1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0, "true": 1.0, "false": 0.0}).astype(float).to_numpy()
    y = np.where(np.isnan(y), own, y)
    if values.isna().any():
        raise DataValidationError(f"Expected a label on every outcome; got {int(values.isna().sum()):,} empty one(s). "
                                  "Fix: leave out the transactions whose outcome is not known yet.")
    if len(y) and np.isnan(y).all():
        examples = ", ".join(repr(v) for v in pd.unique(values.astype(str))[:5])
        negatives = " / ".join(repr(v) for v in rule.negatives)
        raise DataValidationError(
            f"Expected the outcomes as this run's training read '{rule.target}': {rule.positive!r} for fraud, "
            f"{negatives} for legitimate (or 1 / 0); got none of these, only values such as {examples}. Fix: pick the "
            "column that holds the outcome (--label-column), written as in the training file.")
    return y


def _log_rows(rows: pd.DataFrame, cols, keep: list[str], parse_datetimes) -> pd.DataFrame:
    """Rows as the labelled log's columns: parsed time, the label under the log's target name."""
    out = rows.copy()
    if "label" in out.columns and cols.target not in out.columns:
        out[cols.target] = out["label"]
    missing = [c for c in keep if c not in out.columns]
    if missing:
        raise DataValidationError(f"Expected the newly labelled transactions to have the log's columns {keep}; got "
                                  f"none for {missing}. Fix: pass a file with the training log's columns.")
    out[cols.time] = parse_datetimes(out[cols.time].astype(str)).astype("datetime64[ns]")
    return out[keep]


def _train_start(meta: dict):
    """The champion's first training day, read from its saved split (None: the pipeline's default)."""
    found = re.match(r"\s*(\d{4}-\d{2}-\d{2})", str((meta.get("split") or {}).get("train", "")))
    return found.group(1) if found else None


MONITOR = FraudMonitor()

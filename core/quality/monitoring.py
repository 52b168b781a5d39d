"""Monitoring a quality run: one log row per image; the label is the inspected outcome.

The row id is the image's file name as scored, the score the probability of a defect, the decision
pass / reject. Labels are the inspection's verdict: a class name (any class but the good one is a
defect), or defect / good, 1 / 0. Realized per period: the escape rate (defective parts passed, as
a share of the defective ones), the false reject rate (good parts rejected, as a share of the good
ones), ROC-AUC and the defect rate; estimated before inspection from the calibrated probabilities
(CBPE). Images have no column profile, so drift is the scores' against the test images' scores.
Runs that only type defects (no good class) have no pass / reject to monitor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.monitor.spec import MonitorSpec, make_log_frame, rate, read_binary_labels, roc_auc


class QualityMonitor(MonitorSpec):
    score_label = "Probability of a defect"
    positive = "defective"
    decision_names = ("pass", "reject")
    realized_metrics = {"escape_rate": "Escape rate", "false_reject_rate": "False reject rate", "roc_auc": "ROC-AUC",
                        "defect_rate": "Defect rate"}
    estimated_metrics = dict(realized_metrics)
    lower_is_better = ()
    headline = verdict_metric = "roc_auc"
    can_retrain = True
    retrain_uploads = ("train_data", "data")
    retrain_note = ("a quality run keeps none of its training images: pass them (--train-data ORIGINAL.zip) with the "
                    "newly inspected images in class folders (--data NEW.zip).")

    def unsupported(self, meta):
        if not meta.get("ok_class"):
            return "the model types defects and has no good class, so there is no pass / reject decision to monitor"
        return None

    def id_columns(self, meta, df):
        return ["file"] if "file" in df.columns else []

    def log_frame(self, meta, inputs, scored):
        return make_log_frame(row_id=scored["file"], event_time=None, score=scored["p_defect"].to_numpy(),
                              decision=scored["verdict"].to_numpy())

    def label_candidates(self, meta):
        return ["label", "actual", "outcome", "class", "verdict", "defect"]

    def read_labels(self, meta, values):
        s = pd.Series(values).reset_index(drop=True)
        text = s.astype("string").str.strip().str.lower().fillna("")
        ok = str(meta.get("ok_class")).lower()
        defects = {str(c).lower() for c in meta.get("class_names") or []} - {ok}
        out = np.full(len(s), np.nan)
        out[text.isin({ok, "good", "pass"}).to_numpy(bool)] = 0.0
        out[text.isin(defects | {"defect", "defective", "reject"}).to_numpy(bool)] = 1.0
        rest = np.isnan(out)
        if rest.any():  # 1 / 0, true / false, yes / no; anything else is refused with examples
            out[rest] = read_binary_labels(s[rest], what="defective")
        return out

    def realized(self, meta, frame):
        y, p = frame["label"].to_numpy(float), frame["score"].to_numpy(float)
        reject = frame["decision"].astype(str).to_numpy() == "reject"
        return {"escape_rate": rate((y == 1) & ~reject, y == 1), "false_reject_rate": rate((y == 0) & reject, y == 0),
                "roc_auc": roc_auc(y, p), "defect_rate": float(y.mean()) if len(y) else None}

    def estimated(self, meta, frame, p):
        from core.monitor.cbpe import expected_roc_auc

        reject = frame["decision"].astype(str).to_numpy() == "reject"
        return {"escape_rate": rate(p[~reject], p), "false_reject_rate": rate((1 - p)[reject], 1 - p),
                "roc_auc": expected_roc_auc(frame["score"].to_numpy(float), p),
                "defect_rate": float(np.mean(p)) if len(p) else None}

    def decide(self, meta, scores):
        from core.serve.decisions import get_decision_settings

        return np.where(np.asarray(scores, float) >= float(get_decision_settings(meta)["threshold"]), "reject", "pass")

    def reference(self, run_dir, meta):
        from core.quality.export import PREDICTIONS_FILE

        path = Path(run_dir) / PREDICTIONS_FILE
        if not path.is_file():
            return None
        try:
            test = pd.read_csv(path)
        except (OSError, ValueError):
            return None
        if "actual" not in test or "p_defect" not in test:
            return None
        scores = test["p_defect"].to_numpy(float)
        return pd.DataFrame({"score": scores, "label": (test["actual"].astype(str) != str(meta.get("ok_class")))
                             .astype(float).to_numpy(), "decision": self.decide(meta, scores)})

    def important_inputs(self, meta):
        return []

    def retrain_from_files(self, run_dir, meta, *, data, train_data, save_to, progress=None):
        from core.quality.retrain import retrain_quality

        return retrain_quality(run_dir, meta, data=data, train_data=train_data, save_to=save_to, progress=progress)


MONITOR = QualityMonitor()

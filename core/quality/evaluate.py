"""Metrics and the reject decision for image classifiers.

Class-level quality (per-class precision / recall / F1, macro averages, one-vs-rest ROC-AUC,
confusion matrix) comes from the arg-max class.  When one class means 'good part', the business
decision is binary: reject a part when P(defect) = 1 - P(ok) reaches a threshold; it reuses the
shared threshold grid and cost curve from ``core.ml.metrics`` so the page can move the threshold
without retraining.  When every class is a defect type (multi-class defect typing) there is no
such decision: per-class figures, the confusion matrix and the misclassified images
(``get_misclassified``) are the whole story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.ml.metrics import compute_binary_metrics, compute_cost_curve, compute_threshold_grid


TASKS = {
    "inspection": "Inspection: one class means 'good part', so each image gets a pass / reject verdict",
    "defect_typing": "Defect typing: every class is a defect type and none means 'good part'",
}
DEFECT_TYPING_NOTE = ("Every class is a defect type and none means 'good part' (multi-class defect typing), so "
                      "there is no pass / reject decision, escape rate or cost threshold; judge the model by "
                      "per-class precision and recall, the confusion matrix and the misclassified images.")


def get_task(ok_class: str | None) -> str:
    """'inspection' when a class means 'good part', else 'defect_typing'."""
    return "inspection" if ok_class is not None else "defect_typing"


def _check(y, proba, class_names) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).astype(int).ravel()
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[0] != len(y) or proba.shape[1] != len(class_names):
        raise DataValidationError(
            f"Expected one probability per class for every image ({len(y)} x {len(class_names)}); "
            f"got an array of shape {proba.shape}. Score the images with the trained model."
        )
    if len(y) == 0:
        raise DataValidationError("Metrics need at least one test image; got none. Use a larger test split.")
    return y, proba


def compute_multiclass_metrics(y, proba, class_names) -> dict:
    """Accuracy, macro precision / recall / F1, one-vs-rest ROC-AUC and per-class figures."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    y, proba = _check(y, proba, class_names)
    k = len(class_names)
    pred = proba.argmax(axis=1)
    labels = list(range(k))
    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    per_class, aucs = {}, []
    for i, name in enumerate(class_names):
        is_i = (y == i).astype(int)
        auc = float(roc_auc_score(is_i, proba[:, i])) if 0 < is_i.sum() < len(y) else float("nan")
        if auc == auc:
            aucs.append(auc)
        per_class[str(name)] = {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
                                "support": int(support[i]), "roc_auc": auc}
    present = support > 0
    return {
        "accuracy": float(np.mean(pred == y)),
        # Macro averages over classes present in the test set: an absent class has no recall.
        "macro_precision": float(np.mean(prec[present])),
        "macro_recall": float(np.mean(rec[present])),
        "macro_f1": float(np.mean(f1[present])),
        "roc_auc": float(np.mean(aucs)) if aucs else float("nan"),
        "per_class": per_class,
        "confusion": confusion_matrix(y, pred, labels=labels).tolist(),
        "class_names": [str(c) for c in class_names],
        "n_test": int(len(y)),
    }


def get_defect_scores(proba, class_names, ok_class: str | None) -> np.ndarray:
    """P(defect) per image: 1 - P(ok class)."""
    if ok_class is None or ok_class not in class_names:
        raise DataValidationError(
            f"The reject decision needs a 'no defect' class; got classes {', '.join(map(str, class_names))} "
            "and none is marked as OK. Pick the OK class (e.g. a folder named 'ok' or 'good')."
        )
    return 1.0 - np.asarray(proba, dtype=float)[:, list(class_names).index(ok_class)]


def get_defect_labels(y, class_names, ok_class: str) -> np.ndarray:
    """1 for a defective part (any class but OK), 0 for a good one."""
    return (np.asarray(y).astype(int) != list(class_names).index(ok_class)).astype(int)


def compute_defect_metrics(y_defect, p_defect, threshold: float = 0.5) -> dict:
    """Headline decision figures at ``threshold``: defect recall, escape rate, false-reject rate."""
    m = compute_binary_metrics(y_defect, p_defect, threshold)
    n_def, n_ok = m["tp"] + m["fn"], m["tn"] + m["fp"]
    return {
        "threshold": float(threshold),
        "defect_recall": m["recall"],
        # Escape rate: share of defective parts that pass inspection.
        "escape_rate": m["fn"] / n_def if n_def else 0.0,
        "false_reject_rate": m["fp"] / n_ok if n_ok else 0.0,
        "reject_rate": m["positive_rate"],
        "defect_precision": m["precision"],
        "defect_roc_auc": m["roc_auc"],
        "defect_pr_auc": m["pr_auc"],
        "escapes": int(m["fn"]),
        "false_rejects": int(m["fp"]),
        "caught": int(m["tp"]),
        "passed_ok": int(m["tn"]),
    }


@dataclass(frozen=True)
class CostAnalysis:
    """Expected inspection cost per part by threshold, and the cheapest threshold."""

    curve: pd.DataFrame  # threshold, tp, fp, tn, fn, ..., cost_per_part, reject_rate
    best_threshold: float
    best_cost: float
    cost_at_threshold: float
    threshold: float


def _middle_of_optimum(cost: np.ndarray) -> int:
    """Position of the lowest cost; when a range of thresholds ties (common on a small test set),
    the middle of the longest tied run, so the chosen threshold is not on the edge of a cliff."""
    best = np.flatnonzero(cost <= cost.min() + 1e-12)
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    longest = max(runs, key=len)
    return int(longest[len(longest) // 2])


def compute_cost_analysis(y_defect, p_defect, *, cost_escape: float, cost_false_reject: float,
                          threshold: float = 0.5, n: int = 101) -> CostAnalysis:
    """Expected cost per inspected part = (escapes x cost_escape + false rejects x cost_false_reject) / parts."""
    if not 0.0 <= threshold <= 1.0:
        raise DataValidationError(f"Threshold must be between 0 and 1; got {threshold}. Move the slider into range.")
    y_defect, p_defect = np.asarray(y_defect).astype(int), np.asarray(p_defect, dtype=float)
    grid = compute_threshold_grid(y_defect, p_defect, n=n)
    curve = compute_cost_curve(grid, cost_fp=cost_false_reject, cost_fn=cost_escape)
    parts = len(np.asarray(y_defect))
    curve["cost_per_part"] = -curve["value"] / parts
    curve["reject_rate"] = curve["flagged_rate"]
    best_row = _middle_of_optimum(curve["cost_per_part"].to_numpy())
    # The current threshold's cost is computed exactly, not read off the 101-point grid.
    cost_now = float(((p_defect >= threshold) & (y_defect == 0)).sum() * cost_false_reject
                     + ((p_defect < threshold) & (y_defect == 1)).sum() * cost_escape) / parts
    return CostAnalysis(curve, float(curve["threshold"].iloc[best_row]), float(curve["cost_per_part"].iloc[best_row]),
                        cost_now, float(threshold))


def get_error_gallery(y_defect, p_defect, threshold: float, *, limit: int = 12) -> dict[str, np.ndarray]:
    """Positions of false rejects (good parts rejected) and escapes (defects passed) at
    ``threshold``, most confidently wrong first."""
    y = np.asarray(y_defect).astype(int)
    p = np.asarray(p_defect, dtype=float)
    fr = np.flatnonzero((y == 0) & (p >= threshold))
    esc = np.flatnonzero((y == 1) & (p < threshold))
    return {
        "false_rejects": fr[np.argsort(-p[fr], kind="stable")][:limit],
        "escapes": esc[np.argsort(p[esc], kind="stable")][:limit],
    }


def get_misclassified(y, proba, class_names, *, limit: int = 24) -> pd.DataFrame:
    """Test images whose arg-max class is wrong, most confidently wrong first: position, actual,
    predicted, confidence (P of the predicted class) and P of the actual class.  The error
    gallery of a defect-typing model, where there is no good class to escape or reject."""
    y, proba = _check(y, proba, class_names)
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-proba[wrong, pred[wrong]], kind="stable")][:limit]
    names = [str(c) for c in class_names]
    return pd.DataFrame({"position": wrong.astype(int), "actual": [names[i] for i in y[wrong]],
                         "predicted": [names[i] for i in pred[wrong]],
                         "confidence": proba[wrong, pred[wrong]], "p_actual": proba[wrong, y[wrong]]})


def get_predictions_frame(names, y, proba, class_names, ok_class: str | None, threshold: float) -> pd.DataFrame:
    """One row per image: file, actual and predicted class, class probabilities, P(defect), verdict."""
    proba = np.asarray(proba, dtype=float)
    df = pd.DataFrame({"file": list(names)})
    if y is not None:
        df["actual"] = [class_names[i] for i in np.asarray(y).astype(int)]
    df["predicted"] = [class_names[i] for i in proba.argmax(axis=1)]
    df["confidence"] = proba.max(axis=1).round(4)
    for i, c in enumerate(class_names):
        df[f"p_{c}"] = proba[:, i].round(4)
    if ok_class is not None:
        p_def = get_defect_scores(proba, class_names, ok_class)
        df["p_defect"] = p_def.round(4)
        df["verdict"] = np.where(p_def >= threshold, "reject", "pass")
    return df

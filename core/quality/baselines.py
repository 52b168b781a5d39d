"""What a CNN must beat on the same images: the majority class, and logistic regression on 16x16
thumbnails. Used by the CLI (their metrics in the JSON) and the page (the verdict of
``core.ml.verdict``: the network against the best baseline, with a paired bootstrap interval).

scikit-learn is imported inside the functions that fit, never at module import.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from core.errors import DataValidationError
from core.quality.evaluate import compute_multiclass_metrics, get_defect_labels, get_defect_scores

BASELINE_NAMES = {"majority_class": "Majority class", "logistic_16px": "Logistic regression on 16×16 thumbnails"}


def _thumbs(images: np.ndarray) -> np.ndarray:
    """Each image as a 16x16 grid of mean intensities, standardised per image."""
    n, s = images.shape[0], images.shape[1]
    f = max(1, s // 16)
    x = images[:, : f * (s // f), : f * (s // f)].astype(np.float32) / 255.0
    x = x.reshape(n, s // f, f, s // f, f, -1).mean(axis=(2, 4)).reshape(n, -1)
    return (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-6)


def fit_thumbnail_logistic(X_train, y_train):
    """The thumbnail baseline's model: logistic regression (balanced classes) on ``_thumbs``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500, class_weight="balanced").fit(_thumbs(X_train), np.asarray(y_train))


def baseline_fit_images(data, config, *, test=None) -> tuple[np.ndarray, np.ndarray]:
    """The images (and labels) the baselines are fitted on: those the network trained and
    validated on (all of ``data`` when a separate test set was given)."""
    if test is not None:
        return data.images, data.labels
    from core.quality.data import split_indices

    tr, va, _ = split_indices(data.labels, test_size=config.test_size, val_size=config.val_size, seed=config.seed)
    fit_idx = np.r_[tr, va]
    return data.images[fit_idx], data.labels[fit_idx]


def fit_baselines(X_train, y_train, X_test, n_classes: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Test-image class probabilities of each baseline fitted on the training images, and the
    seconds each took to fit."""
    y_train = np.asarray(y_train)
    k = int(n_classes)
    majority = np.bincount(y_train, minlength=k).argmax()
    proba = {"majority_class": np.eye(k)[np.full(len(X_test), majority)]}
    t = time.perf_counter()
    lr = fit_thumbnail_logistic(X_train, y_train)
    p = np.zeros((len(X_test), k))
    p[:, lr.classes_] = lr.predict_proba(_thumbs(X_test))
    proba["logistic_16px"] = p
    return proba, {"majority_class": 0.0, "logistic_16px": time.perf_counter() - t}


def compute_baselines(X_train, y_train, X_test, y_test, class_names, *, with_proba: bool = False):
    """Majority class, and logistic regression on 16x16 thumbnails (what a CNN must beat): their
    test metrics, with the logistic regression's fitting time (and, ``with_proba``, their test
    probabilities for ``compare_quality``: ``(metrics, proba)``)."""
    proba, seconds = fit_baselines(X_train, y_train, X_test, len(class_names))
    metrics = {"majority_class": compute_multiclass_metrics(y_test, proba["majority_class"], class_names),
               "logistic_16px": {**compute_multiclass_metrics(y_test, proba["logistic_16px"], class_names),
                                 "train_s": round(seconds["logistic_16px"], 3)}}
    return (metrics, proba) if with_proba else metrics


def fit_baselines_for_run(data, run, config) -> dict[str, np.ndarray]:
    """Baseline probabilities on ``run``'s test images, fitted on the same training and validation
    images the network saw (``data`` and ``config`` as given to ``train_quality``, no separate test set)."""
    images, labels = baseline_fit_images(data, config)
    proba, _ = fit_baselines(images, labels, run.test.images, len(run.class_names))
    return proba


def compare_quality(run, baseline_proba: dict[str, np.ndarray], *, seed: int = 0) -> list:
    """Verdicts of the network against the best baseline on the test images: defect ROC-AUC (when a
    class means 'good part' and the test images hold both), then the error rate (share of test images
    given the wrong class; lower is better)."""
    from core.ml.verdict import compare_binary, compare_losses

    if not baseline_proba:
        raise DataValidationError("A verdict needs at least one baseline to compare with; got none.")
    y = np.asarray(run.test.labels)
    verdicts = []
    if run.ok_class is not None:
        y_def = get_defect_labels(y, run.class_names, run.ok_class)
        if len(np.unique(y_def)) == 2:
            verdict = compare_binary(
                y_def, get_defect_scores(run.test_proba, run.class_names, run.ok_class),
                {k: get_defect_scores(v, run.class_names, run.ok_class) for k, v in baseline_proba.items()},
                metric="roc_auc", names=BASELINE_NAMES, seed=seed)
            verdicts.append(replace(verdict, metric="defect ROC-AUC"))

    def errors(proba):
        return (np.asarray(proba).argmax(axis=1) != y).astype(float)

    verdicts.append(compare_losses(errors(run.test_proba), {k: errors(v) for k, v in baseline_proba.items()},
                                   metric="error rate", names=BASELINE_NAMES, seed=seed))
    return verdicts

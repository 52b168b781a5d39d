"""When an inspection model's figures must not be trusted (``core.report.trust``): chance-level ranking,
answers no better than always naming the most common class, a score shown above what image
classifiers genuinely reach, or a reject line that costs more than passing or rejecting every part, or that
rejects (almost) every part or none."""

from __future__ import annotations

import numpy as np

from core.report.runsummary import CURRENCY
from core.report.trust import (Trust, TrustFlag, check_below_baseline, check_blanket, check_chance, check_degenerate,
                        check_too_good, money_in)

# This project's CNN reaches 99.2-99.7 % on the real NEU steel set (360 test images, three seeds,
# bench/bench_quality.py) and published results on it reach 99-100 %: a perfect score on a few hundred
# images of a set that easy is genuine (a model right 99.7 % of the time gets all 360 right one time in
# three). So accuracy is too good to be true only when it is at least TOO_GOOD_ACCURACY and the test
# images show it above ACCURACY_CEILING, the best genuine figure known here, at 95 % confidence (the
# one-sided Clopper-Pearson lower bound): every image right on at least 998 test images, one wrong on
# at least 1,580, ... -- on a set where always naming the commonest class is right at most 90 % of the
# time. That most often means the same or near-copy images on both sides of the split, or a mark in
# the pictures that tells the class.
TOO_GOOD_ACCURACY = 0.999
ACCURACY_CEILING = 0.997
CONFIDENCE = 0.95
MAX_MAJORITY_SHARE = 0.9
USUAL = "image classifiers reach up to about 99.7 % on steel-defect images"
IMAGE_CAUSE = ("the same or near-copy images are probably on both sides of the split, or something in the pictures "
               "other than the defect tells the class (a marker, a border, the camera). Look for duplicates before "
               "using these figures.")


def accuracy_lower_bound(n_right: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided lower bound of the accuracy ``n_right`` out of ``n`` at ``confidence``
    (Clopper-Pearson: exact for a binomial count; ``(1 - confidence) ** (1 / n)`` when all are right)."""
    if n <= 0 or n_right <= 0:
        return 0.0
    from scipy.stats import beta

    return float(beta.ppf(1.0 - confidence, n_right, n - n_right + 1))


def _majority(run) -> int:
    """Index of the class the training images hold most of (the majority-class rule's answer)."""
    counts = getattr(run, "counts_before", None) or {}
    names = [str(c) for c in run.class_names]
    known = {str(k): v for k, v in counts.items() if str(k) in names}
    if known:
        return names.index(max(known, key=known.get))
    return int(np.bincount(np.asarray(run.test.labels).astype(int), minlength=len(names)).argmax())


def quality_trust(run, *, threshold: float | None = None, cost_escape: float | None = None,
                  cost_false_reject: float | None = None, interval=None, currency: str = CURRENCY) -> Trust:
    """The flags of a ``QualityRun``'s test images, naming the saved model (``model_name``: the CNN or its
    blend); with a 'good part' class and ``threshold`` and costs given, of its reject decision too.
    ``interval``: ``(value, low, high)`` of the defect ROC-AUC (macro one-vs-rest for defect typing),
    computed here when not given."""
    from core.quality.baselines import BASELINE_NAMES
    from core.quality.evaluate import compute_cost_analysis, get_defect_labels, get_defect_scores
    from core.quality.recommend import model_name
    from core.ml.verdict import compare_losses, roc_auc_interval

    name = model_name(run)  # the saved model the figures are of: the CNN or its blend with a baseline
    y = np.asarray(run.test.labels).astype(int)
    proba = np.asarray(run.test_proba, dtype=float)
    names = [str(c) for c in run.class_names]
    majority, pred = _majority(run), proba.argmax(axis=1)
    flags: list[TrustFlag | None] = []
    y_def = p_def = None
    if run.ok_class is not None:
        y_def = get_defect_labels(y, run.class_names, run.ok_class)
        p_def = get_defect_scores(proba, run.class_names, run.ok_class)
    if interval is None and (y_def is None or 0 < y_def.sum() < len(y_def)) and len(np.unique(y)) > 1:
        interval = roc_auc_interval(y_def, p_def) if y_def is not None else roc_auc_interval(y, proba)
    if interval is not None:
        metric = "defect ROC-AUC" if y_def is not None else "ROC-AUC (one-vs-rest)"
        flags.append(check_chance(*interval, metric=metric, model=name))
    errors, majority_errors = (pred != y).astype(float), (y != majority).astype(float)
    worse = check_below_baseline(
        compare_losses(errors, {"majority_class": majority_errors}, metric="error rate", names=BASELINE_NAMES),
        headline="Worse than the majority class", model=name, fmt=".1%",
        advice=f"always answering '{names[majority]}' is right more often. Train longer, check the labels, or add "
               "images of the rarer classes.")
    present = np.unique(y)
    balanced = float(np.mean([np.mean(pred[y == c] == c) for c in present]))
    if worse is None and balanced <= 1.0 / len(present) + 1e-9:
        worse = TrustFlag("below_baseline", "No better than the majority class",
                          f"{name}'s balanced accuracy (mean recall over the classes) is {balanced:.1%}, what always "
                          f"answering '{names[majority]}' gets ({1 / len(present):.1%}): it does not tell the classes "
                          "apart. Train longer, check the labels, or add images of the rarer classes.")
    flags.append(worse)
    n_right = int(np.sum(errors == 0))
    low = accuracy_lower_bound(n_right, len(y))
    if low >= ACCURACY_CEILING and np.mean(y == majority) <= MAX_MAJORITY_SHARE:
        usual = (f"{USUAL}; on {len(y):,} test images even the low end of this score's "
                 f"{CONFIDENCE:.0%} interval, {low:.2%}, is above that")
        flags.append(check_too_good(n_right / len(y), TOO_GOOD_ACCURACY, metric="accuracy", usual=usual,
                                    fmt=".1%", model=name, cause=IMAGE_CAUSE))
    if y_def is not None and threshold is not None and cost_escape is not None and cost_false_reject is not None:
        cost = compute_cost_analysis(y_def, p_def, cost_escape=cost_escape, cost_false_reject=cost_false_reject,
                                     threshold=threshold).cost_at_threshold
        share = float(y_def.mean())
        at = f"the reject threshold {threshold:.2f}"
        flags.append(check_blanket(cost, {"passing every part": cost_escape * share,
                                          "rejecting every part": cost_false_reject * (1 - share)},
                                   measure="cost per part", at=at, money=money_in(currency), higher_is_better=False))
        flags.append(check_degenerate(float(np.mean(p_def >= threshold)), share, verb="rejects", rows="parts", at=at))
    return Trust.of(*flags)

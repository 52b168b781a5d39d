"""Is the network better than the best baseline, or only different by noise?

A headline that says "the network wins" for +0.002 ROC-AUC on a few hundred test rows is not
honest: another test split would easily reverse it. Every page, the overview and the model card
therefore state the network's result against the best baseline with a paired bootstrap interval
of the difference on the test rows, and call it *on par* when that interval contains zero.

The bootstrap resamples test rows with replacement (the same rows for both models, so the
comparison is paired), as Poisson(1) row weights over scores sorted once, so each replicate
costs O(n) instead of a fresh sort.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np

from core.errors import DataValidationError

BINARY_METRICS = {"roc_auc": "ROC-AUC", "pr_auc": "PR-AUC"}
N_BOOT = 300
LEVEL = 0.95


@dataclass(frozen=True)
class Verdict:
    """The network against the best baseline on one metric, with the difference's interval."""

    metric: str  # plain name, e.g. "ROC-AUC"
    value: float  # the network's value on the test rows
    baseline: str  # the best baseline's plain name
    baseline_value: float
    diff: float  # value - baseline_value
    low: float  # interval of the difference (LEVEL, paired bootstrap)
    high: float
    higher_is_better: bool = True
    level: float = LEVEL

    @property
    def outcome(self) -> str:
        """"better", "worse" or "on par" (the interval of the difference contains zero)."""
        if self.low > 0:
            return "better" if self.higher_is_better else "worse"
        if self.high < 0:
            return "worse" if self.higher_is_better else "better"
        return "on par"

    def sentence(self, model: str = "The network", fmt: str = ".3f") -> str:
        """One sentence for a page, the overview or the model card."""
        tail = {"better": f"better than {self.baseline}, outside the noise",
                "worse": f"{self.baseline} is better, outside the noise: a simpler model does as well or better here",
                "on par": f"on par with {self.baseline}: the difference is inside the noise"}[self.outcome]
        return (f"{model}'s {self.metric} is {self.value:{fmt}} against {self.baseline_value:{fmt}} for "
                f"{self.baseline} (the best baseline): {self.diff:+{fmt}}, {self.level:.0%} interval "
                f"{self.low:+{fmt}} to {self.high:+{fmt}} — {tail}.")

    def to_dict(self) -> dict:
        return {**asdict(self), "outcome": self.outcome}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Verdict":
        keys = cls.__dataclass_fields__
        return cls(**{k: d[k] for k in keys if k in d})


def _bootstrap_weights(n: int, n_boot: int, seed: int, budget: int = 4_000_000):
    """Row weights of ``n_boot`` bootstrap replicates (how often each row is drawn), yielded in
    blocks of at most ``budget`` numbers so memory stays small on large test sets."""
    rng = np.random.default_rng(seed)
    step = max(1, budget // max(n, 1))
    for start in range(0, n_boot, step):
        size = min(step, n_boot - start)
        # Poisson(1) draw counts: the standard large-sample stand-in for multinomial resampling,
        # and an order of magnitude cheaper to draw.
        yield rng.poisson(1.0, size=(size, n)).astype(np.float64)  # (size, n)


def _weighted_binary(y: np.ndarray, p: np.ndarray, W: np.ndarray, metric: str) -> np.ndarray:
    """ROC-AUC or average precision for each row of weights ``W`` (B, n), ties handled like sklearn."""
    order = np.argsort(-p, kind="mergesort")
    p, y, W = p[order], y[order], W[:, order]
    # Positions where the score changes: thresholds sit between distinct scores.
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]
    tp = np.cumsum(W * y, axis=1)[:, last]
    fp = np.cumsum(W * (1 - y), axis=1)[:, last]
    P, N = tp[:, -1:], fp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "roc_auc":
            tpr = np.hstack([np.zeros_like(P), tp / P])
            fpr = np.hstack([np.zeros_like(N), fp / N])
            out = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
        else:
            precision = tp / (tp + fp)
            recall = np.hstack([np.zeros_like(P), tp / P])
            step = np.diff(recall, axis=1)
            # Thresholds above every weighted row have no precision; they add no recall either.
            out = np.sum(np.where(step > 0, step * precision, 0.0), axis=1)
    return out


def compare_binary(y, p_model, baselines: Mapping[str, np.ndarray], *, metric: str = "roc_auc",
                   names: Mapping[str, str] | None = None, n_boot: int = N_BOOT, seed: int = 0,
                   level: float = LEVEL) -> Verdict:
    """The network's ``metric`` against the best of ``baselines`` (name -> test probabilities)."""
    if metric not in BINARY_METRICS:
        raise DataValidationError(f"Metric must be one of {list(BINARY_METRICS)}; got '{metric}'.")
    if not baselines:
        raise DataValidationError("A verdict needs at least one baseline to compare with; got none.")
    y = np.asarray(y).astype(int).ravel()
    if len(np.unique(y)) < 2:
        raise DataValidationError("A verdict needs test rows of both classes; the test rows hold one class only.")
    p_model = np.asarray(p_model, dtype=float).ravel()
    full = np.ones((1, len(y)))
    value = float(_weighted_binary(y, p_model, full, metric)[0])
    scores = {k: float(_weighted_binary(y, np.asarray(v, dtype=float).ravel(), full, metric)[0])
              for k, v in baselines.items()}
    best = max(scores, key=scores.get)
    p_base = np.asarray(baselines[best], dtype=float).ravel()
    d = np.concatenate([_weighted_binary(y, p_model, W, metric) - _weighted_binary(y, p_base, W, metric)
                        for W in _bootstrap_weights(len(y), n_boot, seed)])
    d = d[np.isfinite(d)]
    alpha = (1 - level) / 2
    low, high = (np.quantile(d, [alpha, 1 - alpha]) if len(d) else (np.nan, np.nan))
    names = names or {}
    return Verdict(BINARY_METRICS[metric], value, names.get(best, best), scores[best], value - scores[best],
                   float(low), float(high), True, level)


def compare_losses(loss_model, baselines: Mapping[str, np.ndarray], *, metric: str, weights=None,
                   names: Mapping[str, str] | None = None, n_boot: int = N_BOOT, seed: int = 0,
                   level: float = LEVEL) -> Verdict:
    """A lower-is-better metric that is a (weighted) mean of per-row losses, e.g. absolute errors
    for MAE or holiday-weighted MAE: the network's against the best baseline's, paired rows."""
    if not baselines:
        raise DataValidationError("A verdict needs at least one baseline to compare with; got none.")
    a = np.asarray(loss_model, dtype=float).ravel()
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=float).ravel()
    if len(w) != len(a) or any(np.asarray(v).size != len(a) for v in baselines.values()):
        raise DataValidationError("The network's and the baselines' errors must cover the same rows; "
                                  "their lengths differ.")
    keep = np.isfinite(a) & np.isfinite(w)
    for v in baselines.values():
        keep &= np.isfinite(np.asarray(v, dtype=float).ravel())
    if not keep.any():
        raise DataValidationError("A verdict needs rows with errors for every model; none has.")
    a, w = a[keep], w[keep]
    base = {k: np.asarray(v, dtype=float).ravel()[keep] for k, v in baselines.items()}

    def mean(x, W):
        return (W * w * x).sum(axis=-1) / (W * w).sum(axis=-1)

    one = np.ones(len(a))
    value = float(mean(a, one))
    scores = {k: float(mean(v, one)) for k, v in base.items()}
    best = min(scores, key=scores.get)
    d = np.concatenate([mean(a, W) - mean(base[best], W) for W in _bootstrap_weights(len(a), n_boot, seed)])
    alpha = (1 - level) / 2
    low, high = np.quantile(d, [alpha, 1 - alpha])
    names = names or {}
    return Verdict(metric, value, names.get(best, best), scores[best], value - scores[best], float(low),
                   float(high), False, level)


def roc_auc_interval(y, scores, *, n_boot: int = N_BOOT, seed: int = 0,
                     level: float = LEVEL) -> tuple[float, float, float]:
    """The ROC-AUC of ``scores`` on the test rows and its bootstrap interval: ``(value, low, high)``.

    The network's own interval (not a difference): ``core.report.trust`` asks whether it holds 0.5, what
    random scores get. ``scores`` is one score per row for 0/1 labels ``y``, or one column of class
    probabilities per class for class indices ``y`` (macro one-vs-rest ROC-AUC over the classes the
    test rows hold alongside others, as ``core.quality.evaluate`` reports it)."""
    y = np.asarray(y).astype(int).ravel()
    s = np.asarray(scores, dtype=float)
    if s.ndim == 1:
        pairs = [(y, s)] if len(np.unique(y)) == 2 else []
    else:
        pairs = [((y == c).astype(int), s[:, c]) for c in range(s.shape[1]) if 0 < (y == c).sum() < len(y)]
    if not pairs or len(s) != len(y):
        raise DataValidationError(f"A ROC-AUC needs test rows of two or more classes and one score per row; got "
                                  f"{len(y)} rows of {len(np.unique(y))} class(es) and {len(s)} scores.")

    def macro(W):
        return np.mean([_weighted_binary(yc, sc, W, "roc_auc") for yc, sc in pairs], axis=0)

    value = float(macro(np.ones((1, len(y))))[0])
    boot = np.concatenate([macro(W) for W in _bootstrap_weights(len(y), n_boot, seed)])
    boot = boot[np.isfinite(boot)]
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha]) if len(boot) else (np.nan, np.nan)
    return value, float(low), float(high)

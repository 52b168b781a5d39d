"""Class-imbalance handling on the training split only, through imbalanced-learn."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.errors import DataValidationError

IMBALANCE_METHODS: dict[str, str] = {
    "none": "None: train on the data as it is",
    "class_weight": "Class weights: errors on the rare class cost more",
    "oversample": "Random over-sampling: repeat rare-class rows",
    "undersample": "Random under-sampling: drop common-class rows",
    "smote": "SMOTE: synthesise rare-class rows (SMOTE-NC with categoricals)",
    "adasyn": "ADASYN: synthesise rare rows where they are hardest to learn",
    "smote_tomek": "SMOTE-Tomek: SMOTE, then remove overlapping pairs",
}

# Neighbour-based methods need at least k + 1 minority rows to find k neighbours.
_NEEDS_NEIGHBOURS = {"smote", "adasyn", "smote_tomek"}
DEFAULT_K = 5


@dataclass(frozen=True)
class RebalanceResult:
    """Training data after rebalancing, with the class counts before and after."""

    X: np.ndarray
    y: np.ndarray
    class_weight: dict[int, float] | None
    counts_before: dict[int, int]
    counts_after: dict[int, int]
    method: str


def _counts(y) -> dict[int, int]:
    c = Counter(np.asarray(y).astype(int).tolist())
    return {int(k): int(c[k]) for k in sorted(c)}


def compute_class_weight(y) -> dict[int, float]:
    """'Balanced' weights: n_rows / (n_classes * rows_in_class)."""
    counts = _counts(y)
    n, k = sum(counts.values()), len(counts)
    return {cls: n / (k * cnt) for cls, cnt in counts.items()}


def check_method(method: str, y, *, k_neighbors: int = DEFAULT_K) -> None:
    """Raise a clear error when ``method`` cannot run on labels ``y``."""
    if method not in IMBALANCE_METHODS:
        raise DataValidationError(
            f"Imbalance method must be one of {', '.join(IMBALANCE_METHODS)}; got '{method}'. "
            "Pick one from the list."
        )
    counts = _counts(y)
    if len(counts) < 2:
        only = next(iter(counts), "none")
        raise DataValidationError(
            f"Training needs rows of both classes; the training split has only class {only}. "
            "Use more data or a different split."
        )
    minority = min(counts.values())
    if method in _NEEDS_NEIGHBOURS and minority < k_neighbors + 1:
        raise DataValidationError(
            f"{method.upper()} needs at least {k_neighbors + 1} rows of the rare class to find "
            f"{k_neighbors} neighbours; the training split has {minority}. "
            "Choose class weights or random over-sampling, or add more rare-class rows."
        )


def rebalance(
    X,
    y,
    *,
    method: str = "none",
    categorical_idx: Sequence[int] | None = None,
    seed: int = 0,
    k_neighbors: int = DEFAULT_K,
) -> RebalanceResult:
    """Rebalance a training split. Never call it on validation or test data.

    ``categorical_idx`` marks columns of ``X`` that hold category codes, so SMOTE switches to
    SMOTE-NC and does not interpolate between categories.
    """
    X = np.asarray(X)
    y = np.asarray(y).astype(int)
    check_method(method, y, k_neighbors=k_neighbors)
    before = _counts(y)
    weights = None
    if method == "none":
        Xr, yr = X, y
    elif method == "class_weight":
        Xr, yr, weights = X, y, compute_class_weight(y)
    else:
        sampler = _make_sampler(method, categorical_idx, seed, k_neighbors)
        try:
            Xr, yr = sampler.fit_resample(X, y)
        except ValueError as exc:  # imblearn's own message is precise; keep it, add the fix
            raise DataValidationError(
                f"{IMBALANCE_METHODS[method].split(':')[0]} could not run on this data: {exc}. "
                "Choose class weights or random over-sampling instead."
            ) from exc
    return RebalanceResult(
        X=np.asarray(Xr), y=np.asarray(yr).astype(int), class_weight=weights,
        counts_before=before, counts_after=_counts(yr), method=method,
    )


def _make_sampler(method: str, categorical_idx, seed: int, k: int):
    from imblearn.combine import SMOTETomek
    from imblearn.over_sampling import ADASYN, SMOTE, SMOTENC, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    cats = list(categorical_idx or [])
    if method == "oversample":
        return RandomOverSampler(random_state=seed)
    if method == "undersample":
        return RandomUnderSampler(random_state=seed)
    smote = (SMOTENC(categorical_features=cats, random_state=seed, k_neighbors=k) if cats
             else SMOTE(random_state=seed, k_neighbors=k))
    if method == "smote":
        return smote
    if method == "adasyn":
        return ADASYN(random_state=seed, n_neighbors=k)
    return SMOTETomek(smote=smote, random_state=seed)

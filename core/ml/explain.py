"""SHAP explanations drawn from ``Explanation.values`` (charts are Plotly, in core/present/charts.py).

Tabular models are explained in the code space of ``TabularPreprocessor`` (one column per source
column), with the antithetic permutation estimator of shap's Permutation explainer run over a
*batched* prediction function. It never uses DeepExplainer, which breaks TensorFlow for the whole
process when it fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError

# Rows per prediction call inside the SHAP walks: large enough that per-call costs vanish, small enough
# that the model's working copies of a call stay a few MB (a 1,000-row credit request with 300 declined
# applicants sent 211,000 rows in one call, and the service's resident memory rose by 120 MB).
PREDICT_ROWS = 16_384


def plain_index(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the index 0 .. n - 1: itself when it has it already (a prediction request's rows), else
    ``reset_index(drop=True)``; the copy of a one-row frame cost as much as a tenth of its reason codes."""
    idx = df.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return df
    return df.reset_index(drop=True)


@dataclass(frozen=True)
class ShapResult:
    """SHAP values for ``len(data)`` rows: ``values[i, j]`` is feature j's push on row i."""

    values: np.ndarray
    base_value: float
    data: pd.DataFrame  # readable feature values, one column per feature
    feature_names: list[str]
    predictions: np.ndarray

    def importance(self) -> pd.DataFrame:
        """Mean |SHAP| per feature, most important first."""
        imp = np.abs(self.values).mean(axis=0)
        return (pd.DataFrame({"feature": self.feature_names, "importance": imp})
                .sort_values("importance", ascending=False, ignore_index=True))

    def contributions(self, i: int) -> pd.DataFrame:
        """One row's features, their values and SHAP values, largest push first."""
        if not 0 <= i < len(self.data):
            raise DataValidationError(
                f"Row to explain must be between 0 and {len(self.data) - 1}; got {i}. Pick a listed row."
            )
        d = pd.DataFrame({
            "feature": self.feature_names,
            "value": [self.data.iloc[i][f] for f in self.feature_names],
            "shap": self.values[i],
        })
        return d.reindex(d["shap"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def top_reasons(self, i: int, k: int = 4, *, sign: int = 1) -> pd.DataFrame:
        """The ``k`` features pushing row ``i`` most towards the positive class (sign=+1)."""
        c = self.contributions(i)
        c = c[np.sign(c["shap"]) == sign]
        return c.sort_values("shap", ascending=(sign < 0)).head(k).reset_index(drop=True)


def compute_permutation_shap(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    background: np.ndarray,
    X: np.ndarray,
    *,
    n_permutations: int = 1,
    seed: int = 0,
    max_batch_rows: int = 400_000,
    predict_rows: int | None = None,
) -> tuple[np.ndarray, float]:
    """Antithetic permutation estimate of interventional SHAP values, vectorised over rows.

    This is the algorithm of ``shap.explainers.Permutation`` with an ``Independent`` masker: for a
    random feature order, features are switched from background to the row's values one at a time,
    forwards and then backwards, and each switch's change in the average prediction is credited to
    that feature. Unlike shap's explainer, which calls the model once per explained row, every row,
    step and background sample here goes through the model in a few large batches, which is
    what makes 500 rows take seconds instead of minutes. Values add up exactly to
    ``f(x) - mean(f(background))`` for every row.

    ``predict_fn`` is handed a call's batch in slices of at most ``predict_rows`` rows (default
    ``PREDICT_ROWS``): its own working copies (encoded rows, a baseline's float64 copy, ONNX Runtime's
    buffers) then stay small while the batch can be large; each row's prediction does not depend on
    its neighbours, so the values are the same.
    """
    return _permutation_shap(predict_fn, background, X, n_permutations=n_permutations, seed=seed,
                             max_batch_rows=max_batch_rows, predict_rows=predict_rows)[:2]


def _permutation_shap(predict_fn, background, X, *, n_permutations: int, seed: int, max_batch_rows: int,
                      predict_rows: int | None) -> tuple[np.ndarray, float, np.ndarray]:
    """``compute_permutation_shap``'s (values, base value) and the rows' own predictions ``f(X)``.

    Every walk starts from the background alone (all features off) and ends at the row alone (all on),
    whatever the order: those two states are predicted once, the background's b rows for all rows and
    each row once for all its walks, instead of b rows per walk and row (a one-row request's 10 walks of
    a 13-feature credit model sent 7,050 rows to the model, now 6,051). Only the states in between, where
    the background does matter, are sent per walk."""
    X = np.asarray(X, dtype=np.float32)
    bg = np.asarray(background, dtype=np.float32)
    n, m = X.shape
    b = len(bg)
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(m) for _ in range(n_permutations)]
    directions = [d for order in orders for d in (order, order[::-1])]
    inner = (m - 1) * b  # rows of one explained row's walk between its ends
    rows_per_call = max(1, max_batch_rows // max(inner, 1))
    # Every (direction, block of rows) step, grouped so that one model call takes as many as fit in
    # max_batch_rows: a single explained row's 2 x n_permutations walks (and the background's and the
    # row's own predictions) go through the model in one call instead of one call each.
    steps = [(d, start, min(start + rows_per_call, n)) for d in directions for start in range(0, n, rows_per_call)]
    calls, rows_in_call = [[]], 0
    for step in steps:
        if rows_in_call + step[2] - step[1] > rows_per_call:
            calls.append([])
            rows_in_call = 0
        calls[-1].append(step)
        rows_in_call += step[2] - step[1]
    values = np.zeros((n, m), dtype=float)
    base = fx = None
    for call in calls:
        # One matrix per call, each step's states written straight into it (no copies of a large batch).
        head = b + n if base is None else 0
        sizes = [(stop - start) * inner for _, start, stop in call]
        batch = np.empty((head + sum(sizes), m), dtype=np.float32)
        if head:
            batch[:b], batch[b:head] = bg, X
        at = head
        for start, stop, walks in _same_rows(call):
            size = len(walks) * (stop - start) * inner
            _switch_states(X[start:stop], bg, walks, out=batch[at:at + size].reshape(len(walks), stop - start, m - 1, b, m))
            at += size
        preds = _predict_in_slices(predict_fn, batch, PREDICT_ROWS if predict_rows is None else predict_rows)
        preds = preds.astype(float, copy=False)
        if base is None:
            base, fx, preds = float(np.mean(preds[:b])), preds[b:head], preds[head:]
        at = 0
        for (direction, start, stop), size in zip(call, sizes):
            walk = np.empty((stop - start, m + 1))
            walk[:, 0], walk[:, m] = base, fx[start:stop]
            walk[:, 1:m] = preds[at:at + size].reshape(stop - start, m - 1, b).mean(axis=2)
            values[start:stop, direction] += np.diff(walk, axis=1)
            at += size
    return values / (2 * n_permutations), base, fx


def _predict_in_slices(predict_fn, batch: np.ndarray, rows: int) -> np.ndarray:
    """``predict_fn(batch)`` as one flat array, asked ``rows`` rows at a time."""
    rows = max(1, int(rows))
    if len(batch) <= rows:
        return np.asarray(predict_fn(batch)).reshape(-1)
    return np.concatenate([np.asarray(predict_fn(batch[i:i + rows])).reshape(-1) for i in range(0, len(batch), rows)])


def _same_rows(call: list) -> list[tuple[int, int, list]]:
    """A call's consecutive steps that walk the same block of rows, as (start, stop, their directions):
    their states are written by one ``_switch_states``."""
    groups = []
    for direction, start, stop in call:
        if groups and groups[-1][:2] == (start, stop):
            groups[-1][2].append(direction)
        else:
            groups.append((start, stop, [direction]))
    return groups


def _switch_states(xs: np.ndarray, bg: np.ndarray, directions: list, *, out: np.ndarray) -> None:
    """Fill ``out[w, r, s - 1, j, :]`` for s in 1 .. m - 1: row r with the first s features of walk w's
    direction switched on, the rest taken from background sample j (the walk's ends, s = 0 and s = m, are
    not written: they are the background and the row themselves). One ``np.where`` for all the walks (a
    one-row request's 10 walks of 12 states each were 120 calls, a fifth of its reason codes' CPU)."""
    m = xs.shape[1]
    rank = np.empty((len(directions), m), dtype=np.intp)
    for w, direction in enumerate(directions):
        rank[w, direction] = np.arange(m)
    switched = rank[:, None, :] < np.arange(1, m)[None, :, None]  # (walk, state, feature)
    np.copyto(out, np.where(switched[:, None, :, None, :], xs[None, :, None, None, :], bg[None, None, None, :, :]))


def compute_shap_tabular(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    background: np.ndarray,
    X: np.ndarray,
    feature_names: list[str],
    display: pd.DataFrame,
    *,
    seed: int = 0,
    max_background: int = 50,
    n_permutations: int | None = None,
) -> ShapResult:
    """SHAP values for rows ``X`` (code space) against a small, seeded background sample.

    ``predict_fn`` takes a 2-D array of many rows and returns probabilities. A few rows (a local
    explanation) get more permutations, so their values are steadier; many rows get one.
    """
    X = np.asarray(X, dtype=np.float32)
    background = np.asarray(background, dtype=np.float32)
    if len(X) == 0:
        raise DataValidationError("There are no rows to explain; got an empty selection. Pick at least one row.")
    if len(background) == 0:
        raise DataValidationError("SHAP needs background rows from the training data; got none. Train a model first.")
    if X.shape[1] != len(feature_names):
        raise DataValidationError(
            f"Rows to explain have {X.shape[1]} columns but {len(feature_names)} feature names were given."
        )
    rng = np.random.default_rng(seed)
    if len(background) > max_background:
        background = background[rng.choice(len(background), max_background, replace=False)]
    if n_permutations is None:
        n_permutations = 5 if len(X) <= 10 else 1
    # The rows' own predictions come from the walks' batch (every walk ends at the row): no call of their own.
    values, base, preds = _permutation_shap(predict_fn, background, X, n_permutations=n_permutations, seed=seed,
                                            max_batch_rows=400_000, predict_rows=None)
    return ShapResult(values=values, base_value=base, data=plain_index(display),
                      feature_names=list(feature_names), predictions=preds)

"""Population stability index (PSI) between the training population and a new one.

PSI = sum over bins of (actual% - expected%) * ln(actual% / expected%). Numeric columns are cut at
the training deciles (so each training bin holds about a tenth of the rows), categorical columns
by category, and missing values get a bin of their own, because a jump in missing values is drift
too. Conventional reading: below 0.1 stable, 0.1 to 0.25 watch, above 0.25 shifted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.data.drift import SHIFTED, STABLE, WATCH, psi_from_counts as _psi_from_counts, psi_status  # noqa: F401
from core.errors import DataValidationError


def compute_psi_numeric(expected, actual, *, bins: int = 10) -> float:
    """PSI of a numeric variable with bins at the expected population's quantiles."""
    e = pd.to_numeric(pd.Series(expected), errors="coerce").to_numpy(dtype=float)
    a = pd.to_numeric(pd.Series(actual), errors="coerce").to_numpy(dtype=float)
    e_ok = e[~np.isnan(e)]
    if len(e_ok) == 0:
        edges = np.array([-np.inf, np.inf])
    else:
        inner = np.unique(np.quantile(e_ok, np.linspace(0, 1, bins + 1)[1:-1]))
        edges = np.r_[-np.inf, inner, np.inf]

    def counts(x: np.ndarray) -> np.ndarray:
        ok = x[~np.isnan(x)]
        hist = np.histogram(ok, bins=edges)[0] if len(ok) else np.zeros(len(edges) - 1)
        return np.r_[hist, np.isnan(x).sum()].astype(float)

    return _psi_from_counts(counts(e), counts(a))


def compute_psi_categorical(expected, actual) -> float:
    """PSI of a categorical variable, one bin per category seen in either population."""
    e = pd.Series(expected).astype("object").where(pd.Series(expected).notna(), "__missing__").astype(str)
    a = pd.Series(actual).astype("object").where(pd.Series(actual).notna(), "__missing__").astype(str)
    cats = sorted(set(e.unique()) | set(a.unique()))
    ec = e.value_counts().reindex(cats, fill_value=0).to_numpy(dtype=float)
    ac = a.value_counts().reindex(cats, fill_value=0).to_numpy(dtype=float)
    return _psi_from_counts(ec, ac)


def check_population(new: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise `DataValidationError` when a new population is empty or lacks model columns."""
    if len(new) == 0:
        raise DataValidationError(
            "The new population has no rows; expected at least one applicant. "
            "Fix: upload a file with data rows below the header."
        )
    missing = [c for c in columns if c not in new.columns]
    if missing:
        raise DataValidationError(
            f"The new file must have the model's feature columns; missing {missing[:8]}"
            f"{' ...' if len(missing) > 8 else ''}. Fix: upload a file with the same columns as "
            "the training data (extra columns are ignored)."
        )


def compute_psi_table(train: pd.DataFrame, new: pd.DataFrame, *, numeric: Sequence[str],
                      categorical: Sequence[str], score_train=None, score_new=None,
                      bins: int = 10) -> pd.DataFrame:
    """PSI per feature (and for the score, when both score arrays are given), worst first.

    Columns: variable, kind, psi, status. Raises `DataValidationError` when the new file is empty
    or lacks columns the model uses.
    """
    check_population(new, [*numeric, *categorical])
    rows = []
    if score_train is not None and score_new is not None:
        v = compute_psi_numeric(score_train, score_new, bins=bins)
        rows.append({"variable": "score", "kind": "score", "psi": v})
    for col in numeric:
        rows.append({"variable": col, "kind": "numeric",
                     "psi": compute_psi_numeric(train[col], new[col], bins=bins)})
    for col in categorical:
        rows.append({"variable": col, "kind": "categorical",
                     "psi": compute_psi_categorical(train[col], new[col])})
    out = pd.DataFrame(rows, columns=["variable", "kind", "psi"])
    out["status"] = out["psi"].map(psi_status)
    # The score row stays on top; features follow worst first.
    is_score = out["kind"] == "score"
    return pd.concat([out[is_score], out[~is_score].sort_values("psi", ascending=False)],
                     ignore_index=True)

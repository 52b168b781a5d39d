"""Population stability (PSI) against a saved training profile, without keeping the training rows.

A saved run stores a *profile* of its training data: for each numeric column the inner decile
edges and the share of training rows in each bin (plus a bin for missing values), for each
categorical column the share of each category (the 50 most frequent, the rest pooled as
"other"). Any later file can then be compared with the training population, one column at a time:

    PSI = sum over bins of (new% - train%) * ln(new% / train%)

Conventional reading: below 0.1 stable, 0.1 to 0.25 watch, above 0.25 shifted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# Empty bins would make the log blow up; a small floor is the usual convention.
_FLOOR = 1e-4
STABLE, WATCH, SHIFTED = "stable", "watch", "shifted"
MAX_CATEGORIES = 50
_MISSING = "__missing__"
_OTHER = "__other__"


def psi_status(value: float) -> str:
    """'stable' below 0.1, 'watch' from 0.1 to 0.25, 'shifted' above 0.25."""
    if value < 0.1:
        return STABLE
    if value <= 0.25:
        return WATCH
    return SHIFTED


def psi_from_counts(expected, actual) -> float:
    """PSI between two count (or share) vectors over the same bins."""
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    e = np.maximum(expected / max(expected.sum(), 1e-12), _FLOOR)
    a = np.maximum(actual / max(actual.sum(), 1e-12), _FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_counts(values: pd.Series, inner_edges: Sequence[float]) -> np.ndarray:
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = x[~np.isnan(x)]
    edges = np.r_[-np.inf, np.asarray(inner_edges, dtype=float), np.inf]
    hist = np.histogram(ok, bins=edges)[0] if len(ok) else np.zeros(len(edges) - 1)
    return np.r_[hist, np.isnan(x).sum()].astype(float)


def _as_labels(values: pd.Series) -> pd.Series:
    s = pd.Series(values).astype("object")
    return s.where(s.notna(), _MISSING).astype(str)


def build_profile(df: pd.DataFrame, *, numeric: Sequence[str] = (), categorical: Sequence[str] = (),
                  bins: int = 10) -> dict:
    """JSON-ready profile of the training population (see the module docstring)."""
    cols: dict[str, dict] = {}
    for c in numeric:
        x = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
        ok = x[~np.isnan(x)]
        inner = np.unique(np.quantile(ok, np.linspace(0, 1, bins + 1)[1:-1])) if len(ok) else np.array([])
        counts = _numeric_counts(df[c], inner)
        cols[str(c)] = {"kind": "numeric", "edges": [float(v) for v in inner],
                        "shares": (counts / max(counts.sum(), 1)).round(6).tolist()}
    for c in categorical:
        vc = _as_labels(df[c]).value_counts()
        top = vc.iloc[:MAX_CATEGORIES]
        shares = (top / max(len(df), 1)).round(6).to_dict()
        rest = float(vc.iloc[MAX_CATEGORIES:].sum()) / max(len(df), 1)
        cols[str(c)] = {"kind": "categorical", "shares": {str(k): float(v) for k, v in shares.items()},
                        "other": round(rest, 6)}
    return {"rows": int(len(df)), "columns": cols}


def compare_to_profile(profile: dict, new: pd.DataFrame) -> pd.DataFrame:
    """PSI per profiled column present in ``new``, worst first.

    Columns of the result: variable, kind, psi, status. Profiled columns missing from ``new`` are
    left out (the caller reports missing columns separately).
    """
    acc = DriftAccumulator(profile)
    acc.update(new)
    return acc.result()


class DriftAccumulator:
    """PSI against a saved profile, counted chunk by chunk (flat memory for files of any length).

    ``update(chunk)`` adds a chunk's bin counts; ``result()`` gives the same table as
    ``compare_to_profile`` on the whole file would.
    """

    def __init__(self, profile: dict):
        self._cols = {c: p for c, p in (profile or {}).get("columns", {}).items()}
        self._counts: dict[str, np.ndarray] = {}
        self.rows = 0

    def update(self, chunk: pd.DataFrame) -> None:
        self.rows += len(chunk)
        for c, p in self._cols.items():
            if c not in chunk.columns:
                continue
            if p["kind"] == "numeric":
                counts = _numeric_counts(chunk[c], p["edges"])
            else:
                labels = _as_labels(chunk[c])
                vc = labels.value_counts()
                known = [float(vc.get(k, 0)) for k in p["shares"]]
                counts = np.array([*known, float(len(labels) - sum(known))])
            self._counts[c] = self._counts.get(c, 0) + counts

    def merge(self, other: "DriftAccumulator") -> None:
        """Add the counts of another accumulator of the same profile (e.g. one per partition)."""
        self.rows += other.rows
        for c, counts in other._counts.items():
            self._counts[c] = self._counts.get(c, 0) + counts

    def result(self) -> pd.DataFrame:
        rows = []
        for c, counts in self._counts.items():
            p = self._cols[c]
            expected = p["shares"] if p["kind"] == "numeric" else [*p["shares"].values(), p.get("other", 0.0)]
            rows.append({"variable": c, "kind": p["kind"], "psi": psi_from_counts(expected, counts)})
        out = pd.DataFrame(rows, columns=["variable", "kind", "psi"])
        out["status"] = out["psi"].map(psi_status)
        return out.sort_values("psi", ascending=False, ignore_index=True)

"""Tabular preprocessing fitted on the training split only.

Two stages, so that SMOTE-NC can see categories as categories:

1. ``transform_codes``: numeric columns imputed (median) and standardised, categorical columns as
   integer codes (rare and overflow categories grouped as ``(other)``). One column per source
   column, which is also the space SHAP explains in, so explanations name the analyst's columns.
2. ``encode``: codes one-hot encoded for the network and the linear baseline.

The fitted state is plain JSON (``to_dict`` / ``from_dict``): saved models never need pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError

MISSING = "(missing)"
OTHER = "(other)"


@dataclass
class TabularPreprocessor:
    numeric: list[str]
    categorical: list[str]
    rare_min_frac: float = 0.01
    max_categories: int = 30
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    grouped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        if not self.numeric and not self.categorical:
            raise DataValidationError(
                "The model needs at least one feature column; got none. "
                "Mark at least one column as numeric or categorical."
            )

    @property
    def columns(self) -> list[str]:
        """Source columns, in the order of the code matrix."""
        return list(self.numeric) + list(self.categorical)

    @property
    def categorical_idx(self) -> list[int]:
        n = len(self.numeric)
        return list(range(n, n + len(self.categorical)))

    @staticmethod
    def _as_category(s: pd.Series) -> pd.Series:
        return s.astype("object").where(s.notna(), MISSING).astype(str)

    def fit(self, df: pd.DataFrame) -> "TabularPreprocessor":
        """Learn imputation values, scaling and category lists from the training rows."""
        self._check_columns(df)
        for c in self.numeric:
            x = pd.to_numeric(df[c], errors="coerce").astype(float)
            med = float(x.median()) if x.notna().any() else 0.0
            x = x.fillna(med)
            std = float(x.std(ddof=0))
            self.medians[c], self.means[c], self.stds[c] = med, float(x.mean()), std if std > 0 else 1.0
        for c in self.categorical:
            freq = self._as_category(df[c]).value_counts(normalize=True)
            keep = freq[freq >= self.rare_min_frac].index.tolist()[: self.max_categories - 1]
            self.grouped[c] = int(len(freq) - len(keep))
            self.categories[c] = [str(v) for v in keep] + [OTHER]
        return self

    def _check_columns(self, df: pd.DataFrame) -> None:
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise DataValidationError(
                f"The data must have the model's columns; missing {missing}. "
                "Upload a file with the same columns as the training data."
            )

    def transform_codes(self, df: pd.DataFrame) -> np.ndarray:
        """Numeric columns scaled, categorical columns as integer codes (float32)."""
        self._check_columns(df)
        out = np.empty((len(df), len(self.columns)), dtype=np.float32)
        for j, c in enumerate(self.numeric):
            x = pd.to_numeric(df[c], errors="coerce").astype(float).fillna(self.medians[c])
            out[:, j] = (x.to_numpy() - self.means[c]) / self.stds[c]
        for j, c in enumerate(self.categorical, start=len(self.numeric)):
            cats = self.categories[c]
            lookup = {v: i for i, v in enumerate(cats)}
            other = len(cats) - 1
            out[:, j] = self._as_category(df[c]).map(lookup).fillna(other).to_numpy()
        return out

    @property
    def n_encoded(self) -> int:
        return len(self.numeric) + sum(len(self.categories[c]) for c in self.categorical)

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """One-hot encode the categorical code columns of a code matrix."""
        codes = np.asarray(codes, dtype=np.float32)
        n_num = len(self.numeric)
        parts = [codes[:, :n_num]]
        for j, c in enumerate(self.categorical, start=n_num):
            k = len(self.categories[c])
            idx = np.clip(np.rint(codes[:, j]).astype(int), 0, k - 1)
            parts.append(np.eye(k, dtype=np.float32)[idx])
        return np.concatenate(parts, axis=1) if parts else codes

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Model-ready matrix for ``df``."""
        return self.encode(self.transform_codes(df))

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for c in self.categorical:
            names += [f"{c}={v}" for v in self.categories[c]]
        return names

    def decode_codes(self, codes: np.ndarray) -> pd.DataFrame:
        """Back from a code matrix to readable values (for synthetic rows and what-if edits)."""
        codes = np.asarray(codes, dtype=float)
        data = {}
        for j, c in enumerate(self.numeric):
            data[c] = codes[:, j] * self.stds[c] + self.means[c]
        for j, c in enumerate(self.categorical, start=len(self.numeric)):
            cats = self.categories[c]
            data[c] = [cats[int(np.clip(round(v), 0, len(cats) - 1))] for v in codes[:, j]]
        return pd.DataFrame(data)

    def grouping_notices(self) -> list[str]:
        """Plain-words notes on categories grouped into ``(other)``."""
        return [
            f"'{c}': {n} rare or surplus categories grouped as '{OTHER}' "
            f"(kept the {len(self.categories[c]) - 1} most frequent)."
            for c, n in self.grouped.items() if n > 0
        ]

    def to_dict(self) -> dict:
        return {
            "numeric": self.numeric, "categorical": self.categorical,
            "rare_min_frac": self.rare_min_frac, "max_categories": self.max_categories,
            "medians": self.medians, "means": self.means, "stds": self.stds,
            "categories": self.categories, "grouped": self.grouped,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TabularPreprocessor":
        return cls(**d)

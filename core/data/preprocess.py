"""Tabular preprocessing fitted on the training split only.

Two stages, so that SMOTE-NC can see categories as categories and SHAP explains source columns:

1. ``transform_codes``: one column per source column, which is also the space SHAP explains in,
   so explanations name the analyst's columns. Numeric columns are scaled (``scaling``):
   ``"standard"`` (mean / standard deviation) or ``"quantile"`` (each value's rank among the
   training rows mapped to a standard normal, so a heavy tail — a debt ratio in the thousands
   where most rows are below 1 — cannot dominate the network, and values beyond the training range
   are clipped to its ends). Sentinel codes for "unknown" (96 / 98 in a count that otherwise runs
   0 .. 13, 999, 9999 …) are detected on the training rows and treated as missing. A numeric column
   that had missing values in the training rows keeps them as NaN codes; one that had none is
   imputed with the training median. Categorical columns become integer codes (rare and overflow
   categories grouped as ``(other)``).
2. ``encode``: for the network and the linear baseline: NaN codes become the median's code plus a
   0/1 missing indicator column, and categorical codes are one-hot encoded. ``feature_groups``
   maps every encoded column (indicators, one-hot columns) to its source column.

The fitted state is plain JSON (``to_dict`` / ``from_dict``): saved models never need pickle. A
saved preprocessor from before sentinels, indicators and quantile scaling loads with standard
scaling and neither, so it transforms exactly as it did when it was saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError

MISSING = "(missing)"
OTHER = "(other)"
SCALINGS = ("standard", "quantile")
MISSING_SUFFIX = " (missing)"
# Quantile scaling: at most this many quantiles are stored per column (JSON), and the normal
# scores are clipped at this tail probability, so every scaled value lies within about ±3.1.
N_QUANTILES = 1000
TAIL = 1e-3


def is_sentinel_code(v: float) -> bool:
    """Codes that bureaus and spreadsheets use for "unknown": 96, 97, 98, 99, 996 … 999, 9996 …
    (all nines, or nines ending in 6, 7 or 8), and the same with a minus sign."""
    v = abs(float(v))
    if v < 90 or v != int(v):
        return False
    digits = str(int(v))
    return set(digits[:-1]) == {"9"} and digits[-1] in "6789"


def find_sentinels(x: pd.Series, *, min_count: int = 2, gap: float = 3.0) -> list[float]:
    """Sentinel codes among a numeric column's (training) values.

    A value counts as a code for "unknown" when it looks like one (``is_sentinel_code``), lies far
    beyond every other value — more than ``gap`` times their largest absolute value, so the long
    tail of an ordinary count (a terminal's 99 transactions next to one with 60) is not taken for a
    code — and is a pattern rather than one stray value: it
    occurs in at least ``min_count`` rows, or another code of the same column does (96 seen once
    next to 98 seen often). A count of past-due payments running 0 .. 13 with 96 and 98 qualifies;
    an age column with a few people of 99 does not, and neither does an income column where 9,999
    is an ordinary amount.
    """
    vals = x.dropna()
    if vals.empty:
        return []
    counts = vals.value_counts()
    cand = [float(v) for v in counts.index if is_sentinel_code(v)]
    if not cand:
        return []
    rest = vals[~vals.isin(cand)].abs()
    if rest.empty:
        return []
    top = float(rest.max())
    far = [v for v in cand if abs(v) > gap * max(top, 1.0)]
    if not far or max(counts[v] for v in far) < min_count:
        return []
    return sorted(far)


def _ndtri(u: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(u)


def _ndtr(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(z)


SMALL_FRAME = 256  # rows up to which categories are looked up value by value (see transform_codes)


@dataclass
class TabularPreprocessor:
    numeric: list[str]
    categorical: list[str]
    rare_min_frac: float = 0.01
    max_categories: int = 30
    scaling: str = "standard"
    detect_sentinels: bool = True
    missing_indicators: bool = True
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    grouped: dict[str, int] = field(default_factory=dict)
    quantiles: dict[str, list[float]] = field(default_factory=dict)  # quantile scaling: fitted quantiles
    sentinels: dict[str, list[float]] = field(default_factory=dict)  # codes treated as missing
    indicators: list[str] = field(default_factory=list)  # numeric columns with a missing indicator
    missing_counts: dict[str, list[int]] = field(default_factory=dict)  # [missing, sentinel] training rows

    def __post_init__(self):
        if not self.numeric and not self.categorical:
            raise DataValidationError(
                "The model needs at least one feature column; got none. "
                "Mark at least one column as numeric or categorical."
            )
        if self.scaling not in SCALINGS:
            raise DataValidationError(
                f"Numeric scaling must be one of {list(SCALINGS)}; got {self.scaling!r}. "
                "Fix: use 'quantile' for skewed data or 'standard'."
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
        """Learn sentinels, imputation values, scaling and category lists from the training rows."""
        self._check_columns(df)
        self.sentinels, self.indicators, self.missing_counts, self.quantiles = {}, [], {}, {}
        for c in self.numeric:
            x = pd.to_numeric(df[c], errors="coerce").astype(float)
            n_missing = int(x.isna().sum())
            codes = find_sentinels(x) if self.detect_sentinels else []
            n_codes = 0
            if codes:
                hit = x.isin(codes)
                n_codes = int(hit.sum())
                self.sentinels[c] = codes
                x = x.mask(hit)
            if self.missing_indicators and n_missing + n_codes > 0:
                self.indicators.append(c)
                self.missing_counts[c] = [n_missing, n_codes]
            med = float(x.median()) if x.notna().any() else 0.0
            if self.scaling == "quantile":
                obs = x.dropna().to_numpy()
                if len(obs) == 0:
                    obs = np.array([med])
                probs = np.linspace(0, 1, min(N_QUANTILES, len(obs)))
                self.quantiles[c] = [float(v) for v in np.quantile(obs, probs)]
            x = x.fillna(med)
            std = float(x.std(ddof=0))
            self.medians[c], self.means[c], self.stds[c] = med, float(x.mean()), std if std > 0 else 1.0
        for c in self.categorical:
            freq = self._as_category(df[c]).value_counts(normalize=True)
            # A blank is a category of its own however rare: an applicant who left the job empty
            # is not one of the rare jobs grouped as (other), and blanks often carry risk.
            blank = [MISSING] if MISSING in freq.index else []
            common = [v for v in freq[freq >= self.rare_min_frac].index if v != MISSING]
            keep = common[: self.max_categories - 1 - len(blank)] + blank
            if blank:
                self.missing_counts[c] = [int(df[c].isna().sum()), 0]
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

    def _scale(self, c: str, x: np.ndarray) -> np.ndarray:
        """Training-fitted scaling of one numeric column's raw values (NaN stays NaN)."""
        if self.scaling == "quantile" and c in self.quantiles:
            q, p, q_rev, p_rev = self._quantile_arrays(c)
            if len(q) < 2 or q[0] == q[-1]:
                return np.where(np.isnan(x), np.nan, 0.0)
            # Averaging the interpolation from below and from above gives tied values (a count
            # that is 0 for most rows) the middle of their rank range, as scikit-learn does.
            u = 0.5 * (np.interp(x, q, p) - np.interp(-x, q_rev, p_rev))
            return _ndtri(np.clip(u, TAIL, 1 - TAIL))
        return (x - self.means[c]) / self.stds[c]

    def _quantile_arrays(self, c: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Column ``c``'s fitted quantiles as arrays (q, their probabilities, and both negated and reversed),
        made once per fitted list: converting the stored list on every call was most of scoring one row."""
        stored = self.quantiles[c]
        cache = self.__dict__.setdefault("_quantile_cache", {})
        hit = cache.get(c)
        if hit is None or hit[0] is not stored:
            q = np.asarray(stored, dtype=float)
            p = np.linspace(0, 1, len(q))
            hit = cache[c] = (stored, (q, p, -q[::-1], -p[::-1]))
        return hit[1]

    def _unscale(self, c: str, z: np.ndarray) -> np.ndarray:
        if self.scaling == "quantile" and c in self.quantiles:
            q, p, _, _ = self._quantile_arrays(c)
            if len(q) < 2:
                return np.full(len(z), q[0] if len(q) else self.medians[c])
            return np.interp(_ndtr(z), p, q)
        return z * self.stds[c] + self.means[c]

    def _raw_numeric(self, df: pd.DataFrame, c: str) -> np.ndarray:
        s = df[c]
        if pd.api.types.is_numeric_dtype(s):  # already numbers: the same values, without parsing
            x = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            x = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
        codes = self.sentinels.get(c)
        if codes:
            x = np.where(np.isin(x, codes), np.nan, x)
        return x

    def transform_codes(self, df: pd.DataFrame) -> np.ndarray:
        """One column per source column (float32): numeric columns scaled, categorical columns as
        integer codes. Missing values (and sentinel codes) stay NaN in columns that had them in the
        training rows (``encode`` turns them into indicators); other columns get the median."""
        self._check_columns(df)
        out = np.empty((len(df), len(self.columns)), dtype=np.float32)
        keep_nan = set(self.indicators)
        small = len(df) <= SMALL_FRAME
        raw, block = self._small_blocks(df) if small else (None, None)
        for j, c in enumerate(self.numeric):
            x = raw[:, j] if raw is not None else self._raw_numeric(df, c)
            if raw is not None and self.sentinels.get(c):
                x = np.where(np.isin(x, self.sentinels[c]), np.nan, x)
            if c not in keep_nan:
                x = np.where(np.isnan(x), self.medians[c], x)
            out[:, j] = self._scale(c, x)
        for k, c in enumerate(self.categorical):
            j = len(self.numeric) + k
            cats = self.categories[c]
            lookup = {v: i for i, v in enumerate(cats)}
            other = len(cats) - 1
            if small:
                # A few rows (a prediction request): the same labels as _as_category, looked up one by one
                # instead of pandas' per-call overhead three times over.
                out[:, j] = [lookup.get(MISSING if pd.isna(v) else str(v), other) for v in block[:, k]]
            else:
                out[:, j] = self._as_category(df[c]).map(lookup).fillna(other).to_numpy()
        return out

    def _small_blocks(self, df: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray]:
        """A few rows' numeric columns as one float block (missing as NaN; None when one of them does not
        hold plain numpy numbers, which ``_raw_numeric`` then parses column by column) and categorical
        columns as one object block, from one conversion of the frame: a pandas lookup per column (and
        selecting columns by a list of names) was most of the time of a one-row request."""
        names = df.columns.tolist()
        dtypes = df.dtypes.tolist()
        pos = {n: i for i, n in enumerate(names)}
        values = df.to_numpy(dtype=object)
        num = [pos[c] for c in self.numeric]
        plain = all(isinstance(dtypes[i], np.dtype) and dtypes[i].kind in "biuf" for i in num)
        raw = values[:, num].astype(float) if plain and num else None
        return raw, values[:, [pos[c] for c in self.categorical]]

    @property
    def n_encoded(self) -> int:
        return len(self.numeric) + len(self.indicators) + sum(len(self.categories[c]) for c in self.categorical)

    def _fill_codes(self) -> np.ndarray:
        """The code of each numeric column's training median (what a missing value is imputed with).
        Kept while the medians and scaling stay the same: SHAP encodes thousands of rows a dozen times a row."""
        key = (self.scaling, tuple((c, self.medians[c]) for c in self.numeric))
        cached = self.__dict__.get("_fill_cache")
        if cached is None or cached[0] != key:
            cached = (key, np.array([self._scale(c, np.array([self.medians[c]]))[0] for c in self.numeric],
                                    dtype=np.float32))
            self.__dict__["_fill_cache"] = cached
        return cached[1]

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """Model-ready matrix from a code matrix: missing numeric codes imputed with the median's
        code plus one 0/1 indicator per column that had missing values in training, and the
        categorical code columns one-hot encoded. Written into one preallocated matrix: SHAP sends
        hundreds of thousands of rows through here, and stacking per-column parts took 3x as long."""
        codes = np.asarray(codes, dtype=np.float32)
        n_num, n = len(self.numeric), len(codes)
        out = np.zeros((n, self.n_encoded), dtype=np.float32)
        col = n_num
        if n_num:
            num = codes[:, :n_num]
            missing = np.isnan(num)
            out[:, :n_num] = np.where(missing, self._fill_codes()[None, :], num)
            for c in self.indicators:
                out[:, col] = missing[:, self.numeric.index(c)]
                col += 1
        rows = np.arange(n)
        for j, c in enumerate(self.categorical, start=n_num):
            k = len(self.categories[c])
            idx = np.clip(np.rint(np.nan_to_num(codes[:, j], nan=k - 1)).astype(np.intp), 0, k - 1)
            out[rows, col + idx] = 1.0
            col += k
        return out

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Model-ready matrix for ``df``."""
        return self.encode(self.transform_codes(df))

    @property
    def feature_names(self) -> list[str]:
        """Names of the encoded columns, in ``encode``'s order."""
        names = list(self.numeric) + [f"{c}{MISSING_SUFFIX}" for c in self.indicators]
        for c in self.categorical:
            names += [f"{c}={v}" for v in self.categories[c]]
        return names

    @property
    def feature_groups(self) -> dict[str, str]:
        """Each encoded column's source column (indicators and one-hot columns to the column they
        come from), for summing per-column contributions back to what the analyst uploaded."""
        groups = {c: c for c in self.numeric}
        groups.update({f"{c}{MISSING_SUFFIX}": c for c in self.indicators})
        for c in self.categorical:
            groups.update({f"{c}={v}": c for v in self.categories[c]})
        return groups

    def decode_codes(self, codes: np.ndarray) -> pd.DataFrame:
        """Back from a code matrix to readable values (for synthetic rows and what-if edits);
        a missing code becomes a missing value."""
        codes = np.asarray(codes, dtype=float)
        data = {}
        for j, c in enumerate(self.numeric):
            z = codes[:, j]
            data[c] = np.where(np.isnan(z), np.nan, self._unscale(c, np.nan_to_num(z)))
        for j, c in enumerate(self.categorical, start=len(self.numeric)):
            cats = self.categories[c]
            data[c] = [cats[int(np.clip(round(v), 0, len(cats) - 1))] for v in np.nan_to_num(codes[:, j])]
        return pd.DataFrame(data)

    def missing_to_categories(self, codes: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Codes for a resampler that cannot take NaN (SMOTE): missing numeric codes imputed with
        the median's code and one 0/1 column per indicator appended. Returns the matrix and the
        positions of its category columns (categorical codes and the appended indicators), so
        SMOTE-NC copies missingness from a neighbour instead of interpolating it."""
        codes = np.asarray(codes, dtype=np.float32)
        n_num = len(self.numeric)
        missing = np.isnan(codes[:, :n_num])
        filled = codes.copy()
        filled[:, :n_num] = np.where(missing, self._fill_codes()[None, :], codes[:, :n_num])
        flags = missing[:, [self.numeric.index(c) for c in self.indicators]].astype(np.float32)
        cat_idx = self.categorical_idx + list(range(codes.shape[1], codes.shape[1] + len(self.indicators)))
        return np.concatenate([filled, flags], axis=1), cat_idx

    def missing_from_categories(self, codes: np.ndarray) -> np.ndarray:
        """The inverse of ``missing_to_categories``: indicator columns back to NaN codes."""
        codes = np.asarray(codes, dtype=np.float32)
        width = len(self.columns)
        out = codes[:, :width].copy()
        for k, c in enumerate(self.indicators):
            j = self.numeric.index(c)
            out[codes[:, width + k] >= 0.5, j] = np.nan
        return out

    def grouping_notices(self) -> list[str]:
        """Plain-words notes on categories grouped into ``(other)``."""
        return [
            f"'{c}': {n} rare or surplus categories grouped as '{OTHER}' "
            f"(kept the {len(self.categories[c]) - 1} most frequent)."
            for c, n in self.grouped.items() if n > 0
        ]

    def fit_notices(self) -> list[str]:
        """Plain-words notes on what fitting changed: sentinel codes, missing-value indicators and
        grouped categories."""
        notes = []
        for c in self.numeric:
            n_missing, n_codes = self.missing_counts.get(c, [0, 0])
            if c in self.sentinels:
                shown = ", ".join(f"{v:g}" for v in self.sentinels[c])
                notes.append(
                    f"'{c}': the value(s) {shown} ({n_codes:,} training rows) lie far beyond the other "
                    "values and look like codes for 'unknown'; treated as missing, with a missing-value "
                    "indicator for the model.")
            elif n_missing:
                notes.append(f"'{c}': {n_missing:,} training rows are missing; the model gets the median "
                             "plus a missing-value indicator.")
        for c in self.categorical:
            n_missing = self.missing_counts.get(c, [0, 0])[0]
            if n_missing:
                notes.append(f"'{c}': {n_missing:,} training rows are blank; the model sees the blanks as a "
                             f"category of their own ('{MISSING}').")
        return notes + self.grouping_notices()

    def to_dict(self) -> dict:
        return {
            "numeric": self.numeric, "categorical": self.categorical,
            "rare_min_frac": self.rare_min_frac, "max_categories": self.max_categories,
            "scaling": self.scaling, "detect_sentinels": self.detect_sentinels,
            "missing_indicators": self.missing_indicators,
            "medians": self.medians, "means": self.means, "stds": self.stds,
            "categories": self.categories, "grouped": self.grouped,
            "quantiles": self.quantiles, "sentinels": self.sentinels, "indicators": self.indicators,
            "missing_counts": self.missing_counts,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TabularPreprocessor":
        """Rebuild a fitted preprocessor from ``to_dict`` output. A dict saved before sentinels,
        indicators and quantile scaling existed lacks those keys and loads with standard scaling
        and none of them, which is how it was fitted."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

"""Which rows of a file the model was trained on, without keeping the rows themselves.

A saved run keeps one 64-bit hash per training row (over the columns the model reads, values
normalised so that "12", 12 and 12.0 hash alike). Scoring a file hashes its rows the same way and
counts the matches: a labelled file that overlaps the training rows gives a ROC-AUC that is not a
test figure, and the Score page says so. The hashes are stored as a NumPy array file, loaded
with ``allow_pickle=False`` (no code can come from it), and reveal no values.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

ROW_HASH_FILE = "train_row_hashes.npy"


def _normalise(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Two columns per column, decided value by value so both sides of a comparison agree: a value
    that reads as a number is that number as a rounded float ("12", 12 and 12.0 are one value);
    other text is kept stripped; a missing or empty cell is missing in both."""
    out = {}
    for c in columns:
        s = df[c] if c in df.columns else pd.Series([np.nan] * len(df), index=df.index)
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(float)
        if pd.api.types.is_numeric_dtype(s):
            out[f"{c}\x00n"] = s.astype(float).round(9) + 0.0  # -0.0 is 0.0
            out[f"{c}\x00t"] = pd.Series("", index=df.index)
            continue
        text = s.where(s.notna(), "").astype(str).str.strip()
        num = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float).round(9) + 0.0
        out[f"{c}\x00n"] = num
        out[f"{c}\x00t"] = text.where(num.isna(), "")
    return pd.DataFrame(out, index=df.index)


def compute_row_hashes(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One uint64 hash per row of ``df`` over ``columns`` (normalised values, order of columns kept)."""
    if len(df) == 0:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_pandas_object(_normalise(df, list(columns)), index=False).to_numpy(dtype=np.uint64)


def hashes_to_bytes(hashes: np.ndarray) -> bytes:
    """The sorted, distinct hashes as ``.npy`` bytes for a run folder."""
    buf = io.BytesIO()
    np.save(buf, np.unique(np.asarray(hashes, dtype=np.uint64)), allow_pickle=False)
    return buf.getvalue()


def load_hashes(path) -> np.ndarray | None:
    """The saved hashes, or None when the run has none (saved by an older version) or the file is bad."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return arr.astype(np.uint64, copy=False) if arr.ndim == 1 else None


def count_overlap(saved: np.ndarray, df: pd.DataFrame, columns: list[str]) -> int:
    """How many rows of ``df`` are training rows (by hash)."""
    if saved is None or len(saved) == 0 or len(df) == 0:
        return 0
    return int(np.isin(compute_row_hashes(df, columns), saved, assume_unique=False).sum())

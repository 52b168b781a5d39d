"""Fraud labels of a log read block by block (``--sample-rows``, ``--engine dask``), read as training
reads a file that fits in memory (``core.fraud.cli._labels``).

The first pass counts every day's rows per label value as written; the label rule is decided once from
the whole file's counts: labels ``core.fraud.columns.parse_labels`` knows (0/1, yes/no, true/false,
fraud/legit) are read as they are unless ``--positive`` / ``--negative`` are given; any other spelling
(Y/N, +/-, fraud/ok/pending) goes through ``core.data.outcome.label_rule``, the rule the default path uses,
so a value that turns up only in a late block is read the same way as in the first, and rows left out
are counted over the whole file. The second pass applies the rule to every block it keeps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataValidationError


def as_written(s: pd.Series) -> pd.Series:
    """Label values as the file spells them, alike in every block: whole numbers read as floats in a block
    with a blank (1.0) are the same value as in a block without one (1)."""
    if pd.api.types.is_float_dtype(s):
        whole = s.dropna()
        if len(whole) and bool((whole == np.floor(whole)).all()):
            return s.astype("Int64").astype(object).where(s.notna(), None)
    return s.astype(object).where(s.notna(), None)


def count_labels(df: pd.DataFrame, day: pd.Series, target: str, rows: np.ndarray) -> pd.DataFrame:
    """Rows per (day, label as written) of one block; ``rows`` are the block positions of ``day``'s entries."""
    labels = as_written(df[target]).iloc[rows].to_numpy()
    frame = pd.DataFrame({"day": day.to_numpy(), "label": pd.Series(labels, dtype=object)})
    return frame.groupby(["day", "label"], dropna=False).size().to_frame("rows")


def decide(counts: pd.DataFrame, target: str, *, positive=None, negative=None):
    """(the ``LabelRule`` or None when the labels are read as they are, notices, the ``days`` frame of
    ``core.fraud.dayrule``: rows and frauds per day, rows the rule leaves out not counted)."""
    from core.fraud.columns import parse_labels
    from core.data.outcome import label_rule

    by_label = counts["rows"].groupby(level="label", dropna=False).sum()
    blank = int(by_label[by_label.index.isna()].sum())
    written = sorted(((v, int(n)) for v, n in by_label.items() if not pd.isna(v)), key=lambda vn: str(vn[0]))
    rule, notices = None, []
    if positive is None and negative is None:
        try:
            known = parse_labels(pd.Series([v for v, _ in written], dtype=object), target)
        except DataValidationError:
            known = None  # spelled otherwise: read as an outcome below
        if known is not None and blank:
            raise DataValidationError(
                f"Expected a fraud label on every row of '{target}'; got {blank} empty labels. Fix: fill them "
                "(0 = legitimate, 1 = fraud) or drop those rows.")
        if known is not None:
            value = {str(v): y for (v, _), y in zip(written, known)}
    if rule is None and (positive is not None or negative is not None or known is None):
        rule, notices = label_rule(written, target, positive=positive, negative=negative, blank=blank)
        value = {str(rule.positive): 1.0, **{str(v): 0.0 for v in rule.negatives}}
    flat = counts.reset_index()
    y = flat["label"].map(lambda v: None if v is None or pd.isna(v) else value.get(str(v)))
    flat = flat.assign(y=pd.to_numeric(y, errors="coerce")).dropna(subset=["y"])
    days = pd.DataFrame({"rows": flat.groupby("day")["rows"].sum(),
                         "frauds": (flat["rows"] * flat["y"]).groupby(flat["day"]).sum().astype(int)}).sort_index()
    return rule, notices, days


def apply_rule(df: pd.DataFrame, rule) -> pd.DataFrame:
    """A block's rows as ``rule`` reads them (0/1 labels, other values left out); unchanged without one."""
    if rule is None:
        return df
    return rule.apply(df.assign(**{rule.target: as_written(df[rule.target])}))

"""The leakage audit of a yes/no outcome (credit default, fraud): columns that give the answer away.

Measured on the training rows only, three rules:

- **Separates alone.** A column whose values rank the outcome at ROC-AUC >= 0.98 on their own (either
  direction). Numbers are ranked as they are, with blanks tried both below and above every value (a
  recovery amount recorded only for defaulters separates by being blank). Categories, and numbers
  with at most ``CODE_VALUES`` distinct values (status codes), are scored by their outcome rate
  computed *out of fold*: each row's score is its category's rate on the other four folds, shrunk
  towards the overall rate. A category seen only on the scored row itself (an id) gets the overall
  rate, so a column with one value per row never reaches 0.98 by memorising rows.
- **Named like something recorded after the outcome.** Chargeback, collection, write-off, charged off,
  status after, recovery, settlement, dispute, fraud reported / confirmed: whatever their figure.
- **An identifier that encodes the outcome.** For columns with a distinct value on most rows, the
  parts of the value (first / last one to three characters or digits, the letters alone, the length)
  are scored out of fold like categories; one part at ROC-AUC >= 0.98 means the id was issued per
  outcome (``D-0017`` for defaulters). An identifier that is a model input is left out; one that is
  not (identifiers never are) is reported only.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from core.audit.report import KEPT, LEFT_OUT, MAPPED, NOT_INPUT, Finding, LeakAudit

AUC_LEAK = 0.98  # ROC-AUC of one column alone at or above which it is a suspected leak
CODE_VALUES = 50  # numbers with at most this many distinct values are also scored as categories
FOLDS = 5
SHRINK = 1.0  # pseudo-rows of the overall rate added to each category's rate (out of fold)
MAX_ROWS = 200_000  # rows the audit measures on (a seeded sample of the training rows beyond this)
ID_UNIQUE = 0.5  # share of distinct values from which text is read as an identifier
ID_UNIQUE_NUMBER = 0.9  # whole numbers need more: counts and amounts in whole units repeat less than ids
ID_MAX_LEN = 40  # longer text is free text, not an id

# Names of things recorded after the outcome (lower case, words joined by "_"; camelCase is split first).
POST_OUTCOME = {
    "chargeback": r"charge_?backs?",
    "collection": r"collections?",
    "write-off": r"write_?offs?|written_?off|writeoff",
    "charged off": r"charged?_?offs?",
    "status after": r"status_after|after_status",
    "recovery": r"recover(y|ies|ed)",
    "settlement": r"settle(ment|ments|d)",
    "dispute": r"disputed?s?",
    "fraud reported": r"(reported|confirmed)_fraud|fraud_(reported|confirmed|case)",
}


def snake(name) -> str:
    """``ChargeBack Flag`` -> ``charge_back_flag``: lower-case words joined by underscores."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", str(name))
    return "_".join(t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t)


def post_outcome_word(name) -> str | None:
    """The recorded-after-the-outcome word a column name matches (``'chargeback'``), or None."""
    s = snake(name)
    for word, pattern in POST_OUTCOME.items():
        if re.search(rf"(^|_)({pattern})(_|$)", s):
            return word
    return None


def roc_auc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC of ``score`` for 0/1 ``y`` (ties count half), from ranks: fast on a million rows."""
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return 0.5
    ranks = pd.Series(score).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def separation(score: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC in the better direction (a column that marks repayers separates as well as one that marks defaulters)."""
    a = roc_auc(score, y)
    return max(a, 1.0 - a)


def numeric_separation(x: pd.Series, y: np.ndarray) -> float:
    """Separation of a number as it is; blanks tried below and above every value, the better kept."""
    v = pd.to_numeric(x, errors="coerce").astype(float).to_numpy()
    ok = np.isfinite(v)
    if not ok.any():
        return 0.5
    if ok.all():
        return separation(v, y)
    lo, hi = np.nanmin(v[ok]), np.nanmax(v[ok])
    return max(separation(np.where(ok, v, lo - 1.0), y), separation(np.where(ok, v, hi + 1.0), y))


def fold_of(n: int, seed: int) -> np.ndarray:
    """A seeded fold number 0 .. FOLDS-1 per row, balanced."""
    return np.random.default_rng(seed).permutation(n) % FOLDS


def out_of_fold_rate(values: pd.Series, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each row's category outcome rate on the other folds, shrunk towards the overall rate there."""
    codes, _ = pd.factorize(values.astype("string").fillna("\x00(blank)"), use_na_sentinel=False)
    k = int(codes.max()) + 1 if len(codes) else 0
    out = np.empty(len(values), dtype=float)
    for f in range(FOLDS):
        train, test = folds != f, folds == f
        prior = float(y[train].mean()) if train.any() else 0.0
        sums = np.bincount(codes[train], weights=y[train], minlength=k)
        counts = np.bincount(codes[train], minlength=k)
        out[test] = ((sums + SHRINK * prior) / (counts + SHRINK))[codes[test]]
    return out


def category_separation(values: pd.Series, y: np.ndarray, folds: np.ndarray) -> float:
    return separation(out_of_fold_rate(values, y, folds), y)


def is_id_like(s: pd.Series) -> bool:
    """Short text with a distinct value on at least half of the (non-blank) rows, or whole numbers on 90 %."""
    v = s.dropna()
    numbers = pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)
    if len(v) < 20 or v.nunique() < (ID_UNIQUE_NUMBER if numbers else ID_UNIQUE) * len(v):
        return False
    if pd.api.types.is_bool_dtype(v) or pd.api.types.is_datetime64_any_dtype(v):
        return False
    if pd.api.types.is_numeric_dtype(v):
        return bool((v % 1 == 0).all())
    return bool(v.astype(str).str.len().mean() <= ID_MAX_LEN)


def id_parts(s: pd.Series) -> dict[str, pd.Series]:
    """Parts of an identifier that an issuing system could have set per outcome."""
    if pd.api.types.is_numeric_dtype(s):
        text = s.map(lambda v: None if pd.isna(v) else str(abs(int(v)))).astype("string")
        unit = "digit"
    else:
        text = s.astype("string").str.strip()
        unit = "character"
    parts = {f"first {unit}": text.str[:1], f"first 2 {unit}s": text.str[:2], f"first 3 {unit}s": text.str[:3],
             f"last {unit}": text.str[-1:], f"last 2 {unit}s": text.str[-2:], "length": text.str.len().astype("string")}
    if unit == "character":
        parts["letters"] = text.str.replace(r"[0-9]", "", regex=True)
    return parts


def id_separation(s: pd.Series, y: np.ndarray, folds: np.ndarray) -> tuple[float, str]:
    """The best part of an identifier and its separation (out of fold)."""
    best, name = 0.5, ""
    for part, values in id_parts(s).items():
        if values.nunique(dropna=True) < 2:
            continue
        a = category_separation(values, y, folds)
        if a > best:
            best, name = a, part
    return best, name


def _sample(frame: pd.DataFrame, y: np.ndarray, seed: int) -> tuple[pd.DataFrame, np.ndarray, str]:
    if len(frame) <= MAX_ROWS:
        return frame.reset_index(drop=True), y, ""
    pick = np.sort(np.random.default_rng(seed).choice(len(frame), MAX_ROWS, replace=False))
    return (frame.iloc[pick].reset_index(drop=True), y[pick],
            f"measured on a seeded sample of {MAX_ROWS:,} of the {len(frame):,} training rows")


def audit_outcome(frame: pd.DataFrame, y, *, numeric: Sequence[str], categorical: Sequence[str] = (),
                  others: Sequence[str] = (), keep: Sequence[str] = (), outcome: str = "the outcome",
                  seed: int = 0, mapped: Mapping[str, str] | None = None) -> LeakAudit:
    """Audit the model inputs (``numeric``, ``categorical``) of the training rows ``frame`` against the
    0/1 outcome ``y``; ``others`` are columns that are not inputs, checked only for an id that encodes
    the outcome. Columns in ``keep`` are reported but stay inputs (action ``kept``); so do the columns
    of ``mapped`` (column -> the role the analyst mapped it to, e.g. the fraud amount): a mapped role is
    never dropped, its finding is a warning (action ``kept_mapped``)."""
    mapped = dict(mapped or {})
    y = np.asarray(y).astype(int)
    frame, y, note = _sample(frame, y, seed)
    folds = fold_of(len(frame), seed)
    keep = set(keep)
    findings: list[Finding] = []
    n = f"{len(frame):,} training rows"
    inputs = [*numeric, *categorical]
    for c in inputs:
        s = frame[c]
        if c in numeric:
            score = numeric_separation(s, y)
            if s.nunique(dropna=True) <= CODE_VALUES:
                score = max(score, category_separation(s, y, folds))
        else:
            score = category_separation(s, y, folds)
        action = MAPPED if c in mapped else KEPT if c in keep else LEFT_OUT
        role = mapped.get(c, "")
        word = post_outcome_word(c)
        if score >= AUC_LEAK:
            how = "" if c in numeric and s.nunique(dropna=True) > CODE_VALUES else \
                f" (each value scored by its {outcome} rate in the other folds)"
            findings.append(Finding(c, "separates", f"'{c}' alone separates {outcome} at ROC-AUC {score:.3f}{how} "
                                    f"on {n}", action, score, role=role))
        elif word is not None:
            findings.append(Finding(c, "name", f"'{c}' is named like something recorded after the outcome "
                                    f"({word}); alone it separates {outcome} at ROC-AUC {score:.3f} on {n}", action,
                                    score, role=role))
        elif is_id_like(s):
            part_score, part = id_separation(s, y, folds)
            if part_score >= AUC_LEAK:
                findings.append(Finding(c, "id", f"'{c}' looks like an identifier, and its {part} alone "
                                        f"separates {outcome} at ROC-AUC {part_score:.3f} on {n}", action,
                                        part_score, role=role))
    for c in others:
        if c in inputs or c not in frame.columns or not is_id_like(frame[c]):
            continue
        part_score, part = id_separation(frame[c], y, folds)
        if part_score >= AUC_LEAK:
            findings.append(Finding(c, "id", f"the {part} of identifier '{c}' alone separates {outcome} at "
                                    f"ROC-AUC {part_score:.3f} on {n}", NOT_INPUT, part_score))
    return LeakAudit(rows=len(frame), checked=list(inputs), findings=findings, note=note)

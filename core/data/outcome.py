"""The yes/no outcome a credit or fraud model learns: which column, which value means the event
happened, and what to do with rows whose outcome is neither.

Outcomes come spelled many ways (0/1, ``+``/``-``, yes/no, Y/N, true/false in any case, good/bad);
``guess_positive`` picks the value that means the event happened (``+``, yes, Y, true, 1, bad,
default …) and the analyst can change it. An outcome with more than two values (good / bad /
unknown) is never turned into two silently: ``choose_outcome_rows`` needs the negative values
named, leaves the rest out and says how many rows that was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list, short_text

POSITIVE_HINTS = ("1", "1.0", "+", "true", "t", "yes", "y", "bad", "default", "defaulted", "fraud", "defect",
                  "positive")
NEGATIVE_HINTS = ("0", "0.0", "-", "false", "f", "no", "n", "good", "repaid", "paid", "legit", "genuine", "ok",
                  "negative", "normal")
RULE_ATTR = "label_rule"  # ``DataFrame.attrs`` key of the rule that made a frame's 0/1 labels
MAX_OUTCOME_NUMBERS = 10  # a numeric column with more distinct values is a measurement, not an outcome


def get_target_values(df: pd.DataFrame, target: str) -> list:
    """Distinct values of the target column (for the positive-value selector)."""
    if target not in df.columns:
        raise DataValidationError(
            f"Target column '{target}' is not in the data; the columns are {short_list(df.columns, limit=20)}. "
            "Pick the column that holds the outcome."
        )
    return sorted(df[target].dropna().unique().tolist(), key=str)


def guess_positive(values) -> Any:
    """The value most likely to mean 'event happened' (+, yes, Y, true, 1, bad, default, fraud ...)."""
    for v in values:
        if str(v).strip().lower() in POSITIVE_HINTS:
            return v
    return values[-1] if values else None


def guess_negative(values, positive: Any) -> Any:
    """The value most likely to mean 'event did not happen' (-, no, N, false, 0, good, repaid ...),
    other than ``positive``; the first other value when none looks like it."""
    others = [v for v in values if str(v) != str(positive)]
    return next((v for v in others if str(v).strip().lower() in NEGATIVE_HINTS), others[0] if others else None)


def outcome_counts(df: pd.DataFrame, target: str) -> list[tuple[Any, int]]:
    """(value, rows) for each value of the outcome column, in the order of ``get_target_values``."""
    counts = df[target].value_counts(dropna=True)
    return [(v, int(counts[v])) for v in get_target_values(df, target)]


def describe_counts(counts: list[tuple[Any, int]], limit: int = 10) -> str:
    """"'bad' (300 rows), 'good' (650), 'unknown' (50)" for messages."""
    parts = [f"{short_text(v)!r} ({n:,}{(' row' if n == 1 else ' rows') if i == 0 else ''})"
             for i, (v, n) in enumerate(counts[:limit])]
    more = f", … and {len(counts) - limit:,} more" if len(counts) > limit else ""
    return ", ".join(parts) + more


def match_value(wanted: Any, values: list) -> Any | None:
    """The value of ``values`` that ``wanted`` names: the same text, else the same text in another
    case (``--positive Yes`` for 'yes'), else the same number ('1' for 1.0); None when none."""
    text = str(wanted).strip()
    for same in (lambda v: str(v) == str(wanted), lambda v: str(v).strip().lower() == text.lower()):
        hits = [v for v in values if same(v)]
        if len(hits) == 1:
            return hits[0]
    try:
        number = float(text)
    except ValueError:
        return None
    hits = [v for v in values if not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, float, np.number))
            and float(v) == number]
    return hits[0] if len(hits) == 1 else None


def check_outcome_column(df: pd.DataFrame, target: str) -> list:
    """The distinct values of a column offered as a yes/no outcome; refuses a numeric column with
    many values (an amount or a count is not an outcome, and 'income == 52,000' is no positive class)."""
    values = get_target_values(df, target)
    if pd.api.types.is_numeric_dtype(df[target]) and not pd.api.types.is_bool_dtype(df[target]) \
            and len(values) > MAX_OUTCOME_NUMBERS:
        shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values[:4])
        raise DataValidationError(
            f"Column '{target}' holds numbers with {len(values):,} different values (e.g. {shown}, ...); a "
            "yes/no outcome has two values (such as 0/1 or good/bad). Fix: pick the column that says whether "
            "the event happened, or add one to the file, e.g. default = 1 when days past due > 90, else 0."
        )
    return values


def _many_values(df: pd.DataFrame, target: str, values: list) -> DataValidationError:
    return DataValidationError(
        f"Target column '{target}' must have two values; got {len(values)}: {describe_counts(outcome_counts(df, target))}. "
        "Pick the positive value and say which values mean the event did not happen; rows with any other value are "
        "then left out (command line: --positive VALUE --negative VALUE[,VALUE])."
    )


def validate_binary_target(df: pd.DataFrame, target: str, positive: Any = None) -> tuple[np.ndarray, Any]:
    """Turn the target column into 0/1 labels (1 = ``positive``).

    With more than two values the analyst must say which value is positive; everything else then
    counts as negative (the page and the command line decide those rows first, with
    ``choose_outcome_rows``). Rows with a missing target are not allowed here (drop them first).
    """
    values = check_outcome_column(df, target)
    if df[target].isna().any():
        raise DataValidationError(
            f"Target column '{target}' is empty in {int(df[target].isna().sum())} row(s). "
            "Remove those rows or fill in the outcome."
        )
    if positive is None:
        if len(values) > 2:
            raise _many_values(df, target, values)
        positive = guess_positive(values)
    else:
        found = match_value(positive, values)
        if found is None:
            raise DataValidationError(
                f"Positive value {positive!r} does not occur in '{target}'; its values are "
                f"{short_list(values, limit=10)}. Pick one of them.")
        positive = found
    y = (df[target].astype(str) == str(positive)).to_numpy().astype(int)
    if y.sum() == 0 or y.sum() == len(y):
        only = values[0] if values else None
        raise DataValidationError(
            f"Target column '{target}' has only one class ({only!r}, {len(y)} rows); a model needs both. "
            "Upload data with both outcomes."
        )
    return y, positive


def _named_values(target: str, positive: Any, negative: list, values: list, counts: Callable[[], list]
                  ) -> tuple[Any, list]:
    """The positive value and the negative values as they are written in the column, checked: both
    given, every one occurring (``counts()`` lists the column's values for the message), none both."""
    if positive is None:
        raise DataValidationError(
            f"Negative value(s) {short_list(negative)} were given for '{target}' but no positive value. Expected both. "
            "Fix: also pass --positive VALUE (the value that means the event happened).")
    pos = match_value(positive, values)
    negs = [match_value(v, values) for v in negative]
    unknown = [v for v, m in zip([positive, *negative], [pos, *negs]) if m is None]
    if unknown:
        raise DataValidationError(
            f"{short_list(unknown)} do(es) not occur in '{target}'; its values are "
            f"{describe_counts(counts())}. Fix: use these values as written.")
    if any(str(n) == str(pos) for n in negs):
        raise DataValidationError(
            f"{pos!r} was given as both the positive and a negative value of '{target}'. Expected different values. "
            "Fix: name the value that means the event happened once, as the positive value.")
    return pos, negs


def choose_outcome_rows(df: pd.DataFrame, target: str, *, positive: Any = None,
                        negative: list | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows a model learns from when the analyst has said what the outcome's values mean.

    ``negative`` names the values that mean the event did not happen; rows with any value that is
    neither ``positive`` nor one of them, and rows without an outcome, are left out (with a notice
    giving the counts). Without ``negative``, a column with two values is used as it is and one with
    more is refused with every value's count: nothing is counted as negative unasked.
    """
    values = check_outcome_column(df, target)
    if negative is None:
        if len(values) > 2:
            raise _many_values(df, target, values)
        return df, []
    pos, negs = _named_values(target, positive, negative, values, lambda: outcome_counts(df, target))
    keep = {str(pos), *map(str, negs)}
    text = df[target].astype(str).where(df[target].notna())
    rest = ~text.isin(keep)
    notices = []
    if rest.any():
        left = text[rest].fillna("(no outcome)").value_counts()
        shown = ", ".join(f"{short_text(v)!r}: {n:,}" for v, n in left.items())
        notices.append(f"Left out {int(rest.sum()):,} row(s) whose '{target}' is neither {pos!r} (positive) nor "
                       f"{' / '.join(repr(n) for n in negs)} (negative) ({shown}); {int((~rest).sum()):,} rows remain.")
        df = df.loc[~rest].reset_index(drop=True)
    if len(negs) > 1:
        notices.append(f"{' and '.join(repr(n) for n in negs)} count as negative (not {pos!r}) in '{target}'.")
    return df, notices


@dataclass(frozen=True)
class LabelRule:
    """How an outcome spelled otherwise becomes 0/1 labels: ``positive`` is 1, ``negatives`` are 0,
    rows with any other value (or none) are left out. Decided once (``label_rule``), it reads every
    block of a file larger than memory the same way as a whole file."""

    target: str
    positive: Any
    negatives: tuple

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df``'s rows with a positive or negative outcome, the outcome as 1 / 0 (in the same order)."""
        text = df[self.target].astype(str).where(df[self.target].notna())
        keep = text.isin({str(self.positive), *map(str, self.negatives)})
        rows = df if keep.all() else df.loc[keep.to_numpy()].reset_index(drop=True)
        return rows.assign(**{self.target: (text[keep].to_numpy() == str(self.positive)).astype(int)})

    def to_dict(self) -> dict:
        """The rule as JSON (saved with a run, so outcomes fed back later are read as in training)."""
        return {"target": str(self.target), "positive": _plain(self.positive),
                "negatives": [_plain(v) for v in self.negatives]}

    @classmethod
    def from_dict(cls, d) -> "LabelRule | None":
        """The rule saved by ``to_dict``; None for a run saved without one (or a damaged entry)."""
        if not isinstance(d, dict) or d.get("positive") is None or not isinstance(d.get("negatives"), list):
            return None
        return cls(str(d.get("target") or ""), d["positive"], tuple(d["negatives"]))

    def read(self, values) -> np.ndarray:
        """1 where a value is the positive one, 0 where it is a negative one, NaN for any other value
        (left out, as in training). Matched as text, then ignoring case and spaces ('y' for 'Y')."""
        text = pd.Series(values).reset_index(drop=True).astype("string").str.strip()
        out = np.full(len(text), np.nan)
        pos, negs = str(self.positive).strip(), [str(v).strip() for v in self.negatives]
        for t, p, n in ((text, pos, negs), (text.str.lower(), pos.lower(), [v.lower() for v in negs])):
            open_ = np.isnan(out)
            out[(t == p).fillna(False).to_numpy(bool) & open_] = 1.0
            out[t.isin(n).fillna(False).to_numpy(bool) & open_] = 0.0
        return out


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: numpy numbers as Python ones, anything else as text."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if hasattr(value, "item") else value
    return str(value)


def label_rule(counts: list[tuple[Any, int]], target: str, *, positive: Any = None, negative: list | None = None,
               blank: int = 0) -> tuple[LabelRule, list[str]]:
    """(the ``LabelRule``, notices) for an outcome whose values and rows are ``counts`` (as
    ``outcome_counts`` gives them) and ``blank`` rows without one: with two values and no
    ``positive`` the positive one is guessed (``guess_positive``); with more, the negative values
    must be named, and rows with any other value are left out as ``choose_outcome_rows`` says."""
    values = [v for v, _ in counts]
    if len(values) < 2:
        raise DataValidationError(
            f"Target column '{target}' has only one value ({short_list(values)}); a model needs both outcomes. "
            "Fix: pick the column that says whether the event happened, or upload data with both.")
    if positive is None and len(values) == 2:
        positive = guess_positive(values)
    pos = match_value(positive, values) if positive is not None else None
    if positive is not None and pos is None and negative is None:
        raise DataValidationError(
            f"Positive value {positive!r} does not occur in '{target}'; its values are "
            f"{describe_counts(counts)}. Fix: pick one of them (--positive VALUE).")
    if negative is None and len(values) == 2 and pos is not None:
        negative = [v for v in values if str(v) != str(pos)]
    if negative is None:
        raise DataValidationError(
            f"Target column '{target}' must have two values; got {len(values)}: {describe_counts(counts)}. "
            "Pick the positive value and say which values mean the event did not happen; rows with any other "
            "value are then left out (command line: --positive VALUE --negative VALUE[,VALUE]).")
    pos, negs = _named_values(target, positive, negative, values, lambda: counts)
    keep = {str(pos), *map(str, negs)}
    rest = sorted([(str(v), n) for v, n in counts if str(v) not in keep] + ([("(no outcome)", blank)] if blank else []),
                  key=lambda vn: -vn[1])
    notices = [f"'{target}': {pos!r} read as 1 (the event), {' / '.join(map(repr, sorted(negs, key=str)))} as 0."]
    if rest:
        shown = ", ".join(f"{short_text(v)!r}: {n:,}" for v, n in rest)
        kept = sum(n for v, n in counts if str(v) in keep)
        notices.append(f"Left out {sum(n for _, n in rest):,} row(s) whose '{target}' is neither {pos!r} (positive) "
                       f"nor {' / '.join(repr(n) for n in negs)} (negative) ({shown}); {kept:,} rows remain.")
    if len(negs) > 1:
        notices.append(f"{' and '.join(repr(n) for n in negs)} count as negative (not {pos!r}) in '{target}'.")
    return LabelRule(target, pos, tuple(negs)), notices


def as_binary_labels(df: pd.DataFrame, target: str, *, positive: Any = None,
                     negative: list | None = None) -> tuple[pd.DataFrame, Any, list[str]]:
    """(the rows kept, with ``target`` as 1 for ``positive`` and 0 for the negative values, the
    positive value, notices), for a pipeline that reads 0/1 labels (fraud) from an outcome spelled
    otherwise (+/-, Y/N, fraud/ok/pending): ``label_rule`` on the column's counts, the rule applied
    to the rows (a file read block by block decides the rule from every block's counts alike)."""
    check_outcome_column(df, target)
    rule, notices = label_rule(outcome_counts(df, target), target, positive=positive, negative=negative,
                               blank=int(df[target].isna().sum()))
    rows = rule.apply(df)
    # The rule travels with the rows to the run that is trained on them (``run_fraud`` keeps it and the
    # saved run records it), so outcomes fed back later are read the same way.
    rows.attrs[RULE_ATTR] = rule.to_dict()
    return rows, rule.positive, notices

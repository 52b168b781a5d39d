"""What a file to score must contain, and a plain-words report of how an upload differs from it.

A saved run records, under ``workspace.input``, the columns its model reads and what kind each is
(number, date, category); runs saved before that key existed are read from the scenario's own
metadata by its ``expected_input`` hook (``core.store.scenarios``). ``check_columns`` compares an upload
with that list: missing columns and columns whose values are mostly of the wrong kind block
scoring; a few unreadable values are treated as missing (with a notice); extra columns are ignored
and kept in the scored file. Used by batch scoring (``core.serve.batch``), chunked scoring
(``core.serve.streaming``) and the Dask engine (``core.scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.errors import DataValidationError
from core.store.saved import (  # noqa: F401  (read here by older callers)
    CATEGORY, DATE, NUMBER, expected_from_summary, images_input, profile_from_summary,
)

# A column whose readable share falls below this is of the wrong kind, not merely untidy.
WRONG_TYPE_SHARE = 0.5
_TYPE_SAMPLE = 2_000


class ColumnMismatchError(DataValidationError):
    """The upload's columns do not fit the model; ``report`` says column by column how."""

    def __init__(self, report: "ColumnReport"):
        super().__init__(report.error_message())
        self.report = report


def get_training_profile(meta: dict) -> dict | None:
    """The drift profile of the training rows saved with a run (``core.data.drift``), or None."""
    from core.store.scenarios import find_scenario

    scenario = find_scenario(meta.get("scenario"))
    return scenario.training_profile(meta) if scenario is not None else profile_from_summary(meta)


def get_expected_input(meta: dict) -> dict:
    """``{"kind": "table" | "images", "columns": {name: number|date|category}, ...}`` of a saved run."""
    from core.store.scenarios import find_scenario

    scenario = find_scenario(meta.get("scenario"))
    return scenario.expected_input(meta) if scenario is not None else expected_from_summary(meta)


@dataclass(frozen=True)
class ColumnReport:
    """How an upload's columns compare with what the model reads."""

    expected: dict[str, str]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    wrong_type: tuple[tuple[str, str, str], ...]  # (column, expected kind, example values)
    partly_invalid: tuple[tuple[str, int, str], ...]  # (column, unreadable count, examples)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.wrong_type

    def table(self) -> pd.DataFrame:
        """One row per expected column (then each extra one): column, expected, status, detail."""
        wrong = {c: (k, ex) for c, k, ex in self.wrong_type}
        partly = {c: (n, ex) for c, n, ex in self.partly_invalid}
        rows = []
        for c, kind in self.expected.items():
            if c in self.missing:
                rows.append((c, kind, "missing", "not in the file"))
            elif c in wrong:
                rows.append((c, kind, "wrong type", f"values such as {wrong[c][1]}"))
            elif c in partly:
                rows.append((c, kind, "some values unreadable",
                             f"{partly[c][0]:,} value(s) such as {partly[c][1]} treated as missing"))
            else:
                rows.append((c, kind, "ok", ""))
        rows += [(c, "", "ignored", "not used by the model; kept in the scored file") for c in self.extra]
        return pd.DataFrame(rows, columns=["column", "expected", "status", "detail"])

    def error_message(self) -> str:
        """Expected / got / fix for what blocks scoring (empty when nothing does)."""
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} column(s) the model reads are missing: {list(self.missing)}")
        if self.wrong_type:
            parts.append("column(s) of the wrong type: " + "; ".join(
                f"'{c}' should hold {k}s, got values such as {ex}" for c, k, ex in self.wrong_type))
        if not parts:
            return ""
        return (f"The file does not match the model. Expected the columns {list(self.expected)}; "
                + "; ".join(parts) + ". Fix: use the training file's column names and value formats, "
                "or pick the run that was trained on this layout.")

    def notices(self, *, kept: bool = True, used: tuple[str, ...] = ()) -> list[str]:
        """Plain-words notes. ``kept``: the scored file keeps the upload's rows and columns (not
        so for a forecast); ``used``: extra columns the scoring reads for something else."""
        out = [f"'{c}': {n:,} value(s) are not readable as {self.expected[c]}s (e.g. {ex}); treated as missing."
               for c, n, ex in self.partly_invalid]
        extra = [c for c in self.extra if c not in used]
        if extra:
            where = " and kept in the scored file" if kept else ""
            out.append(f"{len(extra)} column(s) the model does not read are ignored{where}: "
                       f"{', '.join(str(c) for c in extra[:10])}{', …' if len(extra) > 10 else ''}.")
        return out


def _unreadable(s: pd.Series, kind: str) -> pd.Series:
    """Mask of non-missing values that cannot be read as ``kind``."""
    if kind == NUMBER:
        if pd.api.types.is_numeric_dtype(s):
            return pd.Series(False, index=s.index)
        parsed = pd.to_numeric(s.astype(str).str.replace(",", "", regex=False), errors="coerce")
    elif kind == DATE:
        if pd.api.types.is_datetime64_any_dtype(s):
            return pd.Series(False, index=s.index)
        from core.data.datasets import parse_datetimes

        parsed = parse_datetimes(s, formats=("mixed",))
    else:
        return pd.Series(False, index=s.index)
    missed = parsed.isna()
    if not missed.any():  # every value read: nothing unreadable, whatever is blank (a request's usual case)
        return pd.Series(False, index=s.index)
    # Computed only for columns with values not read: a request of numbers or readable dates skips this
    # per-column string pass.
    present = s.notna() & (s.astype(str).str.strip() != "")
    return present & missed


def _examples(values: pd.Series) -> str:
    from core.data.safety import short_list

    # Values are cut: one cell can hold 20,000 characters.
    return short_list(values.astype(str).unique(), limit=3)[1:-1]


def check_columns(meta: dict, df: pd.DataFrame) -> ColumnReport:
    """Compare the upload ``df`` with the columns the saved run's model reads."""
    expected = get_expected_input(meta)
    if expected["kind"] != "table":
        raise DataValidationError("This run scores images, not a table. Fix: upload a zip of images.")
    kinds = expected["columns"]
    missing = tuple(c for c in kinds if c not in df.columns)
    extra = tuple(c for c in df.columns if c not in kinds)
    wrong, partly = [], []
    for c, kind in kinds.items():
        if c in missing:
            continue
        s = df[c]
        bad = _unreadable(s.iloc[:_TYPE_SAMPLE], kind)
        if not bad.any():
            continue
        present = int((s.iloc[:_TYPE_SAMPLE].notna()).sum())
        if bad.sum() > WRONG_TYPE_SHARE * max(present, 1):
            wrong.append((c, kind, _examples(s.iloc[:_TYPE_SAMPLE][bad])))
        else:
            bad_all = _unreadable(s, kind)
            partly.append((c, int(bad_all.sum()), _examples(s[bad_all])))
    return ColumnReport(expected=dict(kinds), missing=missing, extra=extra, wrong_type=tuple(wrong),
                        partly_invalid=tuple(partly))


def coerce_numbers(df: pd.DataFrame, report: ColumnReport) -> pd.DataFrame:
    """A copy of ``df`` whose number columns are numeric (unreadable values become missing)."""
    out = df.copy()
    for c, kind in report.expected.items():
        if kind == NUMBER and c in out.columns and not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = pd.to_numeric(out[c].astype(str).str.replace(",", "", regex=False).where(out[c].notna()),
                                   errors="coerce")
    return out

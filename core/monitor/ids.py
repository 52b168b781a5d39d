"""Which column names a row: the id a scored file or a served request carries (``applicant_id``,
``transaction_id``, ``id``, ``ref``), found the same way by every door of the prediction log.

``find_id_column`` judges a frame's id-like columns (a distinct value in at least 99 % of the rows, not one
of the model's inputs); ``ids_as_text`` reads ids as text however the file was read. A served request is
small, and pandas' steps cost more than the rest of logging it: ``find_id_in_rows`` reads the request's
JSON instances and ``_small_row_ids`` the log tables' values (``core.monitor.columns``), with the same
choice and the same ids as the frame's path (tested in tests/monitor/test_log_buffer.py).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|key|ref|reference)$|^id([_\s-]|$)|_id_|number$|^transaction$",
                      re.IGNORECASE)
SMALL_ROWS = 64  # a request this small has its id column found on plain lists of values


def ids_as_text(values: pd.Series) -> pd.Series:
    """Ids as text, the same however the file was read: 10000001, 10000001.0 and "10000001" agree."""
    s = pd.Series(values).reset_index(drop=True)
    if isinstance(s.dtype, pd.StringDtype) or s.dtype == object and all(isinstance(v, str) for v in s.tolist()):
        # text already (a request's ids, most often): stripped as they are, at a fraction of the cost
        return pd.Series([v.strip() if isinstance(v, str) else pd.NA for v in s.tolist()], dtype=object)
    if pd.api.types.is_float_dtype(s):
        whole = s.dropna()
        if len(whole) and bool((whole % 1 == 0).all()):
            s = s.astype("Int64")
    out = s.astype("string").str.strip()
    return out.where(s.notna(), None).astype(object)


def _id_candidates(inputs: pd.DataFrame | None, scored: pd.DataFrame, kinds) -> pd.DataFrame | None:
    """The columns of ``rows_with_inputs(inputs, scored, kinds)`` that ``find_id_column(..., exclude=kinds)`` could
    pick (an id-like name, not a model input), in the same order; None when there is none."""
    # ``tolist()``: pandas' Arrow-backed column labels cost microseconds each when read one by one
    names = scored.columns.tolist()
    if inputs is None or set(kinds) <= set(map(str, names)) or len(inputs) != len(scored):
        frames = [(scored, names, range(len(names)))]
    else:
        given, answered = inputs.columns.tolist(), set(names)
        frames = [(inputs, given, [j for j, c in enumerate(given) if c not in answered]),
                  (scored, names, range(len(names)))]
    picked = [(labels[j], f.iloc[:, j].reset_index(drop=True)) for f, labels, positions in frames for j in positions
              if str(labels[j]) not in kinds and _ID_NAME.search(str(labels[j]))]
    if not picked:
        return None
    out = pd.DataFrame({k: s for k, (_, s) in enumerate(picked)})
    out.columns = pd.Index([c for c, _ in picked])  # positions first: labels may repeat
    return out


def find_id_column(df: pd.DataFrame, *, exclude=()) -> str | None:
    """The column that names each row: an id-like name (``applicant_id``, ``transaction_id``, ``id``,
    ``ref``) with a distinct value in at least 99 % of the rows, not one of the model's inputs."""
    skip = {str(c) for c in exclude}
    labels = df.columns.tolist()
    picked = [(j, str(c)) for j, c in enumerate(labels) if str(c) not in skip and _ID_NAME.search(str(c))]
    if not picked:
        return None
    if len(df) <= SMALL_ROWS and len(set(map(str, labels))) == len(labels):  # a request: plain lists
        return _choose_id([(c, df.iloc[:, j].tolist()) for j, c in picked], len(df))
    return _best(((c, int(df[labels[j]].dropna().nunique())) for j, c in picked), len(df))


def find_id_in_rows(rows: list, *, exclude=()):
    """``find_id_column`` of the frame built from ``rows`` (a request's JSON instances: dicts with the same
    fields), read from the dicts themselves; ``NotImplemented`` when the request is larger than
    ``SMALL_ROWS`` or a candidate holds values other than JSON scalars (the frame's path then decides)."""
    if not rows or len(rows) > SMALL_ROWS or not isinstance(rows[0], dict):
        return NotImplemented
    skip = {str(c) for c in exclude}
    columns = []
    for c in rows[0]:
        if str(c) in skip or not _ID_NAME.search(str(c)):
            continue
        values = [r[c] for r in rows]
        if not all(v is None or isinstance(v, (str, int, float)) for v in values):
            return NotImplemented
        columns.append((str(c), [v for v in values if v is not None and v == v]))  # JSON's blanks: null, NaN
    return _choose_present(columns, len(rows)) if columns else None


def _choose_id(columns: list[tuple[str, list]], n: int) -> str | None:
    """``find_id_column``'s choice among id-like columns given as (label, values as a list) of ``n`` rows."""
    present = []
    for label, values in columns:
        # [None] added then dropped: values that are tuples stay one object each, not a second dimension
        gone = pd.isna(np.array(values + [None], dtype=object))[:-1]
        present.append((label, [v for v, g in zip(values, gone) if not g]))
    return _choose_present(present, n)


def _choose_present(columns: list[tuple[str, list]], n: int) -> str | None:
    """``_choose_id`` of columns given with their blanks left out."""
    return _best(((label, _distinct(present)) for label, present in columns), n)


def _best(counts, n: int) -> str | None:
    """The label with the most distinct values among (label, distinct non-blank values) of ``n`` rows, if
    they are at least 99 % of the rows (the first such label on a tie); None otherwise."""
    best, best_ratio = None, 0.0
    for label, distinct in counts:
        if not distinct:
            continue
        ratio = distinct / n
        if ratio >= 0.99 and ratio > best_ratio:
            best, best_ratio = label, ratio
    return best


def _distinct(values: list) -> int:
    """How many distinct values (no blanks among them): as a set (a request's ids: pandas' count cost more than
    the rest of finding the id column), or as pandas counts values that cannot be hashed."""
    try:
        return len(set(values))
    except TypeError:
        return int(pd.Series(values, dtype=object).nunique())


def _small_row_ids(inputs, scored, kinds) -> np.ndarray | None:
    """``MonitorSpec.row_ids`` (the default ``id_columns``) for a request of at most ``SMALL_ROWS`` rows given
    as ``core.monitor.columns.Columns`` tables, as an object array: the columns ``_id_candidates`` would pick,
    judged as ``find_id_column`` judges them, the chosen one as ``ids_as_text`` gives it. None when the
    tables are not small plain blocks or repeat a candidate's label (pandas' path then decides)."""
    n = len(scored)
    if n > SMALL_ROWS or scored.values is None or inputs is not None and inputs.values is None:
        return None
    names = scored.names
    if inputs is None or set(kinds) <= set(map(str, names)) or len(inputs) != n:
        tables = [(scored, range(len(names)))]
    else:
        answered = set(names)
        tables = [(inputs, [j for j, c in enumerate(inputs.names) if c not in answered]), (scored, range(len(names)))]
    picked = {}
    for t, positions in tables:
        for j in positions:
            label = str(t.names[j])
            if label not in kinds and _ID_NAME.search(label):
                if label in picked:
                    return None
                picked[label] = (t.dtypes[j], t.values[:, j].tolist())
    chosen = _choose_id([(c, v) for c, (_, v) in picked.items()], n) if picked else None
    out = np.empty(n, dtype=object)
    if chosen is None:
        out[:] = None
        return out
    dtype, values = picked[chosen]
    if isinstance(dtype, pd.StringDtype) or dtype == object and all(isinstance(v, str) for v in values):
        out[:] = [v.strip() if isinstance(v, str) else pd.NA for v in values]  # as ids_as_text's text path
        return out
    column = pd.Series(values, dtype=object) if dtype == object else pd.Series(np.array(values, dtype=object).astype(dtype))
    out[:] = ids_as_text(column).tolist()
    return out

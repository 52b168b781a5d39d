"""A saved run as a predictor: what the HTTP service (``core/server``) and the Runs page's "Try it"
ask of every scenario, in one shape.

Each scenario's ``predictor(run_dir, *, runtime)`` hook (``core.store.scenarios``) returns a ``Predictor``
built in its ``core/<name>/serving.py`` on the same functions ``python -m core score`` calls, so a
prediction equals the scored file's row by construction. This module holds what is shared: the
strict column check of a request (``check_request``: the scorer's ``core.data.columncheck`` messages,
plus refusing extra columns and any unreadable value), the example row built from the run's
training profile, and ``RequestError``, a refusal that says what was expected, what came and how
to fix it.
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError


class RequestError(DataValidationError):
    """A request that cannot be answered as sent: ``expected`` / ``got`` / ``fix`` in words, an HTTP
    ``status`` (400 bad input, 404 unknown model, 401 / 403 key) and optional structured ``details``."""

    def __init__(self, expected: str, got: str, fix: str, *, status: int = 400, details: dict | None = None,
                 message: str | None = None):
        super().__init__(message or f"Expected {expected}; got {got}. Fix: {fix}")
        self.expected, self.got, self.fix, self.status = expected, got, fix, status
        self.details = details or {}


_FIX = re.compile(r"\s*(?:Fix:|Fix it:)\s*", re.IGNORECASE)
_GOT = re.compile(r"[;,.]\s*(?:but\s+)?got\s+|\s+got\s+", re.IGNORECASE)


def error_parts(exc: Exception) -> dict:
    """``{"expected", "got", "fix", "message"}`` for any refusal the engine raises.

    ``RequestError`` carries its parts; a ``DataValidationError`` from the scoring code says them in
    one sentence ("Expected ...; got .... Fix: ..."), which is split here (the whole sentence stays
    in ``message``).
    """
    if isinstance(exc, RequestError):
        out = {"expected": exc.expected, "got": exc.got, "fix": exc.fix, "message": str(exc)}
        if exc.details:
            out["details"] = exc.details
        return out
    text = str(exc).strip()
    head, fix = (_FIX.split(text, maxsplit=1) if _FIX.search(text) else (text, ""))
    parts = _GOT.split(head, maxsplit=1)
    if len(parts) == 1 and "; " in head:  # "Expected X; what came instead" without the word "got"
        parts = head.split("; ", 1)
    expected = parts[0].strip().rstrip(".;")
    if expected.lower().startswith("expected "):
        expected = expected[9:]
    got = parts[1].strip().rstrip(".;") if len(parts) > 1 else "a request that does not fit (see message)"
    return {"expected": expected, "got": got, "fix": fix.strip() or "correct the request as the message says",
            "message": text}


def _clean(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    return v


def json_values(values) -> list:
    """One column's values (a Series or a NumPy array) as JSON-ready Python values, as ``to_records`` gives them."""
    dtype = values.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else None  # None: a pandas extension type
    if kind in ("i", "u", "b"):  # plain NumPy integers and booleans: never missing
        return np.asarray(values).tolist()
    if kind == "f":
        return [v if math.isfinite(v) else None for v in np.asarray(values).tolist()]
    return [_clean(v) for v in values.tolist()]


def to_records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: NaN and infinities as null, NumPy scalars as Python numbers.

    Built column by column (NumPy's ``tolist`` gives Python numbers at once); a one-row answer
    spent more time in ``DataFrame.to_dict`` than in its network."""

    names = [str(c) for c in df.columns]
    # ``items()`` gives the columns by position as ``iloc[:, j]`` does (repeated labels too), at a third of
    # its cost: taking the columns was most of a one-row answer's conversion.
    return [dict(zip(names, row)) for row in zip(*(json_values(s) for _, s in df.items()))]


def check_request(meta: dict, df: pd.DataFrame, *, optional: tuple[str, ...] = ()) -> pd.DataFrame:
    """The request's rows checked against the columns the run's model reads, numbers coerced.

    Stricter than a file upload: a column the model does not read (other than ``optional`` ones the
    scorer uses) and a value that cannot be read as its column's kind are refused, not ignored or
    treated as missing, since a client sending them has a bug to fix. Missing and wrong-type columns
    get the scorer's own message (``core.data.columncheck.check_columns``).
    """
    from core.data.columncheck import check_columns, coerce_numbers

    fast = _already_fits(meta, df, optional)
    if fast is not None:
        return fast
    report = check_columns(meta, df)
    extra = [c for c in report.extra if c not in optional]
    expected = ", ".join(f"{c} ({k})" for c, k in report.expected.items())
    details = {"expected_columns": report.expected, "missing": list(report.missing), "extra": extra,
               "wrong_type": [{"column": c, "expected": k, "examples": ex} for c, k, ex in report.wrong_type],
               "unreadable": [{"column": c, "values": n, "examples": ex} for c, n, ex in report.partly_invalid]}
    if not report.ok:
        got = "; ".join([f"{len(report.missing)} missing column(s): {list(report.missing)}"] * bool(report.missing)
                        + [f"'{c}' should hold {k}s, got values such as {ex}" for c, k, ex in report.wrong_type])
        raise RequestError(f"the columns {expected}", got,
                           "send every column the model reads, named and typed as in the training file "
                           "(GET /v1/models/{name} lists them)", details=details, message=report.error_message())
    if extra:
        allowed = f" (and optionally {', '.join(optional)})" if optional else ""
        raise RequestError(f"only the columns the model reads: {expected}{allowed}",
                           f"{len(extra)} other column(s): {', '.join(map(str, extra[:20]))}",
                           "leave these columns out of the instances", details=details)
    if report.partly_invalid:
        got = "; ".join(f"{n:,} value(s) in '{c}' that are not {report.expected[c]}s (e.g. {ex})"
                        for c, n, ex in report.partly_invalid)
        raise RequestError(f"values readable as each column's kind ({expected})", got,
                           "send numbers as JSON numbers (or digits), dates as YYYY-MM-DD or ISO 8601, and "
                           "null for a missing value", details=details)
    return coerce_numbers(df, report).reset_index(drop=True)


def _already_fits(meta: dict, df: pd.DataFrame, optional: tuple[str, ...]) -> pd.DataFrame | None:
    """``df`` itself when ``check_columns`` could only find it fine and ``coerce_numbers`` could only copy
    it: every column there and no other, numbers already numeric, no dates to parse. Most JSON requests
    are so, and skipping the per-column checks roughly halves a one-row request's time; anything else
    (None) takes the full check and its messages. A number column holding only nulls (a JSON ``null``
    in a one-row request: a column of Python ``None``) becomes the missing numbers ``coerce_numbers``
    would make of it; about one one-row credit request in eight has one, and the full check cost them
    twice the rest of the request's checks."""
    from core.data.columncheck import CATEGORY, NUMBER, get_expected_input

    kinds = get_expected_input(meta).get("columns") or {}
    # Column labels and types as plain lists: pandas' per-column lookups were most of this check's time.
    dtypes = dict(zip(df.columns.tolist(), df.dtypes.tolist()))
    if set(dtypes) - set(optional) != set(kinds):
        return None
    empty = []
    for c, kind in kinds.items():
        if kind == NUMBER and not pd.api.types.is_numeric_dtype(dtypes[c]):
            if dtypes[c] != object or not _all_none(df[c]):
                return None
            empty.append(c)
        if kind not in (NUMBER, CATEGORY):
            return None
    out = df.reset_index(drop=True)
    for c in empty:
        out[c] = np.full(len(out), np.nan)
    return out


def _all_none(s: pd.Series) -> bool:
    """Whether every value of an object column is None (not NaN, not text: those take the full check)."""
    return all(v is None for v in s.tolist())


def profile_example(meta: dict, columns: dict[str, str]) -> dict:
    """One plausible row from the run's training profile: each number's median (the profile's middle
    decile edge), each category's most common value. Personal-data columns are never in ``columns``
    (they were left out before training). Columns the profile lacks are left for the scenario."""
    from core.data.columncheck import CATEGORY, NUMBER

    from core.store.runmeta import section

    prof = section(meta, "profile").get("columns") or {}
    out: dict[str, Any] = {}
    for c, kind in columns.items():
        p = prof.get(c) or {}
        if kind == NUMBER and p.get("edges"):
            edges = p["edges"]
            v = float(edges[len(edges) // 2])
            out[c] = int(v) if v.is_integer() else round(v, 4)
        elif kind == CATEGORY and isinstance(p.get("shares"), dict) and p["shares"]:
            out[c] = max(p["shares"].items(), key=lambda kv: kv[1])[0]
    return out


def personal_columns(meta: dict) -> list[str]:
    """The columns the run recorded as personal data (left out or pseudonymised when it was trained)."""
    from core.store.runmeta import section

    found = section(meta, "dataset").get("personal_data") or []
    return [str(p.get("column")) for p in found if isinstance(p, dict) and p.get("column") is not None]


class Predictor:
    """A loaded run that answers prediction requests (subclassed in ``core/<name>/serving.py``).

    ``predict(df)`` takes the request's rows (one row per JSON instance) and returns the scored rows:
    the fields ``python -m core score`` writes for them, never the request's own columns; notices go
    in ``result.attrs["notices"]``. ``expected_input()`` and ``example_row()`` describe a valid
    request. A stateful predictor (fraud's rolling history) sets ``stateful`` and implements
    ``snapshot()`` / ``restore(state)``; ``lock`` serialises its requests.
    """

    stateful = False
    input_kind = "table"
    optional: tuple[str, ...] = ()

    def __init__(self, run_dir, meta: dict, *, runtime: str):
        self.run_dir = Path(run_dir)
        self.meta = meta
        self.runtime = runtime
        self.lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def scenario(self) -> str:
        return str(self.meta.get("scenario"))

    def columns(self) -> dict[str, str]:
        """The columns a request must hold and their kinds (``core.data.columncheck``: number, date, category)."""
        from core.data.columncheck import get_expected_input

        return dict(get_expected_input(self.meta).get("columns") or {})

    def expected_input(self) -> dict:
        """What a request holds: ``{"kind", "columns": {name: kind}, "optional": [...], "example": row}``."""
        return {"kind": self.input_kind, "columns": self.columns(), "optional": list(self.optional),
                "example": {"instances": self.example_instances()}}

    def example_row(self) -> dict:
        return profile_example(self.meta, self.columns())

    def example_instances(self) -> list[dict]:
        """A request body's ``instances`` the model accepts (one row, or a series' window for demand)."""
        return [self.example_row()]

    def instances_from_files(self, files: list[tuple[str, bytes]]) -> list[dict]:
        """Instances from a multipart upload's files (``(file name, bytes)``); tables take JSON only."""
        raise RequestError('a JSON body {"instances": [...]}', "a multipart upload of files",
                           "post the rows as JSON (Content-Type: application/json)")

    def check(self, df: pd.DataFrame) -> pd.DataFrame:
        return check_request(self.meta, df, optional=self.optional)

    def predict(self, df: pd.DataFrame, *, remember: bool = True) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> dict:
        """What ``GET /v1/models/{name}`` reports."""
        from core.serve.decisions import get_decision_settings

        from core.store.runmeta import workspace

        return {"name": self.name, "scenario": self.scenario, "runtime": self.runtime,
                "run_id": self.meta.get("run_id"), "title": workspace(self.meta).get("name"), "stateful": self.stateful,
                "decision": get_decision_settings(self.meta), "input": self.expected_input()}

    def snapshot(self) -> Any:
        return None

    def restore(self, state: Any) -> None:
        return None

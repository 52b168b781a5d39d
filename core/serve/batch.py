"""Batch scoring with a saved run, for every scenario: predictions, decision, reasons and drift.

``score_with_run(run_dir, data, settings=...)`` is what the Score page and the command-line
scorers call: it checks the upload's columns against what the model reads (``core.data.columncheck``),
has the scenario score every row with the saved model (its ``score`` hook, ``core.store.scenarios``) and
apply its decision (approve / decline, approve / review / block, reorder levels, pass / reject)
with the settings saved with the run unless the analyst changes them, and compares the upload with
the training population (PSI, bands < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from core.data.columncheck import ColumnMismatchError, ColumnReport, check_columns, coerce_numbers
from core.errors import DataValidationError

PAGE_MAX_ROWS = 200_000
REASON_ROWS = 200  # SHAP reasons for the riskiest rows; the CLI explains every declined row
Progress = Callable[[float, str], None]


@dataclass
class BatchResult:
    """What a batch scoring gives back: the downloadable table and what the page shows about it."""

    scenario: str
    run_id: str
    scored: pd.DataFrame
    figures: list[tuple[str, str]]  # (label, formatted value) for the headline tiles
    decisions: pd.DataFrame  # one row per decision (or per series for demand)
    settings: dict
    drift: pd.DataFrame | None = None
    columns: ColumnReport | None = None
    notices: list[str] = field(default_factory=list)
    training_overlap: int = 0  # rows of the file that are training rows of the run (by row hash)


def _noop(_f: float, _m: str) -> None:
    return None


def score_with_run(run_dir, data: Any, *, settings: dict | None = None, max_rows: int = PAGE_MAX_ROWS,
                   reason_rows: int = REASON_ROWS, progress: Progress | None = None, log=None) -> BatchResult:
    """Score ``data`` (a DataFrame, or an image zip / folder for an image model) with the run in ``run_dir``.

    ``settings`` override the saved decision settings (``core.serve.decisions.get_decision_settings``).
    Tables longer than ``max_rows`` are scored on their first ``max_rows`` rows, with a notice.
    ``log`` (a ``core.monitor.record.PredictionRecorder``) records the scored rows in the run's
    prediction log. Raises ``DataValidationError`` with expected / got / fix for anything that blocks scoring.
    """
    from core.serve.decisions import get_decision_settings
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    run_dir = Path(run_dir)
    meta = read_metadata(run_dir)
    chosen = {**get_decision_settings(meta), **(settings or {})}
    scenario = get_scenario(meta.get("scenario"))
    progress = progress or _noop
    if scenario.input_kind != "table":
        return _logged(scenario.score(run_dir, meta, data, chosen, progress=progress, reason_rows=reason_rows),
                       None, log)
    if not isinstance(data, pd.DataFrame):
        raise DataValidationError(f"A {scenario.key} run scores a table; got {type(data).__name__}. "
                                  "Fix: upload a CSV or Parquet file.")
    notices: list[str] = []
    if len(data) > max_rows:
        notices.append(f"The file has {len(data):,} rows; the first {max_rows:,} are scored here. Score the whole "
                       "file with `python -m core score --model RUN --data FILE --out scored.csv`.")
        data = data.iloc[:max_rows]
    report = check_columns(meta, data)
    if not report.ok:
        raise ColumnMismatchError(report)
    notices += scenario.input_notices(report, data)
    df = coerce_numbers(data, report).reset_index(drop=True)
    drift = None
    profile = scenario.training_profile(meta)
    if profile is not None:
        from core.data.drift import compare_to_profile

        drift = compare_to_profile(profile, df)
    else:
        notices.append("This run was saved without a profile of its training data, so drift is not shown.")
    overlap = get_training_overlap(run_dir, meta, df)
    result = scenario.score(run_dir, meta, df, chosen, progress=progress, reason_rows=reason_rows)
    result.drift, result.columns, result.training_overlap = drift, report, overlap
    if overlap:
        result.figures = [(f"{label} (not a test figure)" if label.startswith("ROC-AUC") else label, value)
                          for label, value in result.figures]
    result.notices = notices + result.notices
    return _logged(result, df, log)


def _logged(result: BatchResult, inputs, log) -> BatchResult:
    """Record the scored rows in the run's prediction log (ids returned in ``prediction_id`` when the
    file had none), with the log's notice."""
    if log is None:
        return result
    from core.monitor.record import attach_ids

    result.scored = attach_ids(log, inputs, result.scored)
    note = None if log.deferred else log.notice()  # a deferred (CLI) log reports once it is published
    if note:
        result.notices = [*result.notices, note]
    return result


def get_training_overlap(run_dir, meta: dict, df: pd.DataFrame) -> int:
    """Rows of ``df`` the run was trained on (by the row hashes saved with it; 0 when the run has none)."""
    from core.data.rowhash import ROW_HASH_FILE, count_overlap, load_hashes

    columns = meta.get("row_hash_columns")
    path = Path(run_dir) / ROW_HASH_FILE
    if not columns or not path.exists():
        return 0
    return count_overlap(load_hashes(path), df, list(columns))


def describe_overlap(result: "BatchResult") -> str:
    """The warning the Score page shows when a file repeats training rows."""
    n, total = result.training_overlap, len(result.scored)
    return (f"{n:,} of {total:,} rows in this file ({n / max(total, 1):.0%}) are rows the model was trained on. "
            "Figures measured on them (ROC-AUC, bad rate) are not test figures: the model has seen these "
            "answers. Score rows from after the training period, or the run's held-out rows, for an honest figure.")

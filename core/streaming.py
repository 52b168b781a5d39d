"""Scoring a file too large for memory: chunk by chunk, from a CSV / Parquet file to a CSV.

``stream_score`` owns what every chunked scorer needs, so a scenario only says how to score one
chunk: the column check against the saved run (on the first chunk, before anything is written),
numbers coerced as on the Score page, drift counted over every chunk, progress, and an output
file that appears under its name only when complete (written beside it, then renamed). Each
scenario's command-line scorer (``core/<name>/cli.py``) calls it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from core.columncheck import ColumnMismatchError, check_columns, coerce_numbers, get_training_profile
from core.datasets import iter_table_chunks
from core.safety import escape_formula_cells


@dataclass
class StreamResult:
    rows: int
    notices: list[str]
    drift: pd.DataFrame | None  # PSI per column against the training profile, when one was saved


def stream_score(meta: dict, data, out, score_chunk: Callable[[pd.DataFrame], pd.DataFrame], *,
                 chunk_size: int = 50_000, progress: Callable[[int], None] | None = None) -> StreamResult:
    """Score ``data`` chunk by chunk with ``score_chunk(part) -> scored rows`` and write them to ``out``.

    ``part`` has a fresh 0..n-1 index and numeric columns already coerced; ``progress(rows)`` is
    called after each chunk. Raises ``ColumnMismatchError`` (nothing written) when the file's
    columns do not fit the model, and ``DataValidationError`` for unreadable files.
    """
    from core.drift import DriftAccumulator

    profile = get_training_profile(meta)
    drift = DriftAccumulator(profile) if profile is not None else None
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial")
    rows, notices, report = 0, [], None
    try:
        with open(partial, "w", newline="", encoding="utf-8") as fh:
            for part in iter_table_chunks(data, chunk_size=chunk_size):
                if report is None:
                    report = check_columns(meta, part)
                    if not report.ok:
                        raise ColumnMismatchError(report)
                    notices += report.notices()
                part = coerce_numbers(part, report).reset_index(drop=True)
                # Text a spreadsheet would run as a formula (=, +, -, @) is written with a leading quote.
                escape_formula_cells(score_chunk(part)).to_csv(fh, header=rows == 0, index=False)
                if drift is not None:
                    drift.update(part)
                rows += len(part)
                if progress is not None:
                    progress(rows)
        os.replace(partial, out)
    finally:
        if partial.exists():
            partial.unlink()
    return StreamResult(rows=rows, notices=notices, drift=None if drift is None else drift.result())

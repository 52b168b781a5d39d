"""What every table scenario does with a block before scoring it, as ``stream_score`` does per chunk.

The columns are checked against the saved run on the first block, here, before any task starts
(``check_first_block``); each worker then coerces its block's numbers with that report and counts
its drift (``prepare_block``), and the counts are added up here (``merge_drift``), giving the same
PSI table as the single-process scorer.
"""

from __future__ import annotations

import itertools
from typing import Iterator

import pandas as pd

from core.scale.inputs import Block, read_block


def check_first_block(meta: dict, blocks: Iterator[Block], personal=None):
    """(column report, the blocks again) after checking the first block; raises
    ``ColumnMismatchError`` before anything is scored when the file does not fit the model.

    ``personal`` (a ``core.data.privacy.PersonalDataFilter``) finds the personal columns on the first
    block; every block returned carries it, so each worker drops / hashes the same columns with the
    same salt as it reads its block."""
    import dataclasses

    from core.data.columncheck import ColumnMismatchError, check_columns

    blocks = iter(blocks)
    first = next(blocks, None)
    if first is None:
        from core.errors import DataValidationError

        raise DataValidationError("Expected rows to score; the input has none. Fix: point --data to a file with rows.")
    if personal is not None:
        first = dataclasses.replace(first, personal=personal)
        blocks = (dataclasses.replace(b, personal=personal) for b in blocks)
    report = check_columns(meta, read_block(first))
    if not report.ok:
        if personal is not None:
            personal.check_missing(report.missing)
        raise ColumnMismatchError(report)
    return report, itertools.chain([first], blocks)


def prepare_block(block: Block, profile: dict | None, report) -> tuple[pd.DataFrame, object]:
    """(the block's rows with numbers coerced and a fresh index, its drift counts against the
    training ``profile`` or None)."""
    from core.data.drift import DriftAccumulator
    from core.data.columncheck import coerce_numbers

    part = coerce_numbers(read_block(block), report).reset_index(drop=True)
    drift = None
    if profile is not None:
        drift = DriftAccumulator(profile)
        drift.update(part)
    return part, drift


def merge_drift(parts) -> pd.DataFrame | None:
    """The PSI table of all blocks' drift counts (None when the run has no training profile)."""
    total = None
    for acc in parts:
        if acc is None:
            continue
        if total is None:
            total = acc
        else:
            total.merge(acc)
    return None if total is None else total.result()

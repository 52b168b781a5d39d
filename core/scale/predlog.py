"""The run's prediction log for ``--engine dask``: every block's rows logged as the default engine logs a chunk.

Workers may not reach the run's folder, but they write the staged output. So each block task builds
its log rows with the recorder's own code (``PredictionRecorder.log_rows``: the scenario's log
frame, personal data left out, ids generated as ``p-<scoring>-<block>-<i>`` for rows without one)
and writes them as ``part-NNNNN.parquet`` in a hidden ``.log`` folder of the staging area (a retried
task replaces its part). Once every block is scored, the client appends the parts to the run's
log as pending files (``publish_block_logs``) and removes the folder before the output is put in
place; the command line publishes them once the output is there, as for the default engine, and
discards them when anything fails. A failed run removes the staging area with its log parts.

Whether the output carries a ``prediction_id`` column is decided once, before any block is
scored, from the first block's rows (``plan_log``): the same rule the default engine applies to its
first chunk, so every partition of the output has the same columns.
"""

from __future__ import annotations

import itertools
import shutil
import uuid
from pathlib import Path

import pandas as pd

LOG_FOLDER = ".log"


def plan_log(recorder, first_rows: pd.DataFrame | None) -> dict | None:
    """What each block task needs to log its rows (None when logging is off): the door, a token
    naming this scoring, and whether the output carries generated ids (decided from
    ``first_rows``, the first block's rows as the scorer keeps them)."""
    if recorder is None or not recorder.active:
        return None
    rows = first_rows if first_rows is not None else pd.DataFrame()
    return {"source": recorder.source, "token": uuid.uuid4().hex[:12], "id_in_output": recorder.decide_ids(rows)}


def plan_log_for_blocks(recorder, blocks):
    """(``plan_log`` from the first table block, the blocks again)."""
    if recorder is None or not recorder.active:
        return None, blocks
    from core.scale.inputs import read_block

    blocks = iter(blocks)
    first = next(blocks, None)
    if first is None:
        return None, iter(())
    return plan_log(recorder, read_block(first)), itertools.chain([first], blocks)


def log_folder(staging) -> Path:
    return Path(staging) / LOG_FOLDER


def log_block(plan: dict | None, packed, inputs: pd.DataFrame | None, scored: pd.DataFrame, staging: str,
              index: int) -> tuple[pd.DataFrame, dict | None]:
    """On a worker: stage block ``index``'s log rows; returns the scored rows (with ``prediction_id``
    when the plan says the output carries it) and the block's counts for ``publish_block_logs``."""
    if plan is None:
        return scored, None
    from core.errors import DataValidationError
    from core.monitor.record import ID_COLUMN, PredictionRecorder
    from core.scale.engine import shipped_run_dir
    from core.scale.output import part_name, write_part

    folder = log_folder(staging)
    target = folder / part_name(index, "parquet")
    if scored is None or not len(scored):
        target.unlink(missing_ok=True)  # a block scored again with no rows left (e.g. an image scorer's masks)
        return scored, {"rows": 0}
    try:
        recorder = PredictionRecorder(shipped_run_dir(packed), source=plan["source"])
        frame, missing = recorder.log_rows(inputs, scored, f"{plan['token']}-{index:05d}")
        folder.mkdir(exist_ok=True)
        write_part(frame, str(folder), index, "parquet")
    except (DataValidationError, OSError, ValueError, KeyError) as exc:
        return scored, {"rows": 0, "error": str(exc)}
    if plan["id_in_output"] and ID_COLUMN not in scored.columns:
        scored = scored.copy()
        scored[ID_COLUMN] = frame["row_id"].to_numpy()
    return scored, {"rows": len(frame), "generated": bool(missing.any()), "left_out": recorder.left_out,
                    "unreturned": 0 if plan["id_in_output"] else int(missing.sum())}


def publish_block_logs(recorder, staged, parts: list[dict | None]) -> None:
    """On the client, every block scored: append the staged log parts (block order) to the run's log
    as pending files and remove them from the staging area, before the output is put in place."""
    if recorder is None:
        return
    folder = log_folder(staged.staging)
    counts = [p for p in parts if p is not None]
    try:
        if counts:
            from core.scale.output import part_name

            files = [folder / part_name(i, "parquet") for i, p in enumerate(parts) if p is not None and p["rows"]]
            recorder.adopt((pd.read_parquet(f) for f in files), counts)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

"""Scoring a file too large for memory: chunk by chunk, from a CSV / Parquet file to a CSV.

``stream_score`` owns what every chunked scorer needs, so a scenario only says how to score one
chunk: personal data left out or hashed as each chunk is read (``core.data.privacy.PersonalDataFilter``,
the columns found on the first chunk), the column check against the saved run (on the first chunk,
before anything is written), numbers coerced as on the Score page, drift counted over every chunk,
progress, and an output file that appears under its name only when complete. The rows go to a
hidden ``.<name>.<id>.partial`` beside it, which is flushed to disk, renamed into place and the
folder flushed too (``core.store.registry.atomic_output``, the same code the run registry's saves use),
so a power cut or a kill leaves the old file or the new one, never half of one. The writer holds a
lock on its partial file while it runs; a partial of the same output whose lock nobody holds was
left by a killed run and is removed when the next run of that output starts. Each scenario's
command-line scorer (``core/<name>/cli.py``) calls it.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from core.data.columncheck import ColumnMismatchError, check_columns, coerce_numbers, get_training_profile
from core.data.tablestream import iter_table_chunks
from core.data.safety import escape_formula_cells

try:  # POSIX: a partial file's writer holds an advisory lock on it until the output is in place
    import fcntl
except ImportError:  # pragma: no cover - Windows: stale partials go by age (core.store.registry.STALE_SECONDS)
    fcntl = None


@dataclass
class StreamResult:
    rows: int
    notices: list[str]
    drift: pd.DataFrame | None  # PSI per column against the training profile, when one was saved
    personal: list[dict] = field(default_factory=list)  # personal columns dropped / hashed / kept, no values


def _partial_pattern(out: Path) -> re.Pattern:
    # ``.<name>.partial`` (older scorers, the Dask engine's CSV) and ``.<name>.<8 hex>.partial`` (atomic_output).
    return re.compile(rf"^\.{re.escape(out.name)}(\.[0-9a-f]{{8}})?\.partial$")


def _lock(path: Path) -> int:
    """Create ``path`` already holding an exclusive lock (released when the descriptor closes or the
    process dies, however it dies): the file is made and locked under a name no other run looks at,
    then renamed, so a run cleaning stale partials never sees this one unlocked."""
    making = path.with_name(path.name + ".tmp")  # core.store.registry removes it if a kill lands right here
    fd = os.open(making, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(making, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            making.unlink()
        raise
    return fd


def remove_stale_partials(out) -> list[Path]:
    """Remove the hidden partial files of ``out`` that a killed run left behind (no process holds
    their lock); a partial another run of the same output is still writing is left alone.
    Returns the paths removed."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    pattern, removed = _partial_pattern(out), []
    try:
        entries = [p for p in folder.iterdir() if pattern.match(p.name)]
    except OSError:
        return removed
    for p in entries:
        try:
            if p.is_symlink() or not p.is_file():
                continue
            if fcntl is None:
                continue  # no locks to tell a live writer: core.store.registry removes it once it is old
            fd = os.open(p, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live run holds it
            else:
                p.unlink()
                removed.append(p)
            finally:
                os.close(fd)
        except OSError:
            continue
    return removed


def stream_score(meta: dict, data, out, score_chunk: Callable[[pd.DataFrame], pd.DataFrame], *,
                 chunk_size: int = 50_000, progress: Callable[[int], None] | None = None,
                 personal=None, member: str | None = None, sheet: str | None = None, log=None) -> StreamResult:
    """Score ``data`` chunk by chunk with ``score_chunk(part) -> scored rows`` and write them to ``out``.

    ``part`` has a fresh 0..n-1 index, personal data handled by ``personal`` (a
    ``core.data.privacy.PersonalDataFilter``, or its mode ``"drop"`` / ``"hash"`` / ``"keep"``; left out
    when not given) and numeric columns already coerced; ``progress(rows)`` is called after each
    chunk. ``member`` / ``sheet`` name the table to read in a zip or workbook (``--member`` /
    ``--sheet``); ``log`` (a ``core.monitor.record.PredictionRecorder``) records each scored chunk in
    the run's prediction log, adding a ``prediction_id`` column when the file has no id column. Raises
    ``ColumnMismatchError`` (nothing written) when the file's columns do not fit the model, and
    ``DataValidationError`` for unreadable files, a missing output folder or a full disk.
    """
    from core.data.drift import DriftAccumulator
    from core.data.privacy import PersonalDataFilter
    from core.store.registry import atomic_output

    guard = personal if isinstance(personal, PersonalDataFilter) else PersonalDataFilter(personal or "drop")
    profile = get_training_profile(meta)
    drift = DriftAccumulator(profile) if profile is not None else None
    out = Path(out)
    rows, notices, report, lock = 0, [], None, None
    try:
        with atomic_output(out, what="Writing the scored file") as partial:
            remove_stale_partials(out)
            lock = _lock(partial)
            with open(partial, "w", newline="", encoding="utf-8") as fh:
                for part in iter_table_chunks(data, chunk_size=chunk_size, member=member, sheet=sheet):
                    read_notices = part.attrs.get("read_notices", [])  # a zip member, a sheet, no header row
                    part = guard.apply(part)  # the columns are found on the first chunk, then fixed
                    if report is None:
                        notices += read_notices
                        report = check_columns(meta, part)
                        if not report.ok:
                            guard.check_missing(report.missing)
                            raise ColumnMismatchError(report)
                        notices += report.notices()
                    part = coerce_numbers(part, report).reset_index(drop=True)
                    # Text a spreadsheet would run as a formula (=, +, -, @) is written with a leading quote.
                    scored = score_chunk(part)
                    if log is not None:
                        from core.monitor.record import attach_ids

                        scored = attach_ids(log, part, scored)
                    escape_formula_cells(scored).to_csv(fh, header=rows == 0, index=False)
                    if drift is not None:
                        drift.update(part)
                    rows += len(part)
                    if progress is not None:
                        progress(rows)
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        if lock is not None:
            os.close(lock)  # after the rename: until then no other run takes the partial for stale
    return StreamResult(rows=rows, notices=notices, drift=None if drift is None else drift.result(),
                        personal=guard.excluded)

"""The prediction log of a saved run: Parquet files partitioned by day, read with DuckDB.

Every append (a scored chunk of the CLI, a Score-page batch, a flush of the HTTP service's buffer
(``core.monitor.buffer``), a feedback upload) writes **one new Parquet file**, first under a hidden temporary name in its day's
folder, flushed to disk and renamed into place. So any number of processes append at the same time
without a lock and without a server: no two writers ever touch the same file, a reader never sees a
half-written one, and a killed writer leaves only a hidden ``.tmp`` file that the next append of
that day removes once it is old. Readers list the files and query them together with DuckDB
(``union_by_name``: runs log different inputs, and an input missing from one file reads as null).

Why not one DuckDB or SQLite database: DuckDB allows one writing process per database file, and
SQLite's write-ahead log serialises writers through a lock that does not work on network file
systems; one file per append needs neither. Parquet is columnar, so the monitor reads only the
columns it needs (the score, one input at a time), and retention is deleting whole day folders.
The price is many small files when the HTTP service writes every few seconds: closed days are
compacted into one file (``compact``), and readers skip rows a concurrent compaction already
copied (each logged row has a unique ``log_key``).

Layout (``log_dir(run_dir)``: the run's ``monitor/`` folder, or ``$STUDIO_MONITOR_DIR/<run id>``)::

    predictions/day=2024-05-06/<time>-<pid>-<random>.parquet   one file per append
    labels/day=2024-06-20/<time>-<pid>-<random>.parquet         outcomes fed back
    settings.json                                               retention (days)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.store.registry import _fsync_dir  # one durable-rename rule for runs and logs

from core.errors import DataValidationError

PREDICTIONS, LABELS = "predictions", "labels"
MONITOR_DIR_ENV = "STUDIO_MONITOR_DIR"
RETENTION_ENV = "STUDIO_LOG_RETENTION_DAYS"
# Credit outcomes (default or not) are known a year after the loan is granted: keep predictions longer.
DEFAULT_RETENTION_DAYS = 400
SETTINGS_FILE = "settings.json"
STATUS_FILE = "status.json"  # a run's champion / challenger status (core.monitor.lineage)
STALE_TMP_SECONDS = 3600
STALE_PENDING_SECONDS = 7 * 86400  # a scoring killed before publishing its parts; a long one may take hours
COMPACT_MIN_FILES = 20  # a closed day with more files than this is merged into one
INPUT_PREFIX, OUTPUT_PREFIX = "in.", "out."


def log_dir(run_dir) -> Path:
    """Where the run's prediction log lives: ``$STUDIO_MONITOR_DIR/<run id>`` when that is set (a
    read-only runs folder, a shared disk for several servers), else the run's own ``monitor/`` folder."""
    run_dir = Path(run_dir)
    root = os.environ.get(MONITOR_DIR_ENV, "").strip()
    return Path(root).expanduser() / run_dir.name if root else run_dir / "monitor"


def _day_name(day: dt.date) -> str:
    return f"day={day.isoformat()}"


def _parse_day(name: str) -> dt.date | None:
    if not name.startswith("day="):
        return None
    try:
        return dt.date.fromisoformat(name[4:])
    except ValueError:
        return None


def utc_now() -> pd.Timestamp:
    """Now, as a naive UTC timestamp (what the log stores)."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def write_part(run_dir, table: str, frame: pd.DataFrame, *, now: pd.Timestamp | None = None,
               pending: bool = False, pause=None) -> Path | None:
    """Append ``frame`` to the log's ``table`` (``predictions`` or ``labels``) as one new Parquet file
    in today's folder, atomically. Returns its path (None for an empty frame).

    With ``pending`` the file stays hidden (``.<name>.pending``, never read) until ``publish`` renames
    it: a command-line scoring logs its chunks as it goes and publishes them once its output file is
    in place, so a failed or killed scoring leaves no predictions that nobody received.

    Raises ``DataValidationError`` when the log folder cannot be written (full disk, permissions).
    ``pause()``, when given, is called between the steps (the table built, written; the HTTP service's log
    writer lets the requests being answered run there).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if frame is None or len(frame) == 0:
        return None
    now = now if now is not None else utc_now()
    folder = log_dir(run_dir) / table / _day_name(now.date())
    name = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}-{uuid.uuid4().hex[:12]}.parquet"
    tmp = folder / f".{name}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_tmp(folder)
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        if pause is not None:
            pause()
        pq.write_table(arrow, tmp, compression="zstd")
        del arrow
        if pause is not None:
            pause()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        final = folder / (f".{name}.pending" if pending else name)
        os.rename(tmp, final)
        _fsync_dir(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise DataValidationError(
            f"Expected to append to the prediction log in '{folder}'; got '{exc.strerror or exc}'. "
            f"Fix: free disk space or make the folder writable (or set {MONITOR_DIR_ENV} to a writable "
            "folder).") from exc
    return final


def publish(paths) -> None:
    """Make pending parts (``write_part(..., pending=True)``) visible to readers."""
    for p in paths:
        p = Path(p)
        os.rename(p, p.with_name(p.name[1:-len(".pending")]))
        _fsync_dir(p.parent)


def discard(paths) -> None:
    """Remove pending parts of a scoring that did not complete."""
    for p in paths:
        with contextlib.suppress(OSError):
            Path(p).unlink()


_SWEPT: dict[str, float] = {}  # folder -> when this process last looked for stale temporaries in it
SWEEP_EVERY_SECONDS = 600.0


def _remove_stale_tmp(folder: Path) -> None:
    """Remove temporaries and pending parts left by a killed writer, once per folder every
    ``SWEEP_EVERY_SECONDS`` in a process: a day folder holds a file per append, so looking through
    it on every append would cost more with every request a service answers."""
    now = time.time()
    last = _SWEPT.get(str(folder))
    if last is not None and now - last < SWEEP_EVERY_SECONDS:
        return
    _SWEPT[str(folder)] = now
    with contextlib.suppress(OSError):
        for p in folder.iterdir():
            age = STALE_TMP_SECONDS if p.name.endswith(".tmp") else STALE_PENDING_SECONDS
            if p.name.startswith(".") and p.name.endswith((".tmp", ".pending")):
                with contextlib.suppress(OSError):
                    if now - p.stat().st_mtime > age:
                        p.unlink()


def list_parts(run_dir, table: str) -> list[Path]:
    """The complete Parquet files of ``table``, oldest day first (hidden temporaries are never listed)."""
    root = log_dir(run_dir) / table
    out: list[Path] = []
    try:
        days = sorted(p for p in root.iterdir() if p.is_dir() and _parse_day(p.name) is not None)
    except OSError:
        return out
    for day in days:
        with contextlib.suppress(OSError):
            out += sorted(p for p in day.iterdir() if p.suffix == ".parquet" and not p.name.startswith("."))
    return out


@contextlib.contextmanager
def open_log(run_dir, *, tables=(PREDICTIONS, LABELS)):
    """A DuckDB connection with a view per table of the run's log (``predictions``, ``labels``);
    a table with no file yet is an empty view with the log's fixed columns."""
    import duckdb

    con = duckdb.connect()
    try:
        for table in tables:
            files = list_parts(run_dir, table)
            if files:
                rel = con.read_parquet([str(p) for p in files], union_by_name=True)
                if any(p.name.startswith("compact-") for p in files):
                    # A compaction may be copying rows right now: keep each logged row once.
                    key = "log_key" if table == PREDICTIONS else "label_key"
                    rel = rel.query("parts", f"SELECT DISTINCT ON ({key}) * FROM parts")
            else:
                rel = con.sql(f"SELECT * FROM ({EMPTY[table]}) WHERE false")
            rel.create_view(table)
        yield con
    finally:
        con.close()


EMPTY = {
    PREDICTIONS: ("SELECT ''::VARCHAR AS log_key, ''::VARCHAR AS row_id, false AS id_generated, "
                  "NULL::TIMESTAMP AS scored_at, NULL::TIMESTAMP AS event_time, ''::VARCHAR AS source, "
                  "NULL::DOUBLE AS score, NULL::VARCHAR AS decision"),
    LABELS: ("SELECT ''::VARCHAR AS label_key, ''::VARCHAR AS row_id, NULL::DOUBLE AS label, "
             "NULL::TIMESTAMP AS received_at, 0::BIGINT AS seq"),
}


def read_table(run_dir, table: str, sql: str = "SELECT * FROM {t}", params=None) -> pd.DataFrame:
    """``sql`` (``{t}`` is the table) over the log as a DataFrame; retried once if a file vanished
    while it was read (retention or compaction in another process)."""
    import duckdb

    for attempt in (0, 1):
        try:
            with open_log(run_dir) as con:
                return con.execute(sql.format(t=table), params or []).df()
        except duckdb.IOException:
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------- settings and retention
def _settings_path(run_dir) -> Path:
    return log_dir(run_dir) / SETTINGS_FILE


def read_settings(run_dir) -> dict:
    try:
        data = json.loads(_settings_path(run_dir).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def check_retention(days) -> int:
    """``days`` as a whole number of days from 1 to 36,500; raises ``DataValidationError`` otherwise."""
    try:
        value = float(days)
    except (TypeError, ValueError):
        value = float("nan")
    if not (value == value and value.is_integer() and 1 <= value <= 36_500):
        raise DataValidationError(f"Expected the log's retention as a whole number of days from 1 to 36500; got "
                                  f"{days!r}. Fix: e.g. --retention-days 400 (credit outcomes take a year).")
    return int(value)


def get_retention(run_dir) -> tuple[int, str]:
    """(days, where the setting comes from): the run's own setting, else ``$STUDIO_LOG_RETENTION_DAYS``,
    else the default of 400 days."""
    saved = read_settings(run_dir).get("retention_days")
    if saved is not None:
        with contextlib.suppress(DataValidationError):
            return check_retention(saved), "this run's setting"
    env = os.environ.get(RETENTION_ENV, "").strip()
    if env:
        return check_retention(env), f"${RETENTION_ENV}"
    return DEFAULT_RETENTION_DAYS, "the default"


def set_retention(run_dir, days) -> int:
    """Save the run's retention (days) and apply it now; returns the days."""
    days = check_retention(days)
    path = _settings_path(run_dir)
    data = {**read_settings(run_dir), "retention_days": days}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise DataValidationError(f"Expected to save the retention setting in '{path.parent}'; got "
                                  f"'{exc.strerror or exc}'. Fix: make the folder writable.") from exc
    apply_retention(run_dir, days=days)
    return days


def apply_retention(run_dir, *, days: int | None = None, today: dt.date | None = None) -> list[str]:
    """Delete the day folders (predictions and labels) older than the retention; returns their names."""
    import shutil

    days = get_retention(run_dir)[0] if days is None else check_retention(days)
    today = today or utc_now().date()
    oldest = today - dt.timedelta(days=days)
    removed = []
    for table in (PREDICTIONS, LABELS):
        root = log_dir(run_dir) / table
        with contextlib.suppress(OSError):
            for p in sorted(root.iterdir()):
                day = _parse_day(p.name)
                if day is not None and day < oldest and p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(f"{table}/{p.name}")
    return removed


def compact(run_dir, *, today: dt.date | None = None, min_files: int = COMPACT_MIN_FILES) -> int:
    """Merge each closed day's many small files into one (the HTTP service writes one per flush).
    Only one process compacts at a time (a lock file); returns the number of files merged away."""
    import duckdb

    today = today or utc_now().date()
    root = log_dir(run_dir)
    if not root.exists():
        return 0
    merged = 0
    with _compact_lock(root) as locked:
        if not locked:
            return 0
        for table in (PREDICTIONS, LABELS):
            with contextlib.suppress(OSError):
                for day_dir in sorted((root / table).iterdir()):
                    day = _parse_day(day_dir.name)
                    files = sorted(p for p in day_dir.glob("*.parquet") if not p.name.startswith("."))
                    if day is None or day >= today or len(files) <= min_files:
                        continue
                    name = f"compact-{uuid.uuid4().hex[:12]}.parquet"
                    tmp = day_dir / f".{name}.tmp"
                    con = duckdb.connect()
                    try:
                        con.execute("COPY (SELECT * FROM read_parquet(?, union_by_name=true)) TO '"
                                    + str(tmp).replace("'", "''") + "' (FORMAT parquet, COMPRESSION zstd)",
                                    [[str(p) for p in files]])
                    finally:
                        con.close()
                    os.rename(tmp, day_dir / name)
                    for p in files:
                        with contextlib.suppress(OSError):
                            p.unlink()
                    merged += len(files)
    return merged


@contextlib.contextmanager
def _compact_lock(root: Path):
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: compaction is skipped
        yield False
        return
    fd = os.open(root / ".compact.lock", os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LogSize:
    """What the Runs page shows about a run's log: where, how big, how many rows, since when."""

    location: str
    bytes: int
    files: int
    predictions: int
    labels: int
    first_day: str | None
    last_day: str | None
    retention_days: int
    retention_from: str

    def sentence(self) -> str:
        if not self.predictions and not self.labels:
            return f"No predictions logged yet; they will be kept {self.retention_days:,} days ({self.retention_from})."
        span = f" from {self.first_day} to {self.last_day}" if self.first_day else ""
        return (f"{self.predictions:,} predictions and {self.labels:,} outcomes{span}, {_size(self.bytes)} in "
                f"{self.files:,} file(s); kept {self.retention_days:,} days ({self.retention_from}).")


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"  # pragma: no cover


def get_log_size(run_dir) -> LogSize:
    """Location, size on disk and row counts of the run's log (row counts from the Parquet footers)."""
    import pyarrow.parquet as pq

    days, total, files, counts = [], 0, 0, {}
    for table in (PREDICTIONS, LABELS):
        n = 0
        for p in list_parts(run_dir, table):
            with contextlib.suppress(OSError, ValueError):
                total += p.stat().st_size
                files += 1
                n += pq.ParquetFile(p).metadata.num_rows
                if table == PREDICTIONS:
                    days.append(p.parent.name[4:])
        counts[table] = n
    retention, source = get_retention(run_dir)
    return LogSize(str(log_dir(run_dir)), total, files, counts[PREDICTIONS], counts[LABELS],
                   min(days) if days else None, max(days) if days else None, retention, source)


def log_signature(run_dir) -> tuple:
    """A cheap fingerprint of the log's state (files, sizes, latest change): a page recomputes the
    monitor only when it changed."""

    root = log_dir(run_dir)
    files, size, latest = 0, 0, 0.0
    for table in (PREDICTIONS, LABELS):
        for p in list_parts(run_dir, table):
            with contextlib.suppress(OSError):
                st = p.stat()
                files, size, latest = files + 1, size + st.st_size, max(latest, st.st_mtime)
    with contextlib.suppress(OSError):
        latest = max(latest, (root / STATUS_FILE).stat().st_mtime)
    return files, size, latest

"""Buffered prediction-log writes for the HTTP service: a request hands its log rows to memory, a
background thread writes them.

Building a request's log rows and writing them as one Parquet part (with two fsyncs) cost more CPU
than scoring a one-row request. ``LogBuffer`` keeps each run's waiting items in memory (a request's
answered rows and the ids it was answered with, ``core.monitor.record.Request``; or, for scenarios
whose log rows need the request alone, rows already built); a flusher thread hands a run's items to its
writer when they hold ``max_rows`` rows or the oldest is ``seconds`` old, and ``close()`` (the
service's shutdown) writes what is left. The writer builds the rows of many requests at once and
writes one part. A request never waits for a disk write: it only appends to a list under a lock.

Durability: on a clean stop nothing is lost; a process killed without warning (SIGKILL, power cut)
loses the rows answered in the last ``seconds`` (they were answered, with their ids, but never
written). A write that fails (full disk, permissions) keeps the rows in memory and retries at the next
flush; the service keeps answering, and each answer for that run carries a notice until a write works.
Past ``hold_rows`` rows held for a failing log, the oldest are dropped (counted in that notice) so
memory stays bounded.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from dataclasses import dataclass, field


DEFAULT_FLUSH_SECONDS = 2.0
FLUSH_ROWS = 2_000  # a run's rows are written once this many wait, whatever their age
HOLD_ROWS = 200_000  # rows kept for a log that cannot be written, beyond which the oldest are dropped
MAX_FLUSH_SECONDS = 3600.0
PAUSE_LIMIT_SECONDS = 0.05  # the longest a flush waits for the answers in progress before its next slice
# Every pause lets go of the interpreter lock this long, answering or not: a request that has just arrived
# waits for the lock before it can say it is being answered, and Python takes the lock from a busy thread
# only after its switch interval (5 ms).
YIELD_SECONDS = 0.0001
RELEASE_SLICE = 32  # written requests let go of at a time between pauses (``LogBuffer._release``)


def check_flush_seconds(value) -> float:
    """``value`` as seconds from 0 to 3600 (0: every request is written as it is answered); raises
    ``DataValidationError`` otherwise."""
    from core.errors import DataValidationError

    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not (0 <= seconds <= MAX_FLUSH_SECONDS):  # also refuses nan and inf
        raise DataValidationError(
            f"Expected --log-flush-seconds as a number of seconds from 0 to {MAX_FLUSH_SECONDS:.0f}; got {value!r}. "
            f"Fix: e.g. --log-flush-seconds {DEFAULT_FLUSH_SECONDS:g} (a crash loses at most that many seconds of "
            "the log), or 0 to write every request as it is answered.")
    return seconds


@dataclass
class _Run:
    run_dir: object
    write: object  # items -> (items not written, error or None); see ServedLog in core.monitor.hooks
    frames: list = field(default_factory=list)
    rows: int = 0
    writing: int = 0  # rows taken by a flush in progress
    since: float | None = None  # monotonic time of the oldest waiting row
    error: str | None = None  # the last failed write's message, until a write works
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)  # one writer per run at a time


class LogBuffer:
    """Per-run buffers of log rows and the thread that writes them (see the module docstring)."""

    def __init__(self, *, seconds: float = DEFAULT_FLUSH_SECONDS, max_rows: int = FLUSH_ROWS,
                 hold_rows: int = HOLD_ROWS, say=None):
        self.seconds = float(seconds)
        self.max_rows = int(max_rows)
        self.hold_rows = max(int(hold_rows), self.max_rows)
        self.say = say
        self._runs: dict[str, _Run] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.written = 0  # rows written so far
        self._answering = 0  # requests being answered now (``answering``)
        self._answering_lock = threading.Lock()

    @contextlib.contextmanager
    def answering(self):
        """Held by the service while it answers a request: a flush in progress waits for it between slices."""
        with self._answering_lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._answering_lock:
                self._answering -= 1

    def pause(self, limit: float = PAUSE_LIMIT_SECONDS) -> None:
        """Wait while requests are being answered, at most ``limit`` seconds. The writer calls it between
        slices of its work: building the rows of many requests holds Python's interpreter lock, and a
        request that arrived during one long build waited for all of it (the tail of one-row latency);
        in slices, answers run between them and a flush takes longer, not the requests."""
        time.sleep(YIELD_SECONDS)  # let go of the lock: a thread waiting for it runs now, not at the forced switch
        if not self._answering:
            return
        end = time.monotonic() + limit
        while self._answering and time.monotonic() < end:
            time.sleep(0.0005)

    def add(self, key: str, run_dir, frame, write) -> list[str]:
        """Queue ``frame`` (one request's item: ``len`` is its rows) for ``run_dir``; the notices the answer
        should carry (only when this run's log is failing)."""
        with self._cond:
            run = self._runs.get(key)
            if run is None:
                run = self._runs[key] = _Run(run_dir, write)
            run.write = write
            run.frames.append(frame)
            run.rows += len(frame)
            wake = run.since is None or run.rows >= self.max_rows  # a new deadline, or a full buffer
            if run.since is None:
                run.since = time.monotonic()
            self._drop_over_hold(run)
            notes = self._trouble(run)
            if self._closed:  # after shutdown (should not happen): nothing is left to a thread
                closed = True
            else:
                closed = False
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="prediction-log", daemon=True)
                    self._thread.start()
                    atexit.register(self.close)
                if wake:
                    self._cond.notify_all()
        if closed:
            self.flush(key)
        return notes

    def _drop_over_hold(self, run: _Run) -> None:
        while run.rows > self.hold_rows and len(run.frames) > 1:
            old = run.frames.pop(0)
            run.rows -= len(old)
            run.dropped += len(old)

    @staticmethod
    def _trouble(run: _Run) -> list[str]:
        if run.error is None:
            return []
        lost = f"; {run.dropped:,} older rows were dropped to bound memory" if run.dropped else ""
        return [f"The run's prediction log cannot be written ({run.error}): {run.rows:,} answered rows are held in "
                f"memory and will be written once it can be{lost}. Until then they are not on the Monitor page."]

    def pending(self, key: str | None = None) -> int:
        """Rows not yet on disk (waiting or being written; for one run, or all)."""
        with self._cond:
            return sum(r.rows + r.writing for k, r in self._runs.items() if key is None or k == key)

    def failing(self) -> dict[str, str]:
        with self._cond:
            return {k: r.error for k, r in self._runs.items() if r.error is not None}

    def flush(self, key: str | None = None) -> int:
        """Write the waiting rows now (one run's, or all); returns the rows written. When it returns, the
        rows queued before the call are on disk (or held after a failed write)."""
        with self._cond:
            keys = [k for k in self._runs if key is None or k == key]
        return sum(self._flush_run(k) for k in keys)

    def _flush_run(self, key: str) -> int:
        with self._cond:
            run = self._runs.get(key)
        if run is None:
            return 0
        with run.lock:  # a flush in progress finishes before another takes the next rows
            with self._cond:
                frames, run.frames, run.writing, run.rows, run.since = run.frames, [], run.rows, 0, None
            if not frames:
                return 0
            try:
                left, error = run.write(list(frames))  # a copy: ``frames`` is let go of in slices below
            except Exception as exc:  # a writer's surprise: keep everything for the next try
                left, error = frames, f"{type(exc).__name__}: {exc}"
            written = sum(len(f) for f in frames) - sum(len(f) for f in left)
            if not left:
                self._release(frames)
            if error is not None and self._note_failure(run, error) and self.say is not None:
                self.say(f"Could not write the prediction log of {run.run_dir} ({error}); "
                         "holding its rows in memory and retrying.")
            with self._cond:
                run.writing = 0
                if left:
                    run.frames[:0] = left
                    run.rows += sum(len(f) for f in left)
                    run.since = time.monotonic()  # retry after another interval
                    self._drop_over_hold(run)
                elif error is None:
                    if run.error is not None and self.say is not None:
                        self.say(f"The prediction log of {run.run_dir} is written again.")
                    run.error, run.dropped = None, 0
                self.written += written
        return written

    def _release(self, items: list) -> None:
        """Let go of written items ``RELEASE_SLICE`` at a time with a ``pause()`` between: freeing the small
        frames of hundreds of requests in one step held the interpreter lock longer than building them."""
        while items:
            del items[-RELEASE_SLICE:]
            self.pause()

    def _note_failure(self, run: _Run, error: str) -> bool:
        with self._cond:
            first = run.error is None
            run.error = str(error)
            return first

    def _due(self, now: float) -> tuple[list[str], float | None]:
        """Runs to write now, and how long until the next one is due."""
        due, wait = [], None
        for k, r in self._runs.items():
            if r.since is None:
                continue
            left = r.since + self.seconds - now
            if r.rows >= self.max_rows and r.error is None or left <= 0:
                due.append(k)
            else:
                wait = left if wait is None else min(wait, left)
        return due, wait

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    due, wait = self._due(time.monotonic())
                    if due:
                        break
                    self._cond.wait(wait)
                if self._closed:
                    return
            for k in due:
                try:
                    self._flush_run(k)
                except Exception as exc:  # pragma: no cover - the flusher must outlive a surprise
                    if self.say is not None:
                        self.say(f"The prediction log's flusher hit an error ({type(exc).__name__}: {exc}).")

    def close(self) -> list[str]:
        """Stop the flusher and write everything (the service's shutdown); lines for the user about rows
        that could not be written."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=60)
        self.flush()
        with self._cond:
            return [f"{r.rows:,} answered rows could not be written to the prediction log of {r.run_dir} ({r.error})"
                    for r in self._runs.values() if r.rows]

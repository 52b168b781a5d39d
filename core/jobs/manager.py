"""Heavy steps as jobs in worker processes: submitted by a page, run outside the script run.

A job is a folder (input, progress events, result) and a worker process started with
``python -m core.jobs.worker FOLDER`` once the training queue (``core.jobs.TrainingQueue``, its
size ``STUDIO_MAX_CONCURRENT_TRAININGS``) gives it a slot. TensorFlow is imported in the worker,
never in the server: the result comes back as files (``core.jobs.store``) and the process exits,
so its memory goes back to the system. A short job need not wait for that import: the job is handed
to a spare worker that has loaded Keras already when one is waiting (``core.jobs.warm``,
``STUDIO_WARM_WORKERS``), which runs that one job and exits like a cold worker. A job belongs to an *owner* (the browser's key), so a page
that was left, or reloaded, finds its job again; another visitor's jobs are never listed.

``cancel`` stops a job within seconds (its whole process group) and keeps nothing of it; a worker
that dies (killed, out of memory) is reported with the reason. With ``STUDIO_JOBS=inline`` the same
job runs in the calling thread (tests, debugging): same folder, same result files, no process.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DataValidationError
from core.jobs import QueueState, Ticket, TrainingQueue, get_training_queue
from core.jobs.worker import ERROR_FILE, EVENTS_FILE, LOG_FILE, read_events, run_job, write_input
from core.jobs.store import RESULT_FILE, load_result
from core.jobs.warm import WarmPool

MODE_ENV = "STUDIO_JOBS"
DIR_ENV = "STUDIO_JOBS_DIR"
KEEP_ENV = "STUDIO_JOBS_KEEP_S"
MODES = ("process", "inline")
DEFAULT_KEEP_S = 6 * 3600  # a finished job's files are kept this long for its owner to come back to
CANCEL_GRACE_S = 2.0  # SIGTERM first, then SIGKILL after this many seconds

FINISHED = ("done", "failed", "cancelled")


def get_job_mode(env: dict | None = None) -> str:
    """``process`` (default: a worker process per job) or ``inline`` (in the calling thread)."""
    raw = str((os.environ if env is None else env).get(MODE_ENV, "") or "process").strip().lower()
    if raw not in MODES:
        raise DataValidationError(f"{MODE_ENV} must be one of {', '.join(MODES)}; got {raw!r}. Fix: unset it "
                                  "for worker processes (the default) or set it to 'inline'.")
    return raw


class _Cancelled(Exception):
    pass


@dataclass(eq=False)
class Job:
    """One submitted job and what is known of it."""

    id: str
    owner: str
    scenario: str
    label: str
    folder: Path
    meta: dict = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    state: str = "queued"  # queued -> running -> done | failed | cancelled
    started: float | None = None
    ended: float | None = None
    error: dict | None = None  # {"kind": data|error|memory|crash, "message": ..., "detail": ...}
    ticket: Ticket | None = None
    process: Any = None
    cancel_requested: bool = False
    queue: QueueState | None = None
    warm: bool = False  # it ran on a spare worker that had loaded Keras before the job came

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def events(self) -> list:
        """Progress events so far: ``(kind, time, payload)``."""
        return read_events(self.folder / EVENTS_FILE)

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started


def crash_reason(returncode: int, log_tail: str = "", noun: str = "training") -> str:
    """A worker that ended without writing a result or an error, in words."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if -returncode == signal.SIGKILL:
            return (f"The {noun} process was stopped by the system ({name}), most often because the server ran "
                    "out of memory. Fix: train on fewer rows or images (or a smaller input size), or wait until "
                    "other trainings have finished.")
        return f"The {noun} process was stopped by the system ({name})."
    tail = f" Last output: {log_tail}" if log_tail else ""
    return f"The {noun} process ended unexpectedly (exit code {returncode}).{tail}"


def sweep_dead_servers(base: Path) -> list[str]:
    """Remove the job folders of servers that are no longer running (``base/<pid>`` whose process is gone):
    a server stopped without warning (killed, a restarted container) leaves its jobs' files behind, and
    over many restarts they fill the disk. A folder whose process still runs, or may (another user's, a
    name that is not a process id), is kept. Returns the names removed."""
    removed = []
    try:
        names = [p.name for p in base.iterdir() if p.is_dir() and p.name.isdigit()]
    except OSError:  # no folder yet, or not readable: nothing to sweep
        return removed
    for name in names:
        pid = int(name)
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # running (or another user's process): keep
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, OSError):
            continue
        shutil.rmtree(base / name, ignore_errors=True)
        removed.append(name)
    return removed


class JobManager:
    """The process's jobs: submit, look up by owner, cancel, load results."""

    def __init__(self, root=None, *, mode: str | None = None, queue: TrainingQueue | None = None,
                 warm: int | None = None, warm_idle_s: float | None = None):
        base = Path(root or os.environ.get(DIR_ENV) or Path(tempfile.gettempdir()) / "studio-jobs")
        sweep_dead_servers(base)
        self.root = base / str(os.getpid())
        self.root.mkdir(parents=True, exist_ok=True)
        self.mode = mode or get_job_mode()
        self._queue = queue
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        # Spare workers (none inline); the first starts at the first job.
        self.warm = WarmPool(self.root, size=0 if self.mode == "inline" else warm, idle_s=warm_idle_s)

    @property
    def queue(self) -> TrainingQueue:
        return self._queue or get_training_queue()

    # ------------------------------------------------------------------ submit
    def submit(self, owner: str, scenario: str, target: str, kwargs: dict, *, label: str | None = None,
               meta: dict | None = None) -> Job:
        """Start ``target(**kwargs, report=...)`` as a job of ``owner``; returns at once in process mode,
        after the job in inline mode."""
        self.cleanup()
        job_id = f"{scenario}-{int(time.time())}-{next(self._ids)}-{os.urandom(3).hex()}"
        job = Job(id=job_id, owner=str(owner), scenario=scenario, label=label or f"{scenario} training",
                  folder=self.root / job_id, meta=dict(meta or {}))
        write_input(job.folder, target, kwargs)
        with self._lock:
            self._jobs[job.id] = job
        if self.mode == "inline":
            self._run(job, inline=True)
        else:
            threading.Thread(target=self._run, args=(job,), name=f"job-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job, *, inline: bool = False) -> None:
        def on_wait(state: QueueState) -> None:
            job.queue = state
            if job.cancel_requested:
                raise _Cancelled()

        try:
            ticket = self.queue.acquire(job.label, on_wait=on_wait, poll=0.25)
        except _Cancelled:
            self._finish(job, "cancelled")
            return
        job.ticket, job.queue = ticket, None
        try:
            if job.cancel_requested:
                self._finish(job, "cancelled")
                return
            job.state, job.started = "running", time.time()
            if inline:
                run_job(job.folder)
                returncode = 0
            else:
                returncode = self._run_process(job)
            self._settle(job, returncode)
        finally:
            self.queue.release(ticket)

    @staticmethod
    def worker_env() -> dict:
        """The environment a worker process runs with: the server's, with this project importable."""
        from core.store.scenarios import ROOT

        return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def _run_process(self, job: Job) -> int:
        env = self.worker_env()
        self.warm.job_started()
        try:
            return self._start_and_wait(job, env)
        finally:
            self.warm.job_ended()

    def _start_and_wait(self, job: Job, env: dict) -> int:
        from core.store.scenarios import ROOT

        spare = self.warm.take(env, job.folder) if not job.cancel_requested else None
        if spare is not None:
            job.process, job.warm = spare, True
        else:
            with open(job.folder / LOG_FILE, "ab") as log:
                job.process = subprocess.Popen([sys.executable, "-m", "core.jobs.worker", str(job.folder)],
                                               cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True)
        self.warm.refill(env)  # the next job's spare loads Keras while this one runs
        if job.cancel_requested:  # cancelled while the process was starting
            self._kill(job)
        return job.process.wait()

    def _settle(self, job: Job, returncode: int) -> None:
        if job.cancel_requested:
            self._finish(job, "cancelled")
        elif (job.folder / RESULT_FILE).exists():
            self._finish(job, "done")
        elif (job.folder / ERROR_FILE).exists():
            self._finish(job, "failed", json.loads((job.folder / ERROR_FILE).read_text()))
        else:
            self._finish(job, "failed", {"kind": "crash", "message": crash_reason(returncode, self._log_tail(job))})

    @staticmethod
    def _log_tail(job: Job) -> str:
        try:
            lines = [ln for ln in (job.folder / LOG_FILE).read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def _finish(self, job: Job, state: str, error: dict | None = None) -> None:
        job.error = error
        job.ended = time.time()
        if state == "cancelled":  # nothing of a cancelled job is kept
            shutil.rmtree(job.folder, ignore_errors=True)
        job.state = state

    # ------------------------------------------------------------------ look up
    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def jobs(self, owner: str, scenario: str | None = None) -> list[Job]:
        """``owner``'s jobs, newest first (another owner's are never returned)."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == str(owner) and scenario in (None, j.scenario)]
        return sorted(mine, key=lambda j: j.created, reverse=True)

    def latest(self, owner: str, scenario: str) -> Job | None:
        found = self.jobs(owner, scenario)
        return found[0] if found else None

    def result(self, job: Job) -> Any:
        """The finished job's result, networks detached from TensorFlow (``core.jobs.store``)."""
        if job.state != "done":
            raise DataValidationError(f"The job '{job.label}' has no result: it is {job.state}.")
        if not (job.folder / RESULT_FILE).exists():
            raise DataValidationError(f"The result of '{job.label}' is no longer kept (finished jobs are kept "
                                      f"{self.keep_seconds() / 3600:.0f} h). Fix: train again.")
        return load_result(job.folder)

    def wait(self, job: Job, timeout: float | None = None, poll: float = 0.1) -> Job:
        """Block until ``job`` has finished (tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not job.finished:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"Job {job.id} still {job.state} after {timeout} s.")
            time.sleep(poll)
        return job

    # ------------------------------------------------------------------ cancel, clean up
    def cancel(self, job: Job, timeout: float = 5.0) -> bool:
        """Stop ``job`` (waiting or running) and remove what it wrote; ``False`` when it had finished."""
        if job.finished:
            return False
        job.cancel_requested = True
        if job.process is not None:
            self._kill(job)
        deadline = time.monotonic() + timeout
        while not job.finished and time.monotonic() < deadline:
            time.sleep(0.05)
        return True

    @staticmethod
    def _kill(job: Job) -> None:
        proc = job.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(CANCEL_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    @staticmethod
    def keep_seconds() -> float:
        try:
            return float(os.environ.get(KEEP_ENV, "") or DEFAULT_KEEP_S)
        except ValueError:
            return float(DEFAULT_KEEP_S)

    def cleanup(self, now: float | None = None) -> int:
        """Forget finished jobs older than the keep time and remove their files; returns how many."""
        now = time.time() if now is None else now
        keep = self.keep_seconds()
        with self._lock:
            old = [j for j in self._jobs.values() if j.finished and j.ended is not None and now - j.ended > keep]
            for j in old:
                del self._jobs[j.id]
        for j in old:
            shutil.rmtree(j.folder, ignore_errors=True)
        return len(old)

    def shutdown(self) -> None:
        """Cancel every job and stop the spare workers (server stop, tests)."""
        self.warm.close()
        with self._lock:
            running = [j for j in self._jobs.values() if not j.finished]
        for j in running:
            self.cancel(j)


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def get_job_manager() -> JobManager:
    """The process's job manager (its mode read from ``STUDIO_JOBS`` when first asked)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None or _MANAGER.mode != get_job_mode():
            if _MANAGER is not None:
                _MANAGER.warm.close()  # its jobs finish as they are; its spares would wait for nothing
            _MANAGER = JobManager()
        return _MANAGER

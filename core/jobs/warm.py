"""Spare worker processes that have already loaded Keras, each waiting for one job.

A cold job worker spends its first seconds importing TensorFlow/Keras before its work; for a short
job (a Grad-CAM or SHAP heatmap, the fraud strategy comparison) that is most of the click-to-result
time. ``WarmPool`` keeps ``STUDIO_WARM_WORKERS`` spares (``python -m core.jobs.worker --warm JOBS_ROOT``):
each imports Keras, says ``ready`` on its stdout and waits for a job folder on its stdin. The job
manager hands a job's folder to a spare when it has one (ready or still loading: either is ahead of
a cold start) and otherwise starts a cold worker as before; a new spare is started in the background
after one is taken. A spare runs ONE job and exits, so one job's memory never reaches the next, and
it is a job's process like any other: its own process group, SIGTERM then SIGKILL on cancel.

The first spare starts at the first job, not with the server, and once no job has run for
``STUDIO_WARM_IDLE_S`` (default 60 s: a spare stays while jobs run, so the heatmaps after a long
training still find one) the spare is told to exit (its stdin is closed), so a server whose visitors
left gives its memory back within about a minute. A spare that dies while idle is replaced, never reported as a job's crash; after
``MAX_FAILURES`` deaths in a row without a job handed over the pool stops warming (cold starts only).
A spare also exits when the server dies (its stdin reaches end of file).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.jobs import env_setting

WORKERS_ENV = "STUDIO_WARM_WORKERS"
IDLE_ENV = "STUDIO_WARM_IDLE_S"
DEFAULT_WORKERS = 1
MAX_WORKERS = 8
DEFAULT_IDLE_S = 60.0  # after the last job ended
MAX_FAILURES = 3  # spares dead in a row before any job took one: stop warming, start cold
READY = "ready"


def get_warm_workers(env: dict | None = None) -> int:
    """Spare workers to keep: ``STUDIO_WARM_WORKERS`` (default 1), a whole number from 0 (none) to 8."""
    return env_setting(
        WORKERS_ENV, DEFAULT_WORKERS, env=env, parse=int, valid=lambda v: 0 <= v <= MAX_WORKERS,
        message=lambda raw: f"{WORKERS_ENV} must be a whole number of spare workers from 0 to {MAX_WORKERS}; got "
                            f"{raw!r}. Fix: set it to 0 (every job starts its own worker), 1 (the default) or more.")


def get_warm_idle(env: dict | None = None) -> float:
    """Seconds after the last job ended before spares exit: ``STUDIO_WARM_IDLE_S`` (default 60), > 0."""
    return env_setting(
        IDLE_ENV, DEFAULT_IDLE_S, env=env, parse=float, valid=lambda v: v > 0,  # NaN is not above 0 either
        message=lambda raw: f"{IDLE_ENV} must be a number of seconds above 0; got {raw!r}. Fix: set it to e.g. "
                            f"{DEFAULT_IDLE_S:.0f}, or unset it for the default.")


def _settings(env: dict) -> dict:
    """The environment a job runs with, less what changes by itself (pytest names its current test there)."""
    return {k: v for k, v in env.items() if k != "PYTEST_CURRENT_TEST"}


@dataclass(eq=False)
class Spare:
    """One spare worker process and what the pool knows of it."""

    process: subprocess.Popen
    env: dict
    log: Path
    started: float = field(default_factory=time.monotonic)
    ready: threading.Event = field(default_factory=threading.Event)
    taken: bool = False
    retired: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid


class WarmPool:
    """Up to ``size`` spare workers; ``take`` gives one away, ``refill`` starts what is missing."""

    def __init__(self, root, size: int | None = None, idle_s: float | None = None):
        self.root = Path(root)
        self.size = get_warm_workers() if size is None else int(size)
        self.idle_s = get_warm_idle() if idle_s is None else float(idle_s)
        self._spares: list[Spare] = []
        self._lock = threading.Lock()
        self._failures = 0
        self._closed = False
        self.started = 0  # spares started since the pool was made (tests, benchmark)
        self.handed = 0  # jobs handed to a spare
        self.idle_exits = 0  # spares retired after their idle time
        self._running = 0  # jobs running now (any worker): a spare is not idle while one runs
        self._last_end = time.monotonic()  # when the last job ended (or the pool was made)

    def job_started(self) -> None:
        """A job began (on a spare or cold): spares stay while it runs."""
        with self._lock:
            self._running += 1

    def job_ended(self) -> None:
        """A job ended: the idle time of every spare counts from now."""
        with self._lock:
            self._running = max(0, self._running - 1)
            self._last_end = time.monotonic()

    def _idle_left(self) -> float:
        """Seconds before spares should leave: ``idle_s`` after the last job ended, never while one runs."""
        with self._lock:
            if self._running:
                return self.idle_s
            return self.idle_s - (time.monotonic() - self._last_end)

    @property
    def enabled(self) -> bool:
        return self.size > 0 and not self._closed and self._failures < MAX_FAILURES

    def spares(self) -> list[Spare]:
        """The spares waiting now (ready or still loading Keras)."""
        with self._lock:
            return list(self._spares)

    def wait_ready(self, timeout: float = 120.0) -> Spare | None:
        """Block until a spare is ready (tests and the benchmark); ``None`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for spare in self.spares():
                if spare.ready.is_set():
                    return spare
            time.sleep(0.05)
        return None

    # ------------------------------------------------------------------ hand over
    def take(self, env: dict, folder) -> subprocess.Popen | None:
        """Hand ``folder`` to a spare started with the same ``env``; its process, or ``None`` (start cold)."""
        while True:
            with self._lock:
                if not self._spares:
                    return None
                ready = [s for s in self._spares if s.ready.is_set()]
                spare = (ready or self._spares)[0]
                self._spares.remove(spare)
                spare.taken = True
            if _settings(spare.env) != _settings(env):  # changed since it started: it would run the old ones
                threading.Thread(target=self._retire, args=(spare,), daemon=True).start()
                continue
            try:
                spare.process.stdin.write((str(folder) + "\n").encode())
                spare.process.stdin.flush()
                spare.process.stdin.close()
            except (BrokenPipeError, OSError, ValueError):  # it died just now: another spare, or cold
                threading.Thread(target=self._retire, args=(spare,), daemon=True).start()
                continue
            with self._lock:
                self._failures = 0
                self.handed += 1
            return spare.process

    def refill(self, env: dict) -> None:
        """Start spares until ``size`` are waiting (the first one at the first job, not at server start)."""
        while True:
            with self._lock:
                if not self.enabled or len(self._spares) >= self.size:
                    return
                try:
                    spare = self._start(env)
                except OSError:  # no process to be had now (limits, memory): jobs start cold meanwhile
                    self._failures += 1
                    return
                self._spares.append(spare)
            threading.Thread(target=self._watch, args=(spare,), name=f"warm-spare-{spare.pid}", daemon=True).start()

    def _start(self, env: dict) -> Spare:
        from core.store.scenarios import ROOT

        spares = self.root / ".spares"
        spares.mkdir(parents=True, exist_ok=True)
        log = spares / f"spare-{os.getpid()}-{self.started + 1}.log"
        with open(log, "ab") as err:
            # The jobs folder on its command line tells which server's spare it is (``ps``, tests).
            proc = subprocess.Popen([sys.executable, "-m", "core.jobs.worker", "--warm", str(self.root)],
                                    cwd=str(ROOT), env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                    start_new_session=True)
        self.started += 1
        return Spare(process=proc, env=dict(env), log=log)

    # ------------------------------------------------------------------ watch, retire
    def _watch(self, spare: Spare) -> None:
        """Mark the spare ready, retire it after the idle time, replace it when it dies idle."""
        out = spare.process.stdout
        line = out.readline()
        while line and line.strip() != READY.encode():  # anything a library printed while loading
            line = out.readline()
        if line:
            spare.ready.set()
            while True:  # end of file: it took a job (its output goes to the job's log now) or it died
                ready, _, _ = select.select([out], [], [], max(0.05, self._idle_left()))
                if ready:
                    break
                if self._idle_left() > 0:  # a job ran or ended meanwhile: wait on
                    continue
                with self._lock:
                    idle = spare in self._spares
                    if idle:
                        self._spares.remove(spare)
                        self.idle_exits += 1
                if idle:
                    self._retire(spare)
                    break
            out.read()
        out.close()
        if spare.taken:  # the job's thread waits for it and reports how it ended
            self._remove_log(spare)
            return
        spare.process.wait()
        self._remove_log(spare)
        with self._lock:
            died_idle = spare in self._spares
            if died_idle:
                self._spares.remove(spare)
                self._failures += 1
        if died_idle and not spare.retired:  # killed while waiting: no job was on it; start another
            self.refill(spare.env)

    def _retire(self, spare: Spare, grace: float = 2.0) -> None:
        """Tell a spare to exit (end of its stdin), then stop its process group if it does not."""
        spare.retired = True
        try:
            spare.process.stdin.close()
        except (OSError, ValueError):
            pass
        if not spare.ready.is_set():  # still importing Keras: it would read its stdin only afterwards
            try:
                os.killpg(spare.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            spare.process.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(spare.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            spare.process.wait()

    @staticmethod
    def _remove_log(spare: Spare) -> None:
        try:
            spare.log.unlink()
        except OSError:
            pass

    def close(self) -> None:
        """Stop every spare and start no more (server stop, tests)."""
        with self._lock:
            self._closed = True
            spares, self._spares = self._spares, []
        for spare in spares:
            self._retire(spare)

"""A process-wide limit on trainings running at once, with a first-come-first-served queue.

Every visitor of a Streamlit server is a thread of one Python process. Without a limit, six
analysts pressing "Train" together start six Keras fits, and their peak memory adds up until the
host (2.7 GB on Community Cloud) kills the whole server. ``TrainingQueue`` lets at most
``STUDIO_MAX_CONCURRENT_TRAININGS`` (default 2) jobs run; the others wait in order of arrival, and
the waiting thread is told how many jobs are ahead of it so the page can say so.

Pure Python (threading only): the command line and tests use it without Streamlit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from core.errors import DataValidationError

LIMIT_ENV = "STUDIO_MAX_CONCURRENT_TRAININGS"
DEFAULT_LIMIT = 2
MAX_LIMIT = 64


def env_setting(name: str, default, *, parse, valid, message, env: dict | None = None):
    """A server setting read from the environment: ``default`` when unset or blank, else ``parse`` of the
    value, refused with ``message(raw)`` (expected / got / fix) when it does not parse or is not ``valid``."""
    raw = str((os.environ if env is None else env).get(name, "") or "").strip()
    if raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise DataValidationError(message(raw))
    return value


def get_training_limit(env: dict | None = None) -> int:
    """Trainings allowed at once: ``STUDIO_MAX_CONCURRENT_TRAININGS`` (default 2), a whole number >= 1."""
    return env_setting(
        LIMIT_ENV, DEFAULT_LIMIT, env=env, parse=int, valid=lambda v: 1 <= v <= MAX_LIMIT,
        message=lambda raw: f"{LIMIT_ENV} must be a whole number of trainings from 1 to {MAX_LIMIT}; got {raw!r}. "
                            f"Fix: set it to e.g. {DEFAULT_LIMIT}, or unset it for the default of {DEFAULT_LIMIT}.")


@dataclass(eq=False)
class Ticket:
    """One training request: queued, then running, then done."""

    label: str
    number: int
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    ended_at: float | None = None

    @property
    def waited(self) -> float:
        """Seconds spent in the queue (so far, while still waiting)."""
        end = self.started_at if self.started_at is not None else time.monotonic()
        return max(0.0, end - self.queued_at)


@dataclass(frozen=True)
class QueueState:
    """What a waiting job is told: jobs ahead of it in the queue and jobs running now."""

    ahead: int
    running: int
    limit: int
    waited: float

    def sentence(self) -> str:
        where = ("you are next" if self.ahead == 0 else
                 f"{self.ahead} training{'' if self.ahead == 1 else 's'} ahead of you")
        return (f"Waiting for a free training slot: {where} ({self.running} of {self.limit} running now, "
                f"waited {self.waited:.0f} s). It starts by itself: you can leave this page and come back.")


class TrainingQueue:
    """At most ``limit`` jobs at once; the rest wait first come, first served."""

    def __init__(self, limit: int = DEFAULT_LIMIT):
        if int(limit) < 1:
            raise DataValidationError(f"A training queue needs a limit of at least 1; got {limit}. Fix: pass 1 or more.")
        self._limit = int(limit)
        self._cond = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._numbers = itertools.count(1)
        # Longest wait and most jobs waiting at once since start, for the load benchmark.
        self.max_waiting = 0
        self.max_running = 0
        self.waits: list[float] = []

    # -------------------------------------------------------------- state
    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        """Change the limit; waiting jobs start at once if the new limit frees slots."""
        with self._cond:
            self._limit = max(1, int(limit))
            self._cond.notify_all()

    def running(self) -> int:
        with self._cond:
            return len(self._running)

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def position(self, ticket: Ticket) -> int:
        """Jobs ahead of ``ticket`` in the queue (0 when it is next or running)."""
        with self._cond:
            return self._waiting.index(ticket) if ticket in self._waiting else 0

    def _state(self, ticket: Ticket) -> QueueState:
        ahead = self._waiting.index(ticket) if ticket in self._waiting else 0
        return QueueState(ahead=ahead, running=len(self._running), limit=self._limit, waited=ticket.waited)

    # -------------------------------------------------------------- acquire / release
    def acquire(self, label: str = "training", *, on_wait: Callable[[QueueState], None] | None = None,
                poll: float = 0.5, timeout: float | None = None) -> Ticket:
        """Wait for a slot and take it. ``on_wait(state)`` is called (outside the lock) right away when
        the job has to wait and then every ``poll`` seconds until it starts, so a page can redraw the
        queue position and notice a visitor who left (Streamlit stops the script on its next call).
        An exception from ``on_wait`` or a ``timeout`` takes the job out of the queue."""
        ticket = Ticket(label=label, number=next(self._numbers))
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._waiting.append(ticket)
        try:
            while True:
                with self._cond:
                    if self._waiting[0] is ticket and len(self._running) < self._limit:
                        self._waiting.pop(0)
                        ticket.started_at = time.monotonic()
                        self._running.append(ticket)
                        self.max_running = max(self.max_running, len(self._running))
                        self.waits.append(ticket.waited)
                        # The next in line may fit too (the limit may have been raised).
                        self._cond.notify_all()
                        return ticket
                    state = self._state(ticket)
                    self.max_waiting = max(self.max_waiting, len(self._waiting))
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"No training slot became free within {timeout:.0f} s.")
                if on_wait is not None:
                    on_wait(state)
                with self._cond:
                    if not (self._waiting and self._waiting[0] is ticket and len(self._running) < self._limit):
                        self._cond.wait(poll)
        except BaseException:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                    self._cond.notify_all()
            raise

    def release(self, ticket: Ticket) -> None:
        """Give the slot back (idempotent) and wake the queue."""
        with self._cond:
            if ticket in self._running:
                self._running.remove(ticket)
            ticket.ended_at = time.monotonic()
            self._cond.notify_all()

    @contextlib.contextmanager
    def slot(self, label: str = "training", **kwargs) -> Iterator[Ticket]:
        """``with queue.slot("credit"):`` runs the body holding a slot, released however it ends."""
        ticket = self.acquire(label, **kwargs)
        try:
            yield ticket
        finally:
            self.release(ticket)


_QUEUE: TrainingQueue | None = None
_QUEUE_LOCK = threading.Lock()


def get_training_queue() -> TrainingQueue:
    """The process's one queue, its limit read from ``STUDIO_MAX_CONCURRENT_TRAININGS``."""
    global _QUEUE
    limit = get_training_limit()
    with _QUEUE_LOCK:
        if _QUEUE is None:
            _QUEUE = TrainingQueue(limit)
        elif _QUEUE.limit != limit:
            _QUEUE.set_limit(limit)
        return _QUEUE

"""The process-wide training queue: limit, first-come-first-served order, positions, clean-up."""

from __future__ import annotations

import threading
import time

import pytest

from core.errors import DataValidationError
from core.jobs import LIMIT_ENV, TrainingQueue, get_training_limit, get_training_queue


def test_limit_from_environment():
    assert get_training_limit({}) == 2
    assert get_training_limit({LIMIT_ENV: " 3 "}) == 3
    for bad in ("0", "-1", "two", "1.5", "1000"):
        with pytest.raises(DataValidationError, match=rf"{LIMIT_ENV} must be a whole number.*got '{bad}'.*Fix"):
            get_training_limit({LIMIT_ENV: bad})


def test_process_queue_follows_environment(monkeypatch):
    monkeypatch.setenv(LIMIT_ENV, "3")
    q = get_training_queue()
    assert q.limit == 3 and get_training_queue() is q
    monkeypatch.setenv(LIMIT_ENV, "2")
    assert get_training_queue().limit == 2


def test_at_most_limit_run_and_the_rest_wait_in_order():
    q = TrainingQueue(2)
    lock = threading.Lock()
    running, peak, order, seen_ahead = [0], [0], [], {}
    finish = [threading.Event() for _ in range(6)]

    def job(i):
        def on_wait(state):
            seen_ahead.setdefault(i, state.ahead)
            assert state.limit == 2
            expected = "you are next" if state.ahead == 0 else f"{state.ahead} training"
            assert state.sentence().startswith(f"Waiting for a free training slot: {expected}")

        with q.slot(f"job{i}", on_wait=on_wait, poll=0.01):
            with lock:
                order.append(i)
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            finish[i].wait(10)
            with lock:
                running[0] -= 1

    threads = []
    for i in range(6):
        t = threading.Thread(target=job, args=(i,))
        t.start()
        threads.append(t)
        # Arrivals in a known order: the next job starts once this one is running or queued.
        deadline = time.monotonic() + 10
        while q.running() + q.waiting() < i + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    time.sleep(0.1)
    assert q.running() == 2 and q.waiting() == 4
    for i in range(6):  # finish the jobs one by one, oldest first
        time.sleep(0.05)
        finish[i].set()
    for t in threads:
        t.join(10)
    assert peak[0] == 2
    assert order == list(range(6)), order  # first come, first served
    # Jobs 2..5 waited, and job i saw i - 2 jobs ahead of it when it arrived.
    assert seen_ahead == {2: 0, 3: 1, 4: 2, 5: 3}
    assert q.running() == 0 and q.waiting() == 0
    assert q.max_running == 2 and q.max_waiting == 4
    assert len(q.waits) == 6 and min(q.waits[2:]) > 0.05


def test_queue_sentence():
    from core.jobs import QueueState

    assert QueueState(ahead=0, running=2, limit=2, waited=3.4).sentence().startswith(
        "Waiting for a free training slot: you are next (2 of 2 running now, waited 3 s).")
    assert "1 training ahead of you" in QueueState(ahead=1, running=2, limit=2, waited=0).sentence()
    assert "3 trainings ahead of you" in QueueState(ahead=3, running=1, limit=1, waited=0).sentence()


def test_a_visitor_who_leaves_is_taken_out_of_the_queue():
    q = TrainingQueue(1)
    holder = q.acquire("first")

    class Left(Exception):
        pass

    def on_wait(state):
        raise Left  # Streamlit stops a script whose visitor left at its next page call

    with pytest.raises(Left):
        q.acquire("second", on_wait=on_wait, poll=0.01)
    assert q.waiting() == 0
    with pytest.raises(TimeoutError, match="No training slot"):
        q.acquire("third", poll=0.01, timeout=0.05)
    assert q.waiting() == 0
    q.release(holder)
    q.release(holder)  # idempotent
    t = q.acquire("fourth", timeout=1)
    assert q.running() == 1 and t.waited < 1


def test_a_failing_job_gives_its_slot_back():
    q = TrainingQueue(1)
    with pytest.raises(RuntimeError):
        with q.slot("boom"):
            raise RuntimeError("training failed")
    assert q.running() == 0
    with q.slot("next", timeout=1):
        assert q.running() == 1


def test_raising_the_limit_starts_waiting_jobs():
    q = TrainingQueue(1)
    first = q.acquire("first")
    got = []
    t = threading.Thread(target=lambda: got.append(q.acquire("second", poll=0.01)))
    t.start()
    time.sleep(0.1)
    assert not got and q.waiting() == 1
    q.set_limit(2)
    t.join(2)
    assert got and q.running() == 2
    q.release(first)
    q.release(got[0])

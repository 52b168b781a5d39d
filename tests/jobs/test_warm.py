"""Spare workers that have loaded Keras before a job comes (core.jobs.warm): one job each, then gone."""

from __future__ import annotations

import os
import signal
import time

import pytest

from core.errors import DataValidationError
from core.jobs import TrainingQueue
from core.jobs.manager import JobManager
from core.jobs.warm import get_warm_idle, get_warm_workers

COUNT = "tests.jobs.jobfuncs:count"


def _until(check, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout} s")


@pytest.fixture
def warm(tmp_path, light_workers):
    """A manager with one spare loading (as after its first job: test_an_idle_spare_exits_after_its_idle_time)."""
    m = JobManager(tmp_path / "jobs", mode="process", queue=TrainingQueue(1), warm=1)
    assert m.warm.spares() == []  # nothing started with the server
    m.warm.refill(m.worker_env())
    yield m
    m.shutdown()


def test_a_job_runs_on_the_ready_spare_and_a_new_spare_follows(tmp_path):
    """The one test here whose spares load the real Keras (the others use ``light_workers``)."""
    warm = JobManager(tmp_path / "jobs", mode="process", queue=TrainingQueue(1), warm=1)
    try:
        assert warm.warm.spares() == []
        warm.warm.refill(warm.worker_env())
        spare = warm.warm.wait_ready(120)
        assert spare is not None
        job = warm.wait(warm.submit("alice", "credit", COUNT, {"n": 2}), timeout=120)
        assert job.state == "done" and job.warm is True
        assert warm.result(job)["pid"] == spare.pid == job.process.pid
        assert job.process.returncode == 0  # one job, then it exits
        nxt = _until(lambda: [s for s in warm.warm.spares() if s.pid != spare.pid])
        assert len(nxt) == 1 and len(warm.warm.spares()) == 1
        assert [k for k, _, _ in job.events()][:2] == ["stage", "epoch"]
    finally:
        warm.shutdown()


def test_a_job_on_a_spare_is_cancelled_and_keeps_nothing(warm):
    assert warm.warm.wait_ready(120) is not None
    job = warm.submit("alice", "credit", COUNT, {"n": 600, "delay": 0.1})
    _until(lambda: any(k == "epoch" for k, _, _ in job.events()))
    assert job.warm is True and job.state == "running"
    assert warm.cancel(job) is True
    assert job.state == "cancelled" and job.process.poll() is not None and not job.folder.exists()


def test_a_spare_killed_while_idle_is_replaced_and_no_job_fails(warm):
    spare = warm.warm.wait_ready(120)
    os.killpg(spare.pid, signal.SIGKILL)
    again = _until(lambda: [s for s in warm.warm.spares() if s.pid != spare.pid and s.ready.is_set()])
    assert spare.process.returncode == -signal.SIGKILL
    assert warm.jobs("alice") == []  # no job was on it, so none failed
    job = warm.wait(warm.submit("alice", "credit", COUNT, {"n": 1}), timeout=120)
    assert job.state == "done" and job.warm is True and job.process.pid == again[0].pid


def test_a_spare_killed_during_its_job_is_reported_as_a_crash(warm):
    assert warm.warm.wait_ready(120) is not None
    job = warm.wait(warm.submit("alice", "credit", "tests.jobs.jobfuncs:die", {}), timeout=120)
    assert job.warm is True and job.state == "failed" and job.error["kind"] == "crash"
    assert "SIGKILL" in job.error["message"]


def test_an_idle_spare_exits_after_its_idle_time(tmp_path, light_workers):
    m = JobManager(tmp_path / "jobs", mode="process", queue=TrainingQueue(1), warm=1, warm_idle_s=0.5)
    made, start = [], m.warm._start
    m.warm._start = lambda env: made.append(start(env)) or made[-1]
    try:
        assert m.warm.spares() == []  # nothing started with the server
        first = m.wait(m.submit("alice", "credit", COUNT, {"n": 1}), timeout=120)
        assert first.state == "done" and first.warm is False  # the first job starts cold, and the first spare
        spare = _until(lambda: made)[0]
        _until(lambda: spare.process.poll() is not None)
        assert spare.process.returncode == 0 and m.warm.spares() == [] and m.warm.idle_exits == 1
        assert m.warm.started == 1  # not replaced: an idle server holds no Keras
        job = m.wait(m.submit("alice", "credit", COUNT, {"n": 1}), timeout=120)
        assert job.state == "done" and job.warm is False  # cold again, and a spare is loading for the next
        assert m.warm.started == 2
    finally:
        m.shutdown()


def test_a_spare_stays_while_a_job_runs_and_leaves_its_idle_time_after_the_last_job(tmp_path, light_workers):
    m = JobManager(tmp_path / "jobs", mode="process", queue=TrainingQueue(2), warm=1, warm_idle_s=0.5)
    release = tmp_path / "release"
    try:
        job = m.submit("alice", "credit", "tests.jobs.jobfuncs:hold", {"path": str(release)})
        _until(lambda: job.state == "running" and job.process is not None)
        spare = m.warm.wait_ready(120)  # started beside the running job
        assert spare is not None
        time.sleep(1.5)  # three idle times, but a job runs: the spare waits on
        assert spare.process.poll() is None and m.warm.spares() == [spare] and m.warm.idle_exits == 0
        release.touch()
        assert m.wait(job, timeout=120).state == "done"
        _until(lambda: spare.process.poll() is not None, timeout=30)  # about one idle time after the job ended
        assert spare.process.returncode == 0 and m.warm.idle_exits == 1 and m.warm.spares() == []
    finally:
        release.touch()
        m.shutdown()


def test_no_spares_with_the_setting_at_0(tmp_path, light_workers, monkeypatch):
    monkeypatch.setenv("STUDIO_WARM_WORKERS", "0")
    m = JobManager(tmp_path / "jobs", mode="process", queue=TrainingQueue(1))
    try:
        jobs = [m.wait(m.submit("alice", "credit", COUNT, {"n": 1}), timeout=120) for _ in range(2)]
        assert [(j.state, j.warm) for j in jobs] == [("done", False), ("done", False)]
        assert m.warm.started == 0 and m.warm.spares() == []
        assert jobs[0].process.pid != jobs[1].process.pid
    finally:
        m.shutdown()


def test_a_spare_started_with_other_settings_is_not_used(warm, monkeypatch):
    old = warm.warm.wait_ready(120)
    monkeypatch.setenv("STUDIO_RUNTIME", "keras" if os.environ.get("STUDIO_RUNTIME") != "keras" else "onnx")
    job = warm.wait(warm.submit("alice", "credit", COUNT, {"n": 1}), timeout=120)
    assert job.state == "done" and job.warm is False
    _until(lambda: old.process.poll() is not None, timeout=30)


def test_inline_jobs_start_no_spares(tmp_path):
    m = JobManager(tmp_path / "inline", mode="inline", queue=TrainingQueue(1), warm=1)
    assert m.submit("alice", "credit", COUNT, {"n": 1}).state == "done"
    assert m.warm.started == 0 and not m.warm.enabled


def test_the_warm_settings_are_checked():
    assert get_warm_workers({}) == 1 and get_warm_workers({"STUDIO_WARM_WORKERS": "0"}) == 0
    assert get_warm_idle({}) == 60 and get_warm_idle({"STUDIO_WARM_IDLE_S": "30"}) == 30
    with pytest.raises(DataValidationError, match=r"STUDIO_WARM_WORKERS must be a whole number .* from 0 to 8; "
                                                  r"got 'two'\. Fix: set it to 0"):
        get_warm_workers({"STUDIO_WARM_WORKERS": "two"})
    with pytest.raises(DataValidationError, match="STUDIO_WARM_WORKERS .* got '9'"):
        get_warm_workers({"STUDIO_WARM_WORKERS": "9"})
    with pytest.raises(DataValidationError, match=r"STUDIO_WARM_IDLE_S must be a number of seconds above 0; "
                                                  r"got '-1'\. Fix"):
        get_warm_idle({"STUDIO_WARM_IDLE_S": "-1"})
    with pytest.raises(DataValidationError, match="STUDIO_WARM_IDLE_S .* got 'nan'"):
        get_warm_idle({"STUDIO_WARM_IDLE_S": "nan"})


def test_spares_that_keep_dying_are_given_up_and_jobs_start_cold(tmp_path):
    import subprocess
    import sys

    from core.jobs.warm import MAX_FAILURES, Spare, WarmPool

    pool = WarmPool(tmp_path, size=1, idle_s=60)
    made = []

    def broken_start(env):  # a spare that dies before it is ready (a broken install, killed at once)
        proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, start_new_session=True)
        made.append(proc)
        return Spare(process=proc, env=dict(env), log=tmp_path / f"spare-{len(made)}.log")

    pool._start = broken_start
    pool.refill({"A": "1"})
    _until(lambda: not pool.enabled, timeout=60)
    time.sleep(0.5)
    assert len(made) == MAX_FAILURES and [p.wait() for p in made] == [3] * MAX_FAILURES
    assert pool.spares() == [] and pool.take({"A": "1"}, tmp_path) is None
    pool.refill({"A": "1"})
    assert len(made) == MAX_FAILURES  # no more attempts

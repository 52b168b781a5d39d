"""Jobs in worker processes: results, progress, owners, cancel, data errors and crashes."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from core.errors import DataValidationError
from core.jobs import TrainingQueue
from core.jobs.manager import JobManager, crash_reason, get_job_mode
from core.jobs.store import DetachedModel, dump_result, load_result


@pytest.fixture
def manager(tmp_path, light_workers):
    m = JobManager(tmp_path / "jobs", mode="process", queue=TrainingQueue(1))
    yield m
    m.shutdown()


@pytest.fixture(scope="module")
def network_job(tmp_path_factory):
    """One job that trains a tiny network in a worker with the real Keras, for the tests of its result
    (no spare: the tests read the result, and a spare would load TensorFlow for nothing)."""
    m = JobManager(tmp_path_factory.mktemp("network") / "jobs", mode="process", queue=TrainingQueue(1), warm=0)
    job = m.wait(m.submit("alice", "credit", "tests.jobs.jobfuncs:tiny_network", {}), timeout=300)
    yield m, job
    m.shutdown()


def test_a_job_runs_in_another_process_and_reports_its_progress(manager):
    import os

    job = manager.wait(manager.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 3}), timeout=120)
    assert job.state == "done", job.error
    result = manager.result(job)
    assert result["n"] == 3 and result["pid"] != os.getpid()
    epochs = [p for kind, _, p in job.events() if kind == "epoch"]
    assert [e[0] for e in epochs] == [1, 2, 3] and epochs[-1][2]["loss"] == pytest.approx(1 / 3)
    assert ("status", "counted") in [(k, p) for k, _, p in job.events()]


def test_jobs_belong_to_their_owner(manager):
    a = manager.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 1})
    b = manager.submit("bob", "credit", "tests.jobs.jobfuncs:count", {"n": 2})
    manager.wait(a, timeout=120), manager.wait(b, timeout=120)
    assert manager.latest("alice", "credit") is a and manager.latest("bob", "credit") is b
    assert manager.jobs("alice") == [a] and manager.latest("carol", "credit") is None
    assert manager.latest("alice", "fraud") is None


def test_an_input_error_comes_back_as_its_message(manager):
    job = manager.wait(manager.submit("alice", "credit", "tests.jobs.jobfuncs:refuse", {}), timeout=120)
    assert job.state == "failed" and job.error["kind"] == "data"
    assert job.error["message"].startswith("Expected a column 'default'")
    with pytest.raises(DataValidationError, match="has no result: it is failed"):
        manager.result(job)


def test_an_unexpected_error_is_reported_without_its_traceback_on_top(manager):
    job = manager.wait(manager.submit("alice", "credit", "tests.jobs.jobfuncs:broken", {}), timeout=120)
    assert job.error["kind"] == "error" and job.error["message"] == "RuntimeError: disk on fire"
    assert "Traceback" in job.error["detail"]


def test_a_killed_worker_is_reported_with_the_reason(manager):
    job = manager.wait(manager.submit("alice", "credit", "tests.jobs.jobfuncs:die", {}), timeout=120)
    assert job.state == "failed" and job.error["kind"] == "crash"
    assert "SIGKILL" in job.error["message"] and "out of memory" in job.error["message"]
    # The manager goes on: the next job runs.
    assert manager.wait(manager.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 1}), timeout=120).state == "done"


def test_crash_reasons_in_words():
    assert "exit code 3" in crash_reason(3, "Segmentation fault") and "Segmentation fault" in crash_reason(3, "Segmentation fault")
    assert "SIGTERM" in crash_reason(-15)


def test_cancel_stops_a_running_job_and_keeps_nothing(manager):
    job = manager.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 600, "delay": 0.1})
    deadline = time.monotonic() + 120
    while not job.events() and time.monotonic() < deadline:  # running, reporting epochs
        time.sleep(0.1)
    assert job.state == "running"
    assert manager.cancel(job) is True
    assert job.state == "cancelled" and job.process.poll() is not None
    assert not job.folder.exists()
    assert manager.cancel(job) is False  # already finished


def test_cancel_takes_a_waiting_job_out_of_the_queue(manager):
    first = manager.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 600, "delay": 0.1})
    second = manager.submit("bob", "fraud", "tests.jobs.jobfuncs:count", {"n": 1})
    deadline = time.monotonic() + 30
    while second.queue is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second.state == "queued" and second.queue.ahead == 0
    manager.cancel(second)
    assert second.state == "cancelled" and second.process is None
    manager.cancel(first)


def test_a_wrong_target_is_refused_at_submit(manager):
    with pytest.raises(ValueError, match="a function of core"):
        manager.submit("alice", "credit", "os:system", {})


def test_the_job_mode_is_checked():
    assert get_job_mode({}) == "process" and get_job_mode({"STUDIO_JOBS": "inline"}) == "inline"
    with pytest.raises(DataValidationError, match="STUDIO_JOBS must be one of process, inline; got 'threads'"):
        get_job_mode({"STUDIO_JOBS": "threads"})


def test_finished_jobs_are_forgotten_after_the_keep_time(manager, monkeypatch):
    job = manager.wait(manager.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 1}), timeout=120)
    monkeypatch.setenv("STUDIO_JOBS_KEEP_S", "60")
    assert manager.cleanup(now=time.time()) == 0
    assert manager.cleanup(now=job.ended + 61) == 1
    assert manager.latest("alice", "credit") is None and not job.folder.exists()


def test_a_new_server_removes_the_job_folders_of_servers_that_are_gone(tmp_path):
    import os
    import subprocess

    base = tmp_path / "jobs"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = str(int(gone.stdout))  # a process that has ended
    for name in (dead, str(os.getppid()), "notes"):
        (base / name / "credit-1").mkdir(parents=True)
        (base / name / "credit-1" / "result.pkl").write_bytes(b"x" * 1000)
    m = JobManager(base, mode="inline", queue=TrainingQueue(1))
    assert m.root == base / str(os.getpid()) and m.root.is_dir()
    # The ended server's files are gone; a running process's folder and a folder not named by a process stay.
    assert sorted(p.name for p in base.iterdir()) == sorted([str(os.getpid()), str(os.getppid()), "notes"])


def test_inline_jobs_go_through_the_same_files(tmp_path):
    m = JobManager(tmp_path / "inline", mode="inline", queue=TrainingQueue(1))
    job = m.submit("alice", "credit", "tests.jobs.jobfuncs:count", {"n": 2})
    assert job.state == "done" and (job.folder / "result.pkl").exists() and m.result(job)["n"] == 2


def test_a_network_comes_back_detached_from_tensorflow(network_job):
    """The worker's Keras network answers through ONNX Runtime here, within 1e-5 of Keras, and one
    network referenced twice comes back as one object."""
    _, job = network_job
    assert job.state == "done", job.error
    import subprocess

    # A fresh interpreter loads the result without TensorFlow.
    code = ("import sys, numpy as np; from core.jobs.store import load_result; r = load_result(sys.argv[1]); "
            "d = float(np.max(np.abs(r['model'].predict(r['x']) - r['p']))); "
            "print(d, r['same'][0] is r['same'][1] is r['model'], 'tensorflow' in sys.modules)")
    from core.store.scenarios import ROOT

    out = subprocess.run([sys.executable, "-c", code, str(job.folder)], capture_output=True, text=True, timeout=120,
                         cwd=str(ROOT))
    diff, same, tf = out.stdout.split()
    assert float(diff) < 1e-5 and same == "True" and tf == "False", out.stderr[-2000:]


def test_a_detached_network_saves_the_trained_keras_file(network_job, tmp_path):
    manager, job = network_job
    result = manager.result(job)
    model = result["model"]
    assert isinstance(model, DetachedModel)
    model.save(tmp_path / "copy.keras")
    assert (tmp_path / "copy.keras").read_bytes() == (job.folder / "model-0.keras").read_bytes()
    # Kept in a session or copied, it pickles as its bytes and predicts the same.
    dump_result({"m": model}, tmp_path / "again")
    again = load_result(tmp_path / "again")["m"]
    assert np.allclose(again.predict(result["x"]), result["p"], atol=1e-5)

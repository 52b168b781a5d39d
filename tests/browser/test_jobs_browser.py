"""Training as a job, in a real browser: leave the page and come back, reload, a second visitor who
sees none of it, Cancel, and a worker killed mid-training (as the system does when memory runs out)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from tests.conftest import run_app

RUNNING = "in a separate process"


def _pids(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _worker_pids(jobs_dir) -> list[int]:
    """Workers running a job of this server: a cold one, or a spare that took a job (then its output,
    like a cold worker's, goes to the job's log), not a spare waiting for one."""
    found = []
    for pid in _pids("core.jobs.worker"):
        try:
            if os.readlink(f"/proc/{pid}/fd/1").startswith(str(jobs_dir)):
                found.append(pid)
        except OSError:
            pass
    return found


def _job_workers(jobs_dir, timeout: float = 30.0) -> list[int]:
    """The job's worker, once it has started (or been handed its job)."""
    deadline = time.monotonic() + timeout
    while not _worker_pids(jobs_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _worker_pids(jobs_dir)


def _spare_pids(jobs_dir) -> list[int]:
    return _pids(f"core.jobs.worker --warm {jobs_dir}")


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().replace(b"\0", b" ").decode()


def _start(page, *, epochs: str, rows: str) -> None:
    page.get_by_label("Epochs (early stopping may end sooner)").fill(epochs)
    page.get_by_label("Use at most this many rows (0 = all)").fill(rows)
    page.get_by_role("button", name="Train model").click()
    page.get_by_text(RUNNING).wait_for(timeout=60_000)


@pytest.mark.browser
def test_a_training_job_survives_navigation_and_reload_and_can_be_cancelled(browser, tmp_path, screenshot_dir):
    jobs_dir = tmp_path / "jobs"
    # The spare must still be waiting when the cancel step starts, however slow the steps before it are on a
    # loaded machine: its exit after an idle minute (STUDIO_WARM_IDLE_S) is tests/jobs/test_warm.py's, not this.
    with run_app(tmp_path, env={"STUDIO_JOBS_DIR": str(jobs_dir), "STUDIO_WARM_IDLE_S": "900"}) as url:
        a = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        a.set_default_timeout(60_000)
        a.goto(f"{url}/credit")
        a.get_by_text("Training options").wait_for(timeout=90_000)
        assert re.search(r"[?&]s=[A-Za-z0-9_-]{16,}", a.url), a.url  # the browser's key is in the address
        _start(a, epochs="3", rows="1500")
        assert _job_workers(jobs_dir), "the training runs in a worker process"
        a.get_by_text(re.compile(r"Epoch \d+ of 3")).or_(a.get_by_text("Model trained")).first.wait_for(timeout=120_000)
        a.screenshot(path=str(screenshot_dir / "job_running.png"))
        # Leave for the overview, come back: the job is still there (running or finished).
        a.get_by_role("link", name="Overview").first.click()
        a.get_by_role("button", name="Run all four demos").wait_for()
        a.get_by_role("link", name="Credit scoring").first.click()
        a.get_by_text(RUNNING).or_(a.get_by_text("Model trained")).first.wait_for(timeout=90_000)
        # A reload starts a new session: the address's key finds the job and its result.
        a.reload()
        a.get_by_text("Model trained").first.wait_for(timeout=240_000)
        a.get_by_text("Model trained").first.scroll_into_view_if_needed()
        a.screenshot(path=str(screenshot_dir / "job_after_reload.png"))

        # A second visitor sees none of it.
        b = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        b.goto(f"{url}/credit")
        b.get_by_text("Training options").wait_for(timeout=90_000)
        b.wait_for_timeout(2_000)
        assert b.get_by_text("Model trained").count() == 0 and b.get_by_text(RUNNING).count() == 0
        b.close()

        # Cancel: stopped within seconds, nothing kept, the model trained before stays. The first job
        # started the server's spare worker (Keras loaded, waiting): this one runs on it.
        assert _spare_pids(jobs_dir), "a spare worker waits for the next job"
        _start(a, epochs="400", rows="0")
        on = _job_workers(jobs_dir)
        assert on and all("--warm" in _cmdline(pid) for pid in on), [_cmdline(pid) for pid in on]
        started = time.monotonic()
        a.get_by_role("button", name="Cancel").click()
        a.get_by_text("The training was cancelled").wait_for(timeout=30_000)
        assert time.monotonic() - started < 30
        deadline = time.monotonic() + 10
        while _worker_pids(jobs_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _worker_pids(jobs_dir)
        assert a.get_by_text("Model trained").first.is_visible()

        # A worker killed by the system: the reason on the page, the session goes on.
        _start(a, epochs="400", rows="0")
        for pid in _job_workers(jobs_dir):
            os.kill(pid, signal.SIGKILL)
        a.get_by_text("stopped by the system (SIGKILL)").wait_for(timeout=60_000)
        a.get_by_text("stopped by the system (SIGKILL)").scroll_into_view_if_needed()
        a.screenshot(path=str(screenshot_dir / "job_crashed.png"))
        assert a.get_by_text("Model trained").first.is_visible()
        assert a.get_by_role("button", name="Train model").is_enabled()
    # The server stopped: its spare workers leave too (end of file on their stdin).
    deadline = time.monotonic() + 120
    while _spare_pids(jobs_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _spare_pids(jobs_dir)

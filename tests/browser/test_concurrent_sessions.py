"""Six analysts on one server at once: one app server, one Chromium, six browser contexts (separate
cookies and Streamlit sessions), each uploading its own small credit file and training at the same
time. Each sees only its own data and results (values unique to its upload), none errors, the
trainings beyond STUDIO_MAX_CONCURRENT_TRAININGS wait in a visible queue, and the server's peak
memory is recorded. bench/bench_load.py runs the same and prints the figures."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, run_app

SESSIONS = 6
LIMIT = 2
WAITING = "Waiting for a free training slot"


@dataclass
class Session:
    """One browser context: its upload's unique figures and what it saw."""

    index: int
    rows: int
    target: str
    file: Path
    page: object = None
    clicked: float = 0.0
    done: float | None = None
    saw_queue: bool = False
    waited: float | None = None
    trained_text: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def unique(self) -> list[str]:
        """Texts only this session's page may show."""
        test = math.ceil(self.rows * 0.25)  # the default test share, rounded up as scikit-learn does
        return [f"{self.rows:,} rows × 17 columns", f"{self.rows - test:,} training and {test:,} test applicants"]


def make_uploads(folder: Path, n: int = SESSIONS) -> list[Session]:
    """``n`` distinct small credit files: distinct row counts and a distinct outcome column name."""
    sample = pd.read_csv(ROOT / "sample_data" / "credit_applications.csv")
    out = []
    for i in range(n):
        rows = 240 + 37 * i
        target = f"default_branch{i + 1}"
        # The outcome column is found by its name ('default' in it); no other column may look like one.
        df = sample.sample(n=rows, random_state=100 + i).rename(
            columns={"default": target, "past_delinquencies": "past_arrears"})
        path = folder / f"applications_branch{i + 1}.csv"
        df.to_csv(path, index=False)
        out.append(Session(index=i, rows=rows, target=target, file=path))
    return out


class PeakMemory:
    """Peak resident memory of the app server process (and its children), sampled every 0.2 s."""

    def __init__(self, port: int):
        import psutil

        me = psutil.Process()
        self.proc = next(p for p in me.children(recursive=True)
                         if "streamlit" in " ".join(p.cmdline()) and str(port) in p.cmdline())
        self.start_mb = self._rss()
        self.peak_mb = self.start_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> float:
        procs = [self.proc, *self.proc.children(recursive=True)]
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except Exception:
                pass
        return total / 2**20

    def _run(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._rss())
            time.sleep(0.2)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(2)
        return self.peak_mb


def _body(page) -> str:
    try:
        return page.locator("body").inner_text(timeout=5_000)
    except Exception:
        return ""


def run_sessions(browser, workdir: Path, *, n: int = SESSIONS, limit: int = LIMIT, epochs: int = 2,
                 timeout: float = 300, shots: Path | None = None) -> dict:
    """Drive ``n`` sessions against one fresh server; return the figures (and the sessions). With
    ``shots``, the first page seen waiting in the queue and every page at the end are saved there."""
    sessions = make_uploads(workdir, n)
    env = {"STUDIO_MAX_CONCURRENT_TRAININGS": str(limit)}
    contexts = []
    with run_app(workdir, env=env) as url:
        memory = PeakMemory(int(url.rsplit(":", 1)[1]))
        try:
            for s in sessions:
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
                contexts.append(ctx)
                page = ctx.new_page()
                page.set_default_timeout(90_000)
                s.page = page
                page.goto(f"{url}/credit")
                page.get_by_text("Upload my file").click()
                page.locator("input[type=file]").set_input_files(str(s.file))
            for s in sessions:
                s.page.get_by_text(f"{s.rows:,} rows × 17 columns").wait_for(timeout=120_000)
                s.page.get_by_label("Epochs (early stopping may end sooner)").fill(str(epochs))
                s.page.get_by_label("Rows explained with SHAP").fill("50")
            # All "Train model" clicks within a second or two: the trainings overlap on the server.
            for s in sessions:
                s.page.get_by_role("button", name="Train model").click()
                s.clicked = time.monotonic()
            deadline = time.monotonic() + timeout
            while any(s.done is None for s in sessions) and time.monotonic() < deadline:
                for s in sessions:
                    if s.done is not None:
                        continue
                    text = _body(s.page)
                    if WAITING in text and not s.saw_queue and shots is not None and not any(
                            x.saw_queue for x in sessions):
                        s.page.screenshot(path=str(shots / "concurrent_waiting.png"))
                    s.saw_queue |= WAITING in text
                    if "Model trained:" in text:
                        s.done = time.monotonic()
                    if "Something went wrong" in text or "Traceback" in text:
                        s.errors.append(text[text.find("Something went wrong"):][:300])
                        s.done = time.monotonic()
                time.sleep(0.3)
            for s in sessions:
                text = _body(s.page)
                if shots is not None:
                    s.page.screenshot(path=str(shots / f"concurrent_session{s.index + 1}.png"))
                m = re.search(r"Model trained: [^\n]*", text)
                s.trained_text = m.group(0) if m else ""
                w = re.search(r"Waited (\d+) s for a training slot", text)
                s.waited = float(w.group(1)) if w else 0.0
                for other in sessions:
                    if other is not s:
                        for u in other.unique:
                            if u in text:
                                s.errors.append(f"shows another session's '{u}'")
                for u in s.unique:
                    if u not in text:
                        s.errors.append(f"does not show its own '{u}'")
                # The outcome column picked from this session's own file (a value in a select box).
                chosen = s.page.get_by_role("combobox", name="Outcome column (target)").input_value()
                if chosen != s.target:
                    s.errors.append(f"outcome column reads '{chosen}', expected '{s.target}'")
                if "Traceback" in text or "Something went wrong" in text:
                    s.errors.append("shows an error")
        finally:
            peak = memory.stop()
            for ctx in contexts:
                ctx.close()
    return {
        "sessions": n, "limit": limit, "server_start_mb": round(memory.start_mb), "server_peak_mb": round(peak),
        "all_trained": all(s.trained_text for s in sessions),
        "saw_queue": sum(s.saw_queue for s in sessions),
        "waited_s": [s.waited for s in sessions],
        "seconds_to_result": [None if s.done is None else round(s.done - s.clicked, 1) for s in sessions],
        "trained": [s.trained_text[:90] for s in sessions],
        "errors": {s.index + 1: s.errors for s in sessions if s.errors},
        "_sessions": sessions,
    }


@pytest.mark.browser
def test_six_sessions_train_at_once_each_sees_only_its_own(browser, tmp_path, screenshot_dir):
    figures = run_sessions(browser, tmp_path, shots=screenshot_dir)
    sessions = figures.pop("_sessions")
    print("\nconcurrent sessions:", json.dumps(figures))
    assert figures["errors"] == {}
    assert figures["all_trained"]
    for s in sessions:
        # The trained model's row counts come from this session's own upload (and no other's).
        assert s.unique[1] in s.trained_text, s.trained_text
    # With 2 slots and 6 simultaneous trainings, at least 3 had to wait, and said so on their page.
    assert figures["saw_queue"] >= 3, figures
    assert sum(w > 0 for w in figures["waited_s"]) >= 3, figures
    assert figures["server_peak_mb"] > figures["server_start_mb"]

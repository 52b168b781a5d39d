"""Kill-a-process trials shared by the fault tests (a few seeded trials) and bench/bench_faults.py
(50 per kind): start a process that trains, saves or scores, SIGKILL it at a random point, then
check what is on disk: no partial run, no partial output file, and the runs listing still loads."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "credit_applications.csv"


@dataclass
class TrialCounts:
    """Outcomes of one kind of trial: the file or run complete, absent, or (never) partial."""

    kind: str
    trials: int = 0
    killed: int = 0  # the kill landed before the process ended by itself
    complete: int = 0
    absent: int = 0
    partial: int = 0
    listing_failed: int = 0
    failed: int = 0  # ended by itself with an error (not a kill): a broken command, not a fault trial
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.partial == 0 and self.listing_failed == 0 and self.failed == 0 and not self.problems

    def row(self) -> dict:
        return {"kind": self.kind, "trials": self.trials, "killed": self.killed, "complete": self.complete,
                "absent": self.absent, "partial": self.partial, "listing_failed": self.listing_failed,
                "failed": self.failed}

    def record(self, killed: bool, code: int | None, err: str) -> None:
        """One trial's process: killed by the trial, ended cleanly, or failed on its own."""
        self.trials += 1
        self.killed += killed
        if not killed and code != 0:
            self.failed += 1
            self.problems.append(f"ended by itself with exit code {code}: {err[-300:]}")


def write_credit_file(path: Path, rows: int, *, seed: int = 0) -> Path:
    """``rows`` applications drawn (seeded, with replacement) from the bundled credit sample."""
    import pandas as pd

    df = pd.read_csv(SAMPLE)
    df.sample(n=rows, replace=rows > len(df), random_state=seed).to_csv(path, index=False)
    return path


def env() -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "-1"}


LAST = {"code": None, "err": ""}


def run_and_kill(cmd: list[str], *, delay: float, ready: Callable[[], bool] | None = None,
                 timeout: float = 300, cwd: Path = ROOT) -> tuple[bool, float]:
    """Start ``cmd``; once ``ready()`` is true (at once without it) wait ``delay`` seconds and SIGKILL
    it. Returns (killed before it ended by itself, seconds it ran after ``ready``); the exit code and
    the end of standard error are left in ``LAST``."""
    import tempfile

    t0 = time.monotonic()
    errfile = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=errfile)
    try:
        while ready is not None and not ready():
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                break
            time.sleep(0.002)
        t_ready = time.monotonic()
        end = t_ready + delay
        while time.monotonic() < end and proc.poll() is None:
            time.sleep(0.002)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        errfile.seek(0)
        LAST.update(code=proc.returncode, err=errfile.read()[-2000:].decode("utf-8", "replace"))
        return killed, time.monotonic() - t_ready
    finally:
        if proc.poll() is None:
            proc.kill()
        errfile.close()


def measure_window(cmd: list[str], ready: Callable[[], bool], finished: Callable[[], bool], *,
                   timeout: float = 900, cwd: Path = ROOT) -> float:
    """Seconds from ``ready()`` to ``finished()`` in one uninterrupted run of ``cmd`` (e.g. from the
    hidden save folder appearing to the run folder renamed into place)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    t_ready = t_done = None
    try:
        while proc.poll() is None and time.monotonic() - t0 < timeout:
            now = time.monotonic()
            if t_ready is None and ready():
                t_ready = now
            if t_ready is not None and finished():
                t_done = now
                break
            time.sleep(0.001)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    if t_ready is None or t_done is None:
        raise RuntimeError(f"could not measure the window of {cmd}")
    return max(t_done - t_ready, 0.01)


def check_runs(root: Path, run_id: str, counts: TrialCounts) -> None:
    """The runs listing loads, lists no damaged run, and ``run_id`` is complete or absent."""
    from core.store.registry import check_run_folder, list_runs

    try:
        runs, skipped = list_runs(root)
    except Exception as exc:  # the listing itself must never fail
        counts.listing_failed += 1
        counts.problems.append(f"listing failed: {exc!r}")
        return
    visible = [p.name for p in root.iterdir() if not p.name.startswith(".")] if root.exists() else []
    if skipped:
        counts.partial += 1
        counts.problems.append(f"{run_id}: skipped {skipped}")
    elif run_id in visible:
        problem = check_run_folder(root / run_id, verify_hashes=True)
        if problem is None and any(r["run_id"] == run_id for r in runs):
            counts.complete += 1
        else:
            counts.partial += 1
            counts.problems.append(f"{run_id}: {problem}")
    else:
        counts.absent += 1


def check_output(out: Path, rows: int, counts: TrialCounts) -> None:
    """``out`` is absent or holds every scored row; no other visible file beside it."""
    import pandas as pd

    visible = sorted(p.name for p in out.parent.iterdir() if not p.name.startswith(".") and p != out
                     and p.suffix == out.suffix)
    if visible:
        counts.partial += 1
        counts.problems.append(f"visible partial files: {visible}")
    if not out.exists():
        counts.absent += 1
        return
    try:
        got = len(pd.read_csv(out))
    except Exception as exc:
        got = f"unreadable ({exc!r})"
    if got == rows:
        counts.complete += 1
    else:
        counts.partial += 1
        counts.problems.append(f"{out.name}: {got} rows, expected {rows}")


# ------------------------------------------------------------------ light trials (no TensorFlow)
SAVE_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from core.store import registry

    class Model:
        # Writes a model file of a few MB in pieces, flushing each, like a real model's weights.
        def save(self, path):
            with open(path, "wb") as fh:
                for _ in range(40):
                    fh.write(os.urandom(100_000))
                    fh.flush()
                    time.sleep(0.005)

    registry.save_run(sys.argv[1], model=Model(), metadata={"scenario": "", "note": "x" * 100_000},
                      files={"history.parquet": os.urandom(500_000), "rows.npy": os.urandom(200_000)},
                      run_id=sys.argv[2])
""")

SCORE_SCRIPT = textwrap.dedent("""
    import sys
    import pandas as pd
    from core.workspace.stream import stream_score

    def score(part):
        out = part.copy()
        out["probability"] = (part["annual_income"].rank(pct=True) * 0.9).round(4)
        return out

    stream_score({}, sys.argv[1], sys.argv[2], score, chunk_size=int(sys.argv[3]))
""")


def save_trials(work: Path, n: int, *, seed: int = 0) -> TrialCounts:
    """``n`` processes killed at random points of ``core.store.registry.save_run`` (a stub model file of 4 MB)."""
    rng = random.Random(seed)
    counts = TrialCounts("save (registry, stub model)")
    root = work / "runs"

    def saving(run_id):
        return lambda: root.exists() and any(p.name.startswith(f".{run_id}.") for p in root.iterdir())

    # One save run to its end measures how long a save takes on this machine now.
    calib = work / "calibration"
    _, span = run_and_kill([sys.executable, "-c", SAVE_SCRIPT, str(calib), "c"], delay=600,
                           ready=lambda: calib.exists() and any(calib.iterdir()))
    for i in range(n):
        run_id = f"run-{i}"
        killed, _ = run_and_kill([sys.executable, "-c", SAVE_SCRIPT, str(root), run_id],
                                 delay=rng.uniform(0.0, span), ready=saving(run_id))
        counts.record(killed, LAST["code"], LAST["err"])
        check_runs(root, run_id, counts)
    return counts


def score_trials(work: Path, n: int, *, seed: int = 0, rows: int = 30_000, chunk: int = 2_000) -> TrialCounts:
    """``n`` processes killed at random points of the chunked scoring loop (``stream_score``)."""
    rng = random.Random(seed)
    counts = TrialCounts("scoring (stream loop, stub scorer)")
    data = write_credit_file(work / "to_score.csv", rows, seed=seed)
    (work / "calibration").mkdir(exist_ok=True)
    _, span = run_and_kill([sys.executable, "-c", SCORE_SCRIPT, str(data), str(work / "calibration" / "s.csv"),
                            str(chunk)], delay=600)
    for i in range(n):
        out_dir = work / f"out-{i}"
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / "scored.csv"
        killed, took = run_and_kill([sys.executable, "-c", SCORE_SCRIPT, str(data), str(out), str(chunk)],
                                    delay=rng.uniform(0.0, span))
        if not killed and LAST["code"] == 0:
            span = took  # the machine got faster: draw the next kill points over the new length
        counts.record(killed, LAST["code"], LAST["err"])
        check_output(out, rows, counts)
    return counts


# ------------------------------------------------------------------ real command-line trials
def cli_train_cmd(data: Path, save: Path, *, epochs: int = 3) -> list[str]:
    return [sys.executable, "-m", "core", "train", "--scenario", "credit", "--data", str(data), "--epochs",
            str(epochs), "--no-explain", "--save", str(save), "--json"]


def cli_train_trials(work: Path, n: int, *, seed: int = 0, rows: int = 400, span: float | None = None,
                     during_save: bool = False) -> TrialCounts:
    """``n`` real ``python -m core train ... --save`` processes killed at random points: uniformly over
    the process's life (``span`` seconds, measured by one full run when not given), or with
    ``during_save`` at a random point after the hidden save folder appears."""
    rng = random.Random(seed)
    counts = TrialCounts("save (CLI, real model)" if during_save else "training (CLI)")
    data = write_credit_file(work / "train.csv", rows, seed=seed)
    root = work / "runs"
    def saving(run_id):
        return lambda: root.exists() and any(p.name.startswith(f".{run_id}.") for p in root.iterdir())

    if span is None and during_save:
        # One run measures its save: from the hidden folder appearing to the run renamed into place.
        span = measure_window(cli_train_cmd(data, root / "calibration"), saving("calibration"),
                              lambda: (root / "calibration").exists())
    elif span is None:
        # One run to its end: how long the whole command takes on this machine now.
        _, span = run_and_kill(cli_train_cmd(data, root / "calibration"), delay=900)
    for i in range(n):
        run_id = f"train-{i}"
        killed, took = run_and_kill(cli_train_cmd(data, root / run_id), delay=rng.uniform(0.0, span * 1.05),
                                    ready=saving(run_id) if during_save else None)
        if not killed and LAST["code"] == 0 and not during_save:
            span = took  # the machine got faster: draw the next kill points over the new length
        counts.record(killed, LAST["code"], LAST["err"])
        check_runs(root, run_id, counts)
    return counts


def cli_score_trials(work: Path, n: int, *, seed: int = 0, rows: int = 20_000, span: float | None = None) -> TrialCounts:
    """``n`` real ``python -m core score`` processes killed uniformly over their life."""
    rng = random.Random(seed)
    counts = TrialCounts("scoring (CLI)")
    model = work / "runs" / "model-for-scoring"
    if not model.exists():
        subprocess.run(cli_train_cmd(write_credit_file(work / "train.csv", 400, seed=seed), model), cwd=ROOT,
                       env=env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = write_credit_file(work / "score.csv", rows, seed=seed + 1)

    def cmd(out):
        return [sys.executable, "-m", "core", "score", "--model", str(model), "--data", str(data), "--out", str(out),
                "--chunk-size", "2000", "--quiet", "--json"]

    if span is None:
        (work / "calib").mkdir(exist_ok=True)
        t0 = time.monotonic()
        subprocess.run(cmd(work / "calib" / "scored.csv"), cwd=ROOT, env=env(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        span = time.monotonic() - t0
    for i in range(n):
        out_dir = work / f"score-{i}"
        out_dir.mkdir(parents=True, exist_ok=True)
        killed, took = run_and_kill(cmd(out_dir / "scored.csv"), delay=rng.uniform(0.0, span * 1.05))
        if not killed and LAST["code"] == 0:
            span = took
        counts.record(killed, LAST["code"], LAST["err"])
        check_output(out_dir / "scored.csv", rows, counts)
    return counts

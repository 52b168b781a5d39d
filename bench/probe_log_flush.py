"""The HTTP service's buffered prediction log: how long one flush holds Python's interpreter lock at a time.

    python bench/probe_log_flush.py                      # 300 one-row credit requests, 5 flushes
    python bench/probe_log_flush.py --requests 2000 --repeats 3 --where

A request that arrives while the service's flusher thread builds and writes the log waits for the interpreter
lock until the flusher lets go of it: the longest such hold is what a flush adds to one-row latency. This probe
measures it in one process: it saves a credit run (metadata only: the log needs no model) with the bundled
applications' columns, answers ``--requests`` one-row requests through ``ServedLog`` with the service's default
buffered log (made-up predictions with the service's columns: the log reads the score and the decision; after
a warm-up flush, start-up's objects are frozen out of the garbage collector's reach as the service freezes
them), then flushes them, and reports:

- the longest stretch of the flusher's own CPU time between two of its pauses (``LogBuffer.pause``, where it
  lets go of the lock): an upper bound on its longest hold that the machine's load hardly changes (thread CPU
  time; code inside a stretch that releases the lock itself, such as the Parquet write, only shortens a hold);
- a ticker thread that wakes every 0.2 ms: the flusher's CPU time within each gap between its wake-ups (the
  hold it waited for) and the gaps themselves (wall time: on a loaded machine these include waiting for a
  core);
- the garbage collector's longest pause during the flush (any thread's: a full pass lands on whichever thread
  allocates).

``--where`` prints where the longest stretches began and what the flusher was doing when the ticker's longest
waits ended. ``--code DIR`` measures another checkout's code with this probe (e.g. the main branch's, to
compare). Prints markdown tables with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_credit_run(root: Path) -> tuple[Path, "object"]:
    """A saved credit run with the bundled applications' columns (no model), and those applications."""
    import pandas as pd

    from core.store.registry import save_run

    data = pd.read_csv(ROOT / "sample_data" / "credit_applications.csv")
    features = [c for c in data.columns if c not in ("applicant_id", "default")]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(data[c])]
    categorical = [c for c in features if c not in numeric]
    meta = {"scenario": "credit", "credit": {"target": "default", "positive": "1", "numeric": numeric,
                                             "categorical": categorical, "sensitive": [], "threshold": 0.3},
            "workspace": {"scenario": "credit", "input": {"columns": features, "numeric": numeric,
                                                          "categorical": categorical, "kind": "table",
                                                          "target": "default", "positive": "1"}}}
    return save_run(root, model=None, metadata=meta, run_id="credit-probe"), data.drop(columns="default")


def answers(rows):
    """Made-up predictions with the service's credit columns (probability, decision, points, grade, reasons)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(len(rows))
    p = rng.random(len(rows))
    out = pd.DataFrame({"probability_of_default": p, "decision": np.where(p >= 0.3, "decline", "approve"),
                        "score_points": (600 - 50 * np.log(p / (1 - p))).round(), "grade": "C"})
    for k in range(1, 5):
        out[f"reason_{k}"] = np.where(p >= 0.3, f"debt_to_income is high ({k})", "")
    return out


class Ticker(threading.Thread):
    """Wakes every ``step`` seconds and keeps the gaps between wake-ups (and, with ``watch``, what that thread
    was doing when the longest ones ended)."""

    def __init__(self, step: float = 0.0002, watch: int | None = None):
        super().__init__(daemon=True)
        self.step, self.watch = step, watch
        self.gaps: list[float] = []
        self.held: list[float] = []  # the watched thread's CPU seconds within each gap
        self.clock: int | None = None  # the watched thread's CPU clock
        self.where: list[tuple[float, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        last, cpu = time.perf_counter(), None
        while not self.stop.is_set():
            time.sleep(self.step)
            now = time.perf_counter()
            gap = now - last - self.step
            self.gaps.append(gap)
            held = 0.0
            if self.clock is not None:
                with contextlib.suppress(OSError):  # the watched thread ended
                    used = time.clock_gettime(self.clock)
                    held = 0.0 if cpu is None else used - cpu
                    self.held.append(held)
                    cpu = used
            if self.watch is not None and held > 0.0015:
                frame = sys._current_frames().get(self.watch)
                if frame is not None:
                    stack = [f"{Path(f.filename).name}:{f.name}" for f in traceback.extract_stack(frame)[-6:]]
                    self.where.append((held, " < ".join(reversed(stack))))
            last = time.perf_counter()


def one_flush(served, run: Path, data, n: int, *, where: bool) -> dict:
    import gc

    import numpy as np

    for i in range(n):
        row = data.iloc[[i % len(data)]].reset_index(drop=True)
        if i % 2:  # half the requests send their own id, half get a generated one
            row = row.drop(columns="applicant_id")
        served.record(run, row, answers(row))
    result: dict = {}
    marks: list[float] = []  # the flusher's CPU clock at its start, at each pause and at its end
    pause = served.buffer.__class__.pause.__get__(served.buffer)

    places = ["the flush's start"]  # where each stretch between pauses began

    def timed_pause():
        marks.append(time.thread_time())
        pause()
        marks.append(time.thread_time())
        caller = sys._getframe(1)
        while caller.f_code.co_name == "pause":  # ServedLog.pause hands on to the buffer's
            caller = caller.f_back
        places.append(f"{Path(caller.f_code.co_filename).name}:{caller.f_code.co_name}:{caller.f_lineno}")

    served.buffer.pause = timed_pause  # the writer's pause between slices, clocked

    def flush():
        t0 = time.thread_time()
        marks.append(t0)
        result["rows"] = served.flush()
        marks.append(time.thread_time())
        result["cpu"] = marks[-1] - t0

    collections: list[float] = []  # the garbage collector's pauses during the flush (any thread's)

    def collected(phase, info):
        if phase == "start":
            collections.append(time.perf_counter())
        else:
            collections[-1] = time.perf_counter() - collections[-1]

    gc.callbacks.append(collected)
    flusher = threading.Thread(target=flush)
    ticker = Ticker()
    ticker.start()
    time.sleep(0.05)
    flusher.start()
    ticker.clock = time.pthread_getcpuclockid(flusher.ident)
    ticker.watch = flusher.ident if where else None
    t0 = time.perf_counter()
    flusher.join()
    wall = time.perf_counter() - t0
    ticker.stop.set()
    ticker.join()
    gc.callbacks.remove(collected)
    gaps = np.array(ticker.gaps) * 1000
    held = np.array(ticker.held or [0.0]) * 1000
    stretches = (np.array(marks[1::2]) - np.array(marks[0::2])) * 1000  # CPU between pauses
    longest = int(stretches.argmax())
    top = sorted(zip(stretches.tolist(), places), reverse=True)[:6]
    return {"top": top, "gc_ms": 1000 * max(collections, default=0.0), "stretch_ms": float(stretches.max()), "stretch_from": places[longest], "pauses": len(marks) // 2 - 1,
            "held_ms": float(held.max()), "held2": int((held > 2).sum()),
            "rows": result["rows"], "cpu_ms": result["cpu"] * 1000, "wall_ms": wall * 1000,
            "max_ms": float(gaps.max()), "p99_ms": float(np.percentile(gaps, 99)),
            "over2": int((gaps > 2).sum()), "where": sorted(ticker.where, reverse=True)[:5]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=300, help="one-row requests buffered before each flush")
    ap.add_argument("--repeats", type=int, default=5, help="flushes measured (each of fresh requests)")
    ap.add_argument("--where", action="store_true", help="print what the flusher did at the end of long holds")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code is measured (default: this "
                                                                "one; e.g. another branch's worktree to compare)")
    ap.add_argument("--no-gc-freeze", action="store_true", help="leave out the service's gc.freeze() after the "
                                                                    "warm-up (core.server.process)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    with tempfile.TemporaryDirectory() as tmp:
        run, data = make_credit_run(Path(tmp) / "runs")
        from core.monitor.hooks import ServedLog

        served = ServedLog(flush_seconds=3600)  # as the service's, but the probe flushes (never its thread)
        served.buffer.max_rows = served.buffer.hold_rows = args.requests + 1  # (not even a full buffer)
        one_flush(served, run, data, args.requests, where=False)  # warm-up: imports, the day folder, retention
        if not args.no_gc_freeze:  # as the service does once its models are loaded
            from core.server.process import freeze_startup_objects

            freeze_startup_objects()
        print(f"Flush of {args.requests} buffered one-row credit requests, code of {args.code.resolve()} "
              f"(Python's switch interval {sys.getswitchinterval() * 1000:g} ms)\n")
        print("| flush | rows | flusher CPU ms | pauses | longest CPU between pauses ms | wall ms | "
              "longest gap, flusher CPU ms | gaps > 2 ms CPU | longest gap ms | p99 gap ms | gaps > 2 ms | "
              "longest GC ms | load |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        worst, starts, tops = [], [], []
        for k in range(args.repeats):
            r = one_flush(served, run, data, args.requests, where=args.where)
            worst += r["where"]
            tops += r["top"]
            starts.append(f"{r['stretch_ms']:.2f} ms after {r['stretch_from']}")
            print(f"| {k + 1} | {r['rows']} | {r['cpu_ms']:.1f} | {r['pauses']} | {r['stretch_ms']:.2f} | "
                  f"{r['wall_ms']:.1f} | {r['held_ms']:.2f} | "
                  f"{r['held2']} | "
                  f"{r['max_ms']:.2f} | "
                  f"{r['p99_ms']:.2f} | {r['over2']} | {r['gc_ms']:.2f} | "
                  f"{os.getloadavg()[0]:.2f} |")
        print("\nThe longest stretch between pauses of each flush began at:", "; ".join(starts))
        if args.where:
            print("\nLongest stretches between pauses (flusher CPU), and where each began:")
            for ms, place in sorted(tops, reverse=True)[:12]:
                print(f"- {ms:.2f} ms after {place}")
            print("\nLongest gaps by the flusher's CPU in them, and where it was when each ended (innermost first):")
            for gap, stack in sorted(worst, reverse=True)[:10]:
                print(f"- {gap * 1000:.2f} ms: {stack}")
        served.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

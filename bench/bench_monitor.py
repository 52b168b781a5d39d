"""Prediction-log benchmark: what appending costs each door, and what the monitor costs to read.

    python bench/bench_monitor.py                      # 100k and 1M logged rows
    python bench/bench_monitor.py --sizes 100000 --requests 500

Uses a credit run whose "model" is a known function (``tests/monitor/helpers.py``: no TensorFlow,
so only the log is measured):

- appends: ``--requests`` one-row appends (what the HTTP service does per request) from each of two
  processes at once, and 50,000-row appends (a CLI chunk); CPU seconds per append, from each
  process's own ``getrusage``;
- reading: ``compute_monitor`` by week over many one-row files, before and after compaction (the
  monitor merges closed days' files), and over 100k / 1M rows logged in 50,000-row appends across
  12 weeks with outcomes for half of them. Each reading runs in a fresh process (CPU seconds and
  peak memory are its own).

Prints a markdown table with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _appends(run: str, worker: int, n: int) -> None:
    """Child: ``n`` one-row appends; prints CPU seconds per append."""
    from tests.monitor.helpers import applications, log_batch

    frames = [applications(1, seed=worker * 100_000 + i) for i in range(n)]
    for i, df in enumerate(frames):
        df["applicant_id"] = [f"w{worker}-{i}"]
    t0 = _cpu()
    for df in frames:
        log_batch(run, df, source="api")
    print(json.dumps({"cpu_per_append": (_cpu() - t0) / n}))


def _fill(run: str, rows: int) -> None:
    """Child: ``rows`` rows in 50,000-row appends over 12 weeks, outcomes for half; prints CPU per append."""
    from core.monitor.feedback import read_outcomes_file, record_feedback
    from tests.monitor.helpers import applications, log_batch

    t_cpu, n = 0.0, 0
    for i, start in enumerate(range(0, rows, 50_000)):
        df = applications(min(50_000, rows - start), seed=10 + i, start="2024-03-04", days=84)
        df["applicant_id"] = [f"b{i}-{j}" for j in range(len(df))]
        t0 = _cpu()
        log_batch(run, df)
        t_cpu += _cpu() - t0
        n += 1
        record_feedback(run, read_outcomes_file(run, df.iloc[: len(df) // 2]))
    print(json.dumps({"cpu_per_append": t_cpu / max(n, 1)}))


def _read(run: str) -> None:
    """Child: the monitor by week; prints wall and CPU seconds and peak memory."""
    from core.monitor.report import compute_monitor

    t0, c0 = time.perf_counter(), _cpu()
    report = compute_monitor(run, by="week")
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": _cpu() - c0,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rows": sum(p.rows for p in report.periods), "periods": len(report.periods)}))


def _child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _files(run: Path) -> int:
    from core.monitor.store import list_parts

    return len(list_parts(run, "predictions"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--requests", type=int, default=500, help="one-row appends per process")
    p.add_argument("--child", nargs="*")
    args = p.parse_args()
    if args.child:
        kind, *rest = args.child
        {"appends": lambda: _appends(rest[0], int(rest[1]), int(rest[2])), "fill": lambda: _fill(rest[0], int(rest[1])),
         "read": lambda: _read(rest[0])}[kind]()
        return
    from tests.monitor.helpers import make_run

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        run = make_run(Path(tmp) / "runs", name="requests")
        procs = [subprocess.Popen([sys.executable, __file__, "--child", "appends", str(run), str(w), str(args.requests)],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT) for w in range(2)]
        per = [json.loads(pr.communicate()[0].strip().splitlines()[-1])["cpu_per_append"] for pr in procs]
        n_files = _files(run)
        before = _child("read", run)
        # The files were written today; compaction merges closed days, so read as if tomorrow had come.
        import datetime as dt

        from core.monitor.store import compact

        compact(run, today=dt.date.today() + dt.timedelta(days=2))
        after = _child("read", run)
        rows.append((f"{2 * args.requests:,} one-row appends from 2 processes", f"{1000 * sum(per) / len(per):.1f} ms",
                     f"{n_files:,} files: {before['cpu']:.2f} s CPU ({before['wall']:.2f} s wall)",
                     f"1 file after compaction: {after['cpu']:.2f} s CPU ({after['wall']:.2f} s wall)",
                     f"{before['peak_mb']:.0f} MB"))
        for size in [int(s) for s in args.sizes.split(",") if s]:
            run = make_run(Path(tmp) / "runs", name=f"rows-{size}")
            fill = _child("fill", run, size)
            read = _child("read", run)
            rows.append((f"{size:,} rows in 50,000-row appends, half labelled", f"{fill['cpu_per_append']:.2f} s",
                         f"{_files(run):,} files, {read['periods']} weeks: {read['cpu']:.2f} s CPU "
                         f"({read['wall']:.2f} s wall)", "", f"{read['peak_mb']:.0f} MB"))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| log | CPU per append | monitor by week | after compaction | peak memory (monitor) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()

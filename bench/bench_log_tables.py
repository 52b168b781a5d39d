"""What a buffered one-row request's tables cost while they wait for the prediction log's flush.

    python bench/bench_log_tables.py                 # 2,000 one-row credit requests

Builds ``--requests`` one-row credit requests as the service does (a frame from each JSON record of the
bundled next month, and an answer frame with the credit answer's columns) and keeps them the way the log
buffer used to (two DataFrames a request) and the way it does now (``core.monitor.columns.Columns``): the memory
they hold (tracemalloc), the objects the garbage collector tracks for them, one full collection's CPU with
them held, the CPU of taking the values out of the frames, and of joining the kept tables into one frame
(``pd.concat`` of the frames against ``core.monitor.columns.join``; the two frames are checked equal). Prints a
markdown table with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    import numpy as np
    import pandas as pd

    from core.monitor.columns import Columns, join

    rows = pd.read_csv(ROOT / "sample_data" / "credit_new_month.csv")
    records = json.loads(rows.to_json(orient="records"))
    records = (records * (args.requests // len(records) + 1))[:args.requests]  # the month's rows, again if needed

    def request(r):
        answer = pd.DataFrame({"probability_of_default": np.array([0.1]), "score_points": np.array([600]),
                               "grade": np.array(["B"]), "decision": np.array(["approve"]),
                               **{f"reason_{k}": [""] for k in range(1, 5)}})
        return pd.DataFrame([r]), answer

    print(f"| {len(records):,} one-row requests kept as | memory held | tracked objects | one full collection, CPU | "
          "taking the values out (tracemalloc off), CPU / request | joining the inputs, CPU | load |")
    print("|---|---|---|---|---|---|---|")
    for mode in ("two DataFrames (before)", "Columns (now)"):
        gc.collect()
        before = len(gc.get_objects())
        tracemalloc.start()
        kept = [request(r) for r in records]
        if mode.startswith("Columns"):
            kept = [(Columns.of(a), Columns.of(b)) for a, b in kept]
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        gc.collect()
        tracked = len(gc.get_objects()) - before
        t = time.process_time()
        gc.collect()
        full = (time.process_time() - t) * 1000
        t = time.process_time()
        joined = (join([a for a, _ in kept]) if mode.startswith("Columns")
                  else pd.concat([a for a, _ in kept], ignore_index=True))
        joining = (time.process_time() - t) * 1000
        out = 0.0
        if mode.startswith("Columns"):
            frames = [request(r) for r in records]
            t = time.process_time()
            for a, b in frames:
                Columns.of(a), Columns.of(b)
            out = (time.process_time() - t) / len(frames) * 1000
            pd.testing.assert_frame_equal(joined, pd.concat([a for a, _ in frames], ignore_index=True), check_exact=True)
            del frames
        shown = f"{out:.2f} ms" if out else "-"
        print(f"| {mode} | {held / 1e6:.1f} MB | {tracked:,} | {full:.0f} ms | {shown} | {joining:.0f} ms | "
              f"{os.getloadavg()[0]:.1f} |")
        del kept, joined


if __name__ == "__main__":
    main()

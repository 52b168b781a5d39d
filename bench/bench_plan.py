"""Memory of planning a large CSV's blocks for ``--engine dask``, against holding every row's offset.

    python bench/bench_plan.py [--rows 10000000] [--chunk-size 50000]

Writes a card-transaction-like CSV of --rows rows (seeded) to a temporary folder, then in the same
process measures, with tracemalloc (numpy reports its arrays to it), the peak memory and the time of

- baseline: ``core.scale.inputs.record_starts`` — every record's byte offset, what the planner held
  before it kept only each block's first offset;
- planner: ``core.scale.inputs.plan_blocks`` as ``python -m core score --engine dask`` calls it.

Both give the same blocks (checked). Prints a markdown row with the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT\n")
        for lo in range(0, rows, 500_000):
            k = min(500_000, rows - lo)
            amount = rng.gamma(2.0, 30.0, k)
            cust, term = rng.integers(0, 5000, k), rng.integers(0, 10000, k)
            fh.write("\n".join(f"{lo + i},2018-04-01 00:00:{i % 60:02d},{c},{t},{a:.2f}"
                               for i, (c, t, a) in enumerate(zip(cust, term, amount))) + "\n")


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--chunk-size", type=int, default=50_000)
    args = ap.parse_args(argv)
    from core.scale.inputs import plan_blocks, record_starts

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "transactions.csv"
        write_csv(path, args.rows)
        size_mb = os.path.getsize(path) / 1e6
        starts, t_base, m_base = measure(lambda: record_starts(path))
        blocks, t_plan, m_plan = measure(lambda: list(plan_blocks([path], chunk_size=args.chunk_size)))
        edges = [b.start for b in blocks] + [blocks[-1].stop]
        expected = list(np.r_[starts[1:-1][::args.chunk_size], starts[-1]])
        assert edges == [int(x) for x in expected], "the planner's blocks differ from every-offset planning"
    print(f"{args.rows:,} rows, {size_mb:,.0f} MB of CSV, {len(blocks)} blocks of {args.chunk_size:,} rows, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| planning | peak memory (MB) | seconds |\n|---|---|---|")
    print(f"| every row's offset (baseline) | {m_base:,.0f} | {t_base:.1f} |")
    print(f"| each block's first offset (plan_blocks) | {m_plan:,.0f} | {t_plan:.1f} |")
    print(f"| baseline / planner | {m_base / m_plan:,.1f} | {t_base / t_plan:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

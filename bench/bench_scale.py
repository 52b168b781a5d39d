"""Scaling-out benchmark: credit applications and card transactions scored by one process and by
Dask clusters of 1, 2 and 4 workers, in the same run.

    python bench/bench_scale.py                         # 10,000,000 rows of each (hours on 2 cores)
    python bench/bench_scale.py --rows 200000 --workers 1,2 --scenarios credit,fraud

A small credit and fraud model are trained on the bundled samples (2 epochs: their quality does not
matter here). The scored files are generated from the samples: credit rows drawn with replacement
(seeded), and the fraud log repeated back to back with its timestamps moved on by the log's span
each time, so it stays in time order and every card keeps a past. Each is scored:

- local: ``python -m core score`` as shipped (chunks of --chunk-size rows, one process), its peak
  memory the process's own (``ru_maxrss``);
- dask, W workers: a LocalCluster of W single-threaded worker processes on 127.0.0.1, started
  fresh for each W, then ``python -m core score --engine dask --scheduler ...`` is timed (so
  TensorFlow's import and the model load in every worker are in the time); peak memory per worker
  is the largest ``ru_maxrss`` of the workers, and the client's is given too.

Credit is scored without SHAP reason codes (``--no-reasons``): the benchmark measures the engine,
and reasons for every declined applicant would dominate both columns alike. Every Dask output is
checked against the local one (same rows, same values). Prints a markdown table with the load
average (``uptime``) of the machine at each row.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SAMPLES = ROOT / "sample_data"


def _child(args: list[str]) -> None:
    """Run the CLI in this process and print its peak memory on the last line of standard error."""
    from core.cli import main as cli_main

    code = cli_main(args)
    print(f"PEAK_MB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", file=sys.stderr)
    raise SystemExit(code)


def _cli(*args) -> dict:
    """``python -m core ...`` in a fresh process: its JSON, seconds and peak memory (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"python -m core {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    peak = float(proc.stderr.strip().splitlines()[-1].split("=", 1)[1])
    return {"json": json.loads(proc.stdout.strip().splitlines()[-1]), "seconds": seconds, "peak_mb": peak}


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def train_models(work: Path) -> dict[str, str]:
    credit = _cli("train", "--scenario", "credit", "--data", str(SAMPLES / "credit_applications.csv"), "--epochs", "2",
                  "--no-explain", "--save", str(work / "credit_run"))
    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    small = work / "fraud_train.csv.gz"
    df[df["customer_id"] < "C000250"].to_csv(small, index=False)
    fraud = _cli("train", "--scenario", "fraud", "--data", str(small), "--epochs", "2", "--no-explain",
                 "--train-start", "2024-04-01", "--test-start", "2024-04-22", "--gap-days", "7",
                 "--save", str(work / "fraud_run"))
    return {"credit": credit["json"]["saved_to"], "fraud": fraud["json"]["saved_to"]}


def make_credit(path: Path, rows: int, *, seed: int = 0, block: int = 500_000) -> None:
    """``rows`` applicants drawn with replacement from the sample, written block by block."""
    base = pd.read_csv(SAMPLES / "credit_applications.csv").drop(columns="default")
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as fh:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            part = base.iloc[rng.integers(0, len(base), n)].copy()
            part["applicant_id"] = [f"A{start + i:09d}" for i in range(n)]
            part.to_csv(fh, header=start == 0, index=False)


def make_fraud(path: Path, rows: int) -> None:
    """``rows`` transactions: the sample log repeated, each copy moved on by the log's span."""
    base = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz").drop(columns="is_fraud")
    t = pd.to_datetime(base["timestamp"])
    span = (t.max() - t.min()).ceil("D") + pd.Timedelta(days=1)
    with open(path, "w", newline="") as fh:
        written, k = 0, 0
        while written < rows:
            n = min(len(base), rows - written)
            part = base.iloc[:n].copy()
            part["timestamp"] = (t.iloc[:n] + k * span).dt.strftime("%Y-%m-%d %H:%M:%S")
            part["transaction_id"] = [f"T{written + i:010d}" for i in range(n)]
            part.to_csv(fh, header=written == 0, index=False)
            written, k = written + n, k + 1


def run_dask(model: str, data: Path, out: Path, workers: int, chunk: int, extra: list[str]) -> dict:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    client = Client(cluster, set_as_default=False)
    try:
        res = _cli("score", "--model", model, "--data", str(data), "--out", str(out), "--engine", "dask",
                   "--scheduler", cluster.scheduler_address, "--chunk-size", str(chunk), "--quiet", *extra)
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        res["worker_peak_mb"] = max(peaks.values())
    finally:
        client.close()
        cluster.close()
    return res


def same_rows(local: Path, dask: Path) -> bool:
    """Byte for byte, 1 MB at a time: this process stays small, and the worker and client processes
    started after it (whose peak memory Linux counts from their parent's) are measured, not it."""
    if local.stat().st_size != dask.stat().st_size:
        return False
    with open(local, "rb") as a, open(dask, "rb") as b:
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--scenarios", default="credit,fraud")
    ap.add_argument("--chunk-size", type=int, default=50_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated files and outputs")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    models = train_models(work)
    rows_out = []
    for scenario in [s.strip() for s in a.scenarios.split(",")]:
        data = work / f"{scenario}.csv"
        (make_credit if scenario == "credit" else make_fraud)(data, a.rows)
        extra = ["--no-reasons"] if scenario == "credit" else []
        local_out = work / f"{scenario}-local.csv"
        res = _cli("score", "--model", models[scenario], "--data", str(data), "--out", str(local_out),
                   "--chunk-size", str(a.chunk_size), "--quiet", *extra)
        rows_out.append([scenario, "local (chunked, 1 process)", "-", f"{a.rows:,}", f"{res['seconds']:.1f}",
                         f"{a.rows / res['seconds']:,.0f}", f"{res['peak_mb']:,.0f}", "-", "yes", _load()])
        print("| " + " | ".join(rows_out[-1]) + " |", file=sys.stderr, flush=True)
        for w in [int(x) for x in a.workers.split(",")]:
            out = work / f"{scenario}-dask{w}.csv"
            res = run_dask(models[scenario], data, out, w, a.chunk_size, extra)
            rows_out.append([scenario, "dask LocalCluster", str(w), f"{a.rows:,}", f"{res['seconds']:.1f}",
                             f"{a.rows / res['seconds']:,.0f}", f"{res['worker_peak_mb']:,.0f}",
                             f"{res['peak_mb']:,.0f}", "yes" if same_rows(local_out, out) else "NO", _load()])
            print("| " + " | ".join(rows_out[-1]) + " |", file=sys.stderr, flush=True)
            out.unlink()
        if not a.keep:
            data.unlink()
            local_out.unlink()
    print(f"\ncores: {os.cpu_count()}, chunk size {a.chunk_size:,} rows; Dask times start once the cluster's "
          "processes are up and include TensorFlow's import and the model load in every worker\n")
    print("| scenario | engine | workers | rows | seconds | rows/s | peak MB per worker | client peak MB "
          "| same rows as local | load (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows_out:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    main()

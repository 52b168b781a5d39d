"""Batch-scoring benchmark: credit files of 100k to 1M rows through ``python -m core score``.

    python bench/bench_score.py                          # 100k, 300k, 1M rows
    python bench/bench_score.py --sizes 100000,1000000 --reasons-rows 20000

One credit model is trained on the bundled sample (a few epochs: the model's quality does not
matter here), then files of each size are made with the sample generator
(``scripts/make_credit_sample.py``, other seeds) and scored in a fresh process each, so every
peak memory figure (``ru_maxrss``) is that run's own:

- chunked: the CLI as shipped (50,000-row chunks read, scored and written in turn);
- whole file: the same model and output, with the file read, scored and written in one piece
  (what a simple script does, and what the CLI did before chunking), as the in-run baseline.

A last row scores a smaller file with SHAP reason codes for every declined applicant, to show what
they cost. Prints a markdown table.
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
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _child(mode: str, model: str, data: str, out: str, reasons: bool) -> None:
    """Score in this process and print the timings and peak memory as one JSON line."""
    t0 = time.perf_counter()
    if mode == "chunked":
        from core.cli import main

        args = ["score", "--model", model, "--data", data, "--out", out, "--quiet", "--json"]
        code = main(args + ([] if reasons else ["--no-reasons"]))
        if code:
            raise SystemExit(code)
    else:
        import numpy as np

        from core.credit.persist import load_credit_model
        from core.credit.scoring import build_scored_frame
        from core.data.datasets import read_table

        m = load_credit_model(model)
        df = read_table(data, max_rows=None).df
        p = m.predict(df)
        build_scored_frame(df, p, threshold=m.threshold, config=m.scorecard).to_csv(out, index=False)
        assert len(p) == len(df) and np.isfinite(p).all()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": peak_mb}), file=sys.stderr)


def _run(mode: str, model: Path, data: Path, out: Path, reasons: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(model), str(data), str(out), str(int(reasons))]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"{mode} scoring failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stderr.strip().splitlines()[-1])


def _make_file(rows: int, path: Path, seed: int) -> None:
    from scripts.make_credit_sample import make_credit_sample

    first = True
    # In pieces, so the benchmark itself never holds a 1M-row frame.
    for i, start in enumerate(range(0, rows, 100_000)):
        part = make_credit_sample(min(100_000, rows - start), seed=seed + i)
        part.to_csv(path, mode="w" if first else "a", header=first, index=False)
        first = False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--reasons-rows", type=int, default=20_000, help="rows of the run with reason codes (0: skip)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, model, data, out, reasons = args.child
        _child(mode, model, data, out, reasons == "1")
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
        tmp = Path(tmp)
        model = tmp / "model"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "train", "--scenario", "credit", "--data",
                        str(ROOT / "sample_data" / "credit_applications.csv"), "--epochs", "5", "--no-explain",
                        "--save", str(model), "--json"], check=True, cwd=ROOT, capture_output=True)
        print(f"Batch scoring benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · "
              f"model trained in {time.perf_counter() - t0:.0f} s\n")
        print("| rows | file MB | chunked: s | rows/s | peak MB | whole file: s | peak MB | memory chunked / whole |")
        print("|---|---|---|---|---|---|---|---|")
        peaks = {}
        for i, n in enumerate(sizes):
            data = tmp / f"apps_{n}.csv"
            _make_file(n, data, seed=1000 + 10 * i)
            mb = data.stat().st_size / 1e6
            c = _run("chunked", model, data, tmp / "out_c.csv")
            w = _run("whole", model, data, tmp / "out_w.csv")
            peaks[n] = c["peak_mb"]
            print(f"| {n:,} | {mb:,.0f} | {c['seconds']:.1f} | {n / c['seconds']:,.0f} | {c['peak_mb']:,.0f} | "
                  f"{w['seconds']:.1f} | {w['peak_mb']:,.0f} | {c['peak_mb'] / w['peak_mb']:.2f}x |", flush=True)
            data.unlink()
        if len(peaks) > 1:
            lo, hi = min(peaks), max(peaks)
            print(f"\nChunked peak memory at {hi:,} rows is {peaks[hi] / peaks[lo]:.2f}x that at {lo:,} rows "
                  f"({hi / lo:.0f}x the rows): flat if close to 1.")
        if args.reasons_rows:
            n = args.reasons_rows
            data = tmp / f"apps_{n}.csv"
            _make_file(n, data, seed=7)
            r = _run("chunked", model, data, tmp / "out_r.csv", reasons=True)
            import pandas as pd

            declined = int((pd.read_csv(tmp / "out_r.csv", usecols=["decision"])["decision"] == "decline").sum())
            print(f"\nWith SHAP reason codes for every declined applicant: {n:,} rows ({declined:,} declined) in "
                  f"{r['seconds']:.1f} s ({declined / r['seconds']:,.0f} explained rows/s), peak {r['peak_mb']:,.0f} MB.")


if __name__ == "__main__":
    main()

"""A fraud run blended with gradient boosting: CPU of a one-row request, scikit-learn's predict against the walk.

    python bench/bench_treewalk.py                     # trains the bench fraud run (as bench_serve.py does)
    python bench/bench_treewalk.py --run PATH --rounds 8 --per-round 100

Two tables, both measured in this one process with the service's settings (``core.server.process.settle``:
start-up objects frozen, BLAS held to one thread), every call made from a worker thread as the server's
Starlette pool makes it:

- the baseline alone on 1 ... 1,000 code-space rows of the next month: ``core.ml.treewalk`` (the walk, up
  to ``WALK_ROWS``), scikit-learn's ``predict_proba`` with OpenMP at its default, and with OpenMP held to one
  thread in that worker thread (``threadpoolctl``); the answers are checked equal;
- one-row fraud requests (``FraudPredictor.predict``, remember=False, the next month in time order): the
  network alone, the blend through scikit-learn, the blend walked; alternating rounds (A B C A B C ...), so
  load changes touch every mode alike; the CPU is the whole process's (``time.process_time``: OpenMP's
  spinning threads count).

Every row carries the 1-minute load average range over its rounds: on a shared machine the figures are
pessimistic, and scikit-learn's two OpenMP threads suffer most from it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
NEXT_MONTH = ROOT / "sample_data" / "fraud_new_month.csv.gz"


def train(work: Path) -> Path:
    from core.cli import main

    target = work / "fraud-bench"
    if not (target / "metadata.json").exists():
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["train", "--scenario", "fraud", "--data", str(ROOT / "sample_data" / "fraud_transactions.csv.gz"),
                         "--epochs", "3", "--no-explain", "--save", str(target)]) == 0, "training fraud failed"
    return target


def spread(loads: list[float]) -> str:
    return f"{min(loads):.1f}-{max(loads):.1f}"


def median(values: list[float]) -> float:
    import numpy as np

    return float(np.median(values))


def baseline_table(blend, Z, rounds: int) -> None:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from core.ml.treewalk import WALK_ROWS

    walk, model = blend._trees, blend.model
    default, single = ThreadPoolExecutor(1), ThreadPoolExecutor(1)
    single.submit(threadpool_limits, 1, "openmp").result()  # the limit holds in that thread only
    print("\n| rows | walk CPU ms | scikit-learn, OpenMP default | scikit-learn, OpenMP 1 thread | load |")
    print("|---:|---:|---:|---:|---|")
    for n in (1, 10, 100, WALK_ROWS, 1000):
        x = Z[:n]
        ref = model.predict_proba(x)[:, 1]
        got = walk.proba(x)
        assert got is None or np.array_equal(got, ref), "the walk differs from predict_proba"
        modes = {"sk": (default, lambda: model.predict_proba(x)), "sk1": (single, lambda: model.predict_proba(x))}
        if got is not None:
            modes = {"walk": (default, lambda: walk.proba(x)), **modes}
        reps = max(3, 300 // n)
        cpu, loads = {m: [] for m in modes}, []
        for _ in range(rounds):
            loads.append(os.getloadavg()[0])
            for m, (pool, fn) in modes.items():
                t = time.process_time()
                for _ in range(reps):
                    pool.submit(fn).result()
                cpu[m].append((time.process_time() - t) / reps * 1000)
        w = f"{median(cpu['walk']):.3f}" if "walk" in cpu else f"(over {WALK_ROWS} rows: scikit-learn)"
        print(f"| {n} | {w} | {median(cpu['sk']):.3f} | {median(cpu['sk1']):.3f} | {spread(loads)} |")


def request_table(pred, rows, rounds: int, per: int) -> None:
    from core.ml.blend import Blend

    walked = pred.saved
    asked = Blend(walked.blend.baseline, walked.blend.weight, walked.blend.model)
    asked.__dict__["_trees"] = None  # this copy asks scikit-learn
    saved = {"network alone": dataclasses.replace(walked, blend=None),
             "blend, scikit-learn predict": dataclasses.replace(walked, blend=asked),
             "blend, walked": walked}
    pool = ThreadPoolExecutor(1)
    cpu, loads = {m: [] for m in saved}, []
    for r in range(rounds):
        chunk = rows[(r * per) % len(rows):][:per]
        loads.append(os.getloadavg()[0])
        for m, s in saved.items():
            pred.saved = s
            t = time.process_time()
            for x in chunk:
                pool.submit(pred.predict, x, remember=False).result()
            cpu[m].append((time.process_time() - t) / len(chunk) * 1000)
    pred.saved = walked
    print(f"\n| one-row fraud request ({rounds} rounds x {per}) | CPU ms, median of rounds | rounds | load |")
    print("|---|---:|---|---|")
    for m, v in cpu.items():
        print(f"| {m} | {median(v):.2f} | {' '.join(f'{x:.1f}' for x in v)} | {spread(loads)} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=None, help="a saved fraud run whose recommended model is a gradient-boosting blend")
    p.add_argument("--runtime", default="keras")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--per-round", type=int, default=80)
    p.add_argument("--work", default=None, help="folder for the trained run (default: a temporary one)")
    args = p.parse_args()

    import pandas as pd

    from core.data.columncheck import get_expected_input
    from core.server.process import prepare, settle
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    work = Path(args.work or tempfile.mkdtemp(prefix="bench-treewalk-"))
    run = Path(args.run) if args.run else train(work)
    meta = read_metadata(run)
    if (meta.get("blend") or {}).get("baseline") != "gradient_boosting":
        raise SystemExit(f"{run} is not blended with gradient boosting (blend: {meta.get('blend')}); pass --run")
    prepare()
    pred = get_scenario("fraud").predictor(run, runtime=args.runtime)
    cols = list(get_expected_input(meta)["columns"])
    df = pd.read_csv(NEXT_MONTH).sort_values("timestamp", kind="stable")
    rows = [pd.DataFrame([r]) for r in json.loads(df[cols].head(args.rounds * args.per_round).to_json(orient="records"))]
    pred.predict(rows[0], remember=False)  # warm-up: the walk is compiled on the first request
    settle()
    print(f"Fraud run {run.name}, runtime {args.runtime}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} CPUs")
    Z = codes_of(pred, df[cols].head(1000))
    baseline_table(pred.saved.blend, Z, args.rounds)
    request_table(pred, rows, args.rounds, args.per_round)


def codes_of(pred, frame):
    """The code-space rows the blend's baseline reads for ``frame`` (the fraud features of each row)."""
    import numpy as np

    from core.fraud.pipeline import prepare_new_transactions
    from core.fraud.service import score_chunk

    seen = []
    blend = pred.saved.blend
    original = type(blend).baseline_codes

    def spy(self, preprocessor, Z, encoded=None):
        seen.append(Z)
        return original(self, preprocessor, Z, encoded)

    type(blend).baseline_codes = spy
    try:
        part = pred.check(frame)
        new_log = prepare_new_transactions(part, pred.saved.columns, pred.saved.extra_columns)
        score_chunk(pred.saved, part, new_log, pred.history, review=pred.review, block=pred.block)
    finally:
        type(blend).baseline_codes = original
    return np.concatenate(seen)


if __name__ == "__main__":
    main()

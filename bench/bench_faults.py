"""Fault trials: processes killed (SIGKILL) at random points while training, saving and scoring.

    python bench/bench_faults.py [--trials 50] [--seed 0] [--kinds save,score,train,cli-save,cli-score]

Kinds:
  save       core.store.registry.save_run with a 4 MB stub model, killed at a random point of the save
  score      the chunked scoring loop (stream_score) on 30,000 rows, killed at a random point
  train      the real `python -m core train --scenario credit --save DIR`, killed uniformly over its life
  cli-save   the same command killed at a random point after its hidden save folder appears
  cli-score  the real `python -m core score` on 20,000 rows, killed uniformly over its life

After every kill: the runs listing must load and list no damaged run, the run must be complete or
absent, and the output file must hold every row or not exist. Prints one row per kind (trials,
kills that landed before the process ended, complete, absent, partial, listing failures, and
processes that failed on their own, which make a trial meaningless) and the machine's load. The
real command-line kinds draw kill points over the length of a measured run, shortened whenever a
process ends before its kill. Never part of the test run; tests/hardening/test_faults.py runs 5 trials of the
light kinds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hardening import faults  # noqa: E402

KINDS = ("save", "score", "train", "cli-save", "cli-score")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--json-out", help="also write the table as JSON here")
    args = ap.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        ap.error(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        for kind in kinds:
            work = Path(tmp) / kind
            work.mkdir()
            t0 = time.monotonic()
            if kind == "save":
                c = faults.save_trials(work, args.trials, seed=args.seed)
            elif kind == "score":
                c = faults.score_trials(work, args.trials, seed=args.seed)
            elif kind == "train":
                c = faults.cli_train_trials(work, args.trials, seed=args.seed)
            elif kind == "cli-save":
                c = faults.cli_train_trials(work, args.trials, seed=args.seed, during_save=True)
            else:
                c = faults.cli_score_trials(work, args.trials, seed=args.seed)
            row = {**c.row(), "seconds": round(time.monotonic() - t0, 1), "problems": c.problems[:5]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"{'kind':<36}{'trials':>7}{'killed':>8}{'complete':>10}{'absent':>8}{'partial':>9}{'listing failed':>16}"
          f"{'own error':>11}")
    for r in rows:
        print(f"{r['kind']:<36}{r['trials']:>7}{r['killed']:>8}{r['complete']:>10}{r['absent']:>8}{r['partial']:>9}"
              f"{r['listing_failed']:>16}{r['failed']:>11}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2))
    return 0 if all(r["partial"] == 0 and r["listing_failed"] == 0 and r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

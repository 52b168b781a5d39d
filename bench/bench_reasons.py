"""CPU of a one-row credit prediction in the service's predictor, declined (4 SHAP reason codes) and approved.

    python bench/bench_reasons.py --run RUN                         # this checkout's code, 3 rounds
    python bench/bench_reasons.py --run RUN --code ../main --code .  # two checkouts, alternately

For each ``--code`` checkout in turn (each round in a fresh process, the checkouts alternating, so both see the
same machine), loads the saved credit run ``RUN`` with that checkout's ``core.credit.serving.CreditPredictor``
(``--runtime``, default onnx), finds the bundled next month's first ``--rows`` declined and approved applicants,
and times ``predict`` on each as a one-row frame (the service's request after its JSON is read): process CPU per
request, after 10 requests of warm-up. Also reports whether every checkout gave the declined applicants the
same reason codes. A run to use: ``python -m core train --scenario credit --data
sample_data/credit_applications.csv --epochs 5 --no-explain --save RUN`` (what ``bench_serve.py`` trains).
Prints a markdown table with the 1-minute load average of each round.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, pandas as pd
from pathlib import Path
from core.credit.serving import CreditPredictor
p = CreditPredictor(Path(sys.argv[2]), runtime=sys.argv[3])
rows = int(sys.argv[4])
df = pd.read_csv(Path(sys.argv[5]) / "sample_data" / "credit_new_month.csv")[list(p.columns())]
probs = p.model.predict(df)
records = df.to_dict("records")
out = {}
for kind, idx in (("decline", np.flatnonzero(probs >= p.threshold)[:rows]),
                  ("approve", np.flatnonzero(probs < p.threshold)[:rows])):
    frames = [pd.DataFrame([records[i]]) for i in idx]
    for f in frames[:10]:
        p.predict(f)
    t = time.process_time()
    answers = [p.predict(f) for f in frames]
    out[kind] = (time.process_time() - t) / max(len(frames), 1) * 1000
    out[kind + "_n"] = len(frames)
    out[kind + "_reasons"] = [a.iloc[0][[f"reason_{k}" for k in range(1, 5)]].tolist() for a in answers]
out["load"] = os.getloadavg()[0]
print(json.dumps(out))
"""


def checkout_args(ap: argparse.ArgumentParser, *, run_help: str, count: str, count_default: int, count_help: str,
                  rounds: int) -> None:
    """The options every alternating-checkout benchmark takes: ``--run``, ``--code`` (repeatable),
    ``--runtime``, the count per round (``count``) and ``--rounds``."""
    ap.add_argument("--run", type=Path, required=True, help=run_help)
    ap.add_argument("--code", type=Path, action="append", help="a checkout whose code is measured (repeatable; "
                                                              "default: this one)")
    ap.add_argument("--runtime", default="onnx")
    ap.add_argument(count, type=int, default=count_default, help=count_help)
    ap.add_argument("--rounds", type=int, default=rounds)


def alternate(child: str, codes: list[Path] | None, run: Path, runtime: str, count: int,
              rounds: int) -> dict[Path, list[dict]]:
    """Run ``child`` (a script taking: checkout, run, runtime, count, this checkout) in a fresh process per
    checkout and round, the checkouts alternately; each round's last JSON line, per checkout."""
    codes = [c.resolve() for c in (codes or [ROOT])]
    results: dict[Path, list[dict]] = {c: [] for c in codes}
    for _ in range(rounds):
        for code in codes:
            done = subprocess.run([sys.executable, "-c", child, str(code), str(run.resolve()), runtime, str(count),
                                   str(ROOT)], capture_output=True, text=True,
                                  env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            if done.returncode != 0:
                sys.exit(f"error: the round with the code of {code} failed:\n{done.stderr[-2000:]}")
            results[code].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    checkout_args(ap, run_help="a saved credit run folder", count="--rows", count_default=150,
                  count_help="declined and approved applicants timed per round", rounds=3)
    args = ap.parse_args()
    results = alternate(CHILD, args.code, args.run, args.runtime, args.rows, args.rounds)
    print(f"| code | one-row predict ({args.runtime}) | n | CPU ms / request, median | rounds' range | load |")
    print("|---|---|---|---|---|---|")
    for code, runs in results.items():
        for kind in ("decline", "approve"):
            ms = sorted(r[kind] for r in runs)
            loads = [r["load"] for r in runs]
            print(f"| {code} | {kind}{' (4 SHAP reason codes)' if kind == 'decline' else ''} | {runs[0][kind + '_n']} | "
                  f"{ms[len(ms) // 2]:.2f} | {ms[0]:.2f}-{ms[-1]:.2f} | {min(loads):.1f}-{max(loads):.1f} |")
    reasons = [runs[-1]["decline_reasons"] for runs in results.values()]
    print(f"\nThe declined applicants' reason codes are {'the same' if all(r == reasons[0] for r in reasons) else 'NOT the same'}"
          f" with every checkout ({len(reasons[0])} applicants).")


if __name__ == "__main__":
    main()

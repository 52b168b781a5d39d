"""What a visitor's clicks cost once a training came back from its worker: the credit network served by
ONNX Runtime in the server process (no TensorFlow there) against the same network in Keras.

    python bench/bench_interactive.py [--epochs 40] [--repeats 200]

Trains credit on its bundled sample as the page does (a job in a worker process, the page's defaults
unless --epochs), loads the result as the page does (the network detached: ONNX Runtime), then times in
this process, for one applicant: the probability (preprocessing, network and blend: what a what-if edit
calls), the raw network call, and the applicant's SHAP explanation (the what-if's reason codes), against
the same network loaded in Keras (which imports TensorFlow), the two runtimes' calls interleaved so both
see the same machine load; prints p50 / p99 in milliseconds, the ratio, and the largest difference
between the two runtimes' probabilities on every test applicant.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _p(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=None, help="the page's default when left out")
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd

    from core.credit.pipeline import CREDIT_DEFAULTS
    from core.jobs import TrainingQueue
    from core.jobs.manager import JobManager

    load0 = os.getloadavg()[0]
    df = pd.read_csv(ROOT / "sample_data" / "credit_applications.csv")
    options = {"epochs": args.epochs or CREDIT_DEFAULTS["epochs"], "seed": 0}
    with tempfile.TemporaryDirectory() as tmp:
        manager = JobManager(tmp, mode="process", queue=TrainingQueue(1), warm=0)  # one job: no spare
        t0 = time.perf_counter()
        job = manager.wait(manager.submit("bench", "credit", "core.credit.jobs:train_page", dict(
            df=df, target="default", positive=None, roles=None, sensitive=None, config_options=options,
            search={"enabled": False, "ensemble": True}, test_size=0.25, shap_rows=50)))
        if job.state != "done":
            print(f"training failed: {job.error}")
            return 1
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        run = manager.result(job)["run"]
        load_s = time.perf_counter() - t0
    tf_before = "tensorflow" in sys.modules
    row = run.test_df.iloc[[0]]
    x = run.tabular.preprocessor.transform(row)
    detached = run.tabular.model
    p_onnx = np.asarray(run.predict(run.test_df), dtype=float)
    keras_net = detached.keras  # the same network, loaded in Keras (imports TensorFlow)
    run.tabular.model = keras_net
    p_keras = np.asarray(run.predict(run.test_df), dtype=float)
    calls = {
        "probability (what-if, threshold)": (lambda: run.predict(row), args.repeats),
        "network call, one row": (lambda: run.tabular.model.predict_on_batch(x), args.repeats),
        "SHAP of one applicant": (lambda: run.explain_fn(row), max(10, args.repeats // 10)),
    }
    rows = {"ONNX Runtime": {}, "Keras": {}}
    # Interleaved, call by call: both runtimes see the same machine load.
    for call, (fn, n) in calls.items():
        for model in (detached, keras_net):
            run.tabular.model = model
            fn()  # warm
        got = {"ONNX Runtime": [], "Keras": []}
        for _ in range(n):
            for label, model in (("ONNX Runtime", detached), ("Keras", keras_net)):
                run.tabular.model = model
                t = time.perf_counter()
                fn()
                got[label].append((time.perf_counter() - t) * 1000)
        for label in got:
            rows[label][call] = sorted(got[label])
    print(f"credit sample, {len(run.test_df):,} test applicants; training job {train_s:.0f} s (worker start "
          f"included); result loaded in {load_s:.2f} s; TensorFlow in this process before the Keras step: "
          f"{tf_before}; load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"largest |ONNX - Keras| probability on the test applicants: {np.max(np.abs(p_onnx - p_keras)):.2e}")
    print()
    print(f"{'call':<36} {'ONNX p50':>9} {'ONNX p99':>9} {'Keras p50':>10} {'Keras p99':>10} {'Keras/ONNX p50':>15}")
    for call in rows["ONNX Runtime"]:
        a, b = rows["ONNX Runtime"][call], rows["Keras"][call]
        print(f"{call:<36} {_p(a, .5):>9.2f} {_p(a, .99):>9.2f} {_p(b, .5):>10.2f} {_p(b, .99):>10.2f} "
              f"{_p(b, .5) / _p(a, .5):>15.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

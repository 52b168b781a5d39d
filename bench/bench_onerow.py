"""CPU of a one-row credit request through the service's app, declined and approved, in one process per round.

    python bench/bench_onerow.py --run RUN                          # this checkout's code, 4 rounds
    python bench/bench_onerow.py --run RUN --code ../main --code .   # two checkouts, alternately

For each ``--code`` checkout in turn (each round in a fresh process, the checkouts alternating, so both see the
same machine), builds that checkout's app (``core.server.app.build_app``, the prediction log buffered as
``serve`` does by default) over the saved credit run ``RUN`` (``--runtime``, default onnx) and calls it as an ASGI
app, without HTTP: ``--requests`` one-row ``:predict`` requests of the bundled next month's approved applicants,
then as many declined ones (4 SHAP reason codes), after 20 of warm-up. Each kind's window ends by writing the
log rows it buffered, so the log's work is counted with the requests that made it. Reported: process CPU per
request (every thread: the app, its thread pool, the log's writer) and, for comparison, the predictor alone
(``predict`` on the same one-row frames, as ``bench/bench_reasons.py`` times it). What is left between the two
is the service's own work (reading the JSON, the column check's frame, the log, the answer's JSON), apart from
HTTP parsing, which a server adds (``bench/bench_serve.py`` measures that over HTTP). Also checks that every
checkout answered the same. A run to use: ``python -m core train --scenario credit --data
sample_data/credit_applications.csv --epochs 5 --no-explain --save RUN``. Prints a markdown table with the
1-minute load average of each round.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_reasons import alternate, checkout_args  # noqa: E402

CHILD = r"""
import asyncio, hashlib, json, os, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import pandas as pd
from core.data.columncheck import get_expected_input
from core.server.app import ServeSettings, build_app, warm_up
from core.server.limits import Limits, rows_to_frame
from core.store.scenarios import get_scenario
run, n = Path(sys.argv[2]), int(sys.argv[4])
p = get_scenario("credit").predictor(run, runtime=sys.argv[3])
app = build_app({run.name: p}, ServeSettings(say=lambda *_: None), warm_up({run.name: p}))
served = app.state.served_log
cols = list(get_expected_input(p.meta)["columns"])
df = pd.read_csv(Path(sys.argv[5]) / "sample_data" / "credit_new_month.csv")[cols]
probs = p.model.predict(df)
records = json.loads(df.to_json(orient="records"))
kinds = {"approve": [r for r, q in zip(records, probs) if q < p.threshold][:n + 20],
         "decline": [r for r, q in zip(records, probs) if q >= p.threshold][:n + 20]}
path = f"/v1/models/{run.name}:predict"

async def call(body):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 8000), "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                                                         (b"content-length", str(len(body)).encode())]}
    sent, out = [], []
    async def receive():
        if sent:
            return {"type": "http.disconnect"}
        sent.append(1)
        return {"type": "http.request", "body": body, "more_body": False}
    async def send(message):
        out.append(message)
    await app(scope, receive, send)
    assert out[0]["status"] == 200, out
    return json.loads(out[1]["body"])["predictions"][0]

async def main():
    res = {}
    for kind, rows in kinds.items():
        bodies = [json.dumps({"instances": [r]}).encode() for r in rows]
        for b in bodies[:20]:
            await call(b)
        served.flush()
        t = time.process_time()
        answers = [await call(b) for b in bodies[20:]]
        served.flush()
        res[kind] = (time.process_time() - t) / len(answers) * 1000
        frames = [rows_to_frame([r], Limits()) for r in rows[20:]]
        t = time.process_time()
        for f in frames:
            p.predict(f)
        res[kind + "_predictor"] = (time.process_time() - t) / len(frames) * 1000
        res[kind + "_n"] = len(answers)
        keep = [{k: v for k, v in a.items() if k != "prediction_id"} for a in answers]
        res[kind + "_answers"] = hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]
    served.close()
    res["load"] = os.getloadavg()[0]
    print(json.dumps(res))

asyncio.run(main())
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    checkout_args(ap, run_help="a saved credit run folder (its prediction log grows)", count="--requests",
                  count_default=300, count_help="approved and declined requests timed per round", rounds=4)
    args = ap.parse_args()
    results = alternate(CHILD, args.code, args.run, args.runtime, args.requests, args.rounds)
    print(f"| code | one-row request through the app ({args.runtime}) | n | CPU ms / request, median | rounds' range | "
          "predictor alone, median | the rest | load |")
    print("|---|---|---|---|---|---|---|---|")
    for code, runs in results.items():
        for kind in ("approve", "decline"):
            ms = sorted(r[kind] for r in runs)
            alone = sorted(r[kind + "_predictor"] for r in runs)
            loads = [r["load"] for r in runs]
            mid, mid_alone = ms[len(ms) // 2], alone[len(alone) // 2]
            print(f"| {code} | {kind}{' (4 SHAP reason codes)' if kind == 'decline' else ''} | {runs[0][kind + '_n']} | "
                  f"{mid:.2f} | {ms[0]:.2f}-{ms[-1]:.2f} | {mid_alone:.2f} | {mid - mid_alone:.2f} | "
                  f"{min(loads):.1f}-{max(loads):.1f} |")
    same = {(r["approve_answers"], r["decline_answers"]) for runs in results.values() for r in runs}
    print(f"\nEvery checkout and round gave {'the same answers' if len(same) == 1 else 'DIFFERENT answers'} "
          "(every field but the generated prediction_id).")


if __name__ == "__main__":
    main()

"""Prediction service benchmark: ``python -m core serve`` on each runtime, called over HTTP.

    python bench/bench_serve.py                               # keras and onnx, credit and fraud
    python bench/bench_serve.py --runtimes onnx --seconds 30 --cloud-limits

Trains a credit run on the bundled applications and a fraud run on the bundled log (a few epochs: the
model's quality does not matter here), exports them to ONNX once (timed), then, for each runtime,
starts the server as a user would (defaults: 127.0.0.1, one worker) in a fresh process and measures:

- start-up: from launching the process to ``/health`` answering (the ONNX export already cached);
- one-row requests: ``--requests`` sequential requests of one row each, the bundled next month's
  applicants (and the next month's transactions for fraud, in time order, so its history grows as in
  production); latency percentiles from the client, split by whether credit declined the applicant
  (a declined applicant also gets four SHAP reason codes), and the server's CPU time per request;
- batched requests: ``--batches`` requests of ``--batch-rows`` applicants, rows per second;
- load: ``--clients`` concurrent clients (httpx, asyncio) posting one-row credit requests for
  ``--seconds``; every request must be answered, and the table counts errors and 5xx answers;
- the prediction log's cost: the same one-row requests through the app in this process (Starlette's
  TestClient) with the log off (``--no-log``), written per request (``--log-flush-seconds 0``) and
  buffered (the default), in alternating rounds; this process's CPU per request and the ratio to the
  log off (``--log-cost-only`` runs just this table);
- memory: the server process's peak resident memory (VmHWM); with ``--cloud-limits`` also the peak of
  its memory group under ``../shared/tools/cloud-limits`` (Community Cloud's 2.7 GB ceiling).

The one-row table is followed by this (client) process's own garbage collections while it timed the
requests, and how many of the requests at p99 or slower held one of 1 ms or more: the bench process keeps what
training and the log-cost app loaded, so by default (``--client-gc freeze``) those objects are frozen out of
its collector before the servers are timed, as in a client that only sends requests. ``--serve-arg`` passes
more arguments to ``serve`` (e.g. ``--serve-arg=--no-log`` to time the service without its prediction log).

Every row carries the 1-minute load average when it was measured (``os.getloadavg``): on a shared
machine the figures are pessimistic. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
CLOUD_LIMITS = ROOT.parent / "shared" / "tools" / "cloud-limits"


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def pct(values, q) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if len(values) else float("nan")


def train(work: Path) -> dict[str, Path]:
    from core.cli import main

    runs = {}
    plans = {"credit": ["--scenario", "credit", "--data", str(ROOT / "sample_data" / "credit_applications.csv"),
                        "--epochs", "5", "--no-explain"],
             "fraud": ["--scenario", "fraud", "--data", str(ROOT / "sample_data" / "fraud_transactions.csv.gz"),
                       "--epochs", "3", "--no-explain"]}
    for key, argv in plans.items():
        target = work / f"{key}-bench"
        if not (target / "metadata.json").exists():
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["train", *argv, "--save", str(target)]) == 0, f"training {key} failed"
        runs[key] = target
    return runs


def export(run: Path) -> dict:
    """``python -m core export`` in a fresh process: wall and CPU seconds (includes TensorFlow's import)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "core", "export", "--model", str(run), "--format", "onnx", "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    res = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "cached": res["cached"], "bytes": res["bytes"], "diff": res["max_abs_diff"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, runs: dict[str, Path], runtime: str, work: Path, cloud: bool, extra: list[str] = ()):
        import psutil

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / f"server-{runtime}.log"
        cmd = [sys.executable, "-m", "core", "serve", "--runtime", runtime, "--port", str(self.port),
               "--state-dir", str(work / f"state-{runtime}-{time.time_ns()}")]
        cmd += [a for run in runs.values() for a in ("--model", str(run))] + list(extra)
        if cloud:
            cmd = [str(CLOUD_LIMITS), *cmd]
        self.t0 = time.perf_counter()
        self.fh = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self.fh, stderr=subprocess.STDOUT)
        self.cloud = cloud
        self.started = self._wait()
        self.ps = self._server_process(psutil)

    def _wait(self) -> float:
        import httpx

        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return time.perf_counter() - self.t0
            except httpx.HTTPError:
                time.sleep(0.05)

    def _server_process(self, psutil):
        top = psutil.Process(self.proc.pid)
        if not self.cloud:
            return top
        found = [c for c in top.children(recursive=True) if "core" in " ".join(c.cmdline())]
        return found[0]

    def cpu(self) -> float:
        t = self.ps.cpu_times()
        return t.user + t.system

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.ps.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> float | None:
        """SIGTERM to the server; the memory group's peak (MB) when run under cloud-limits."""
        self.ps.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.fh.close()
        if not self.cloud:
            return None
        for line in self.log.read_text().splitlines():
            if line.startswith("cloud-limits: limit"):
                return float(line.split("peak ")[1].split(" MB")[0])
        return None


class ClientCollections:
    """This (client) process's own garbage collections while a loop is timed (``gc.callbacks``): each one's
    milliseconds, so a slow request can be told apart from a collection in the client that timed it."""

    def __init__(self):
        self.ms: list[float] = []
        self._t = None

    def _seen(self, phase, info):
        if phase == "start":
            self._t = time.perf_counter()
        elif self._t is not None:
            self.ms.append((time.perf_counter() - self._t) * 1000)
            self._t = None

    def __enter__(self):
        gc.callbacks.append(self._seen)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self._seen)


def one_row(server: Server, name: str, rows: list[dict], key: str | None = None) -> dict:
    import httpx

    lat, groups, in_client = [], {}, []
    cpu0 = server.cpu()
    with httpx.Client(base_url=server.url, timeout=60) as c, ClientCollections() as col:
        for row in rows:
            seen = len(col.ms)
            t = time.perf_counter()
            r = c.post(f"/v1/models/{name}:predict", json={"instances": [row]})
            ms = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, r.text
            lat.append(ms)
            in_client.append(sum(col.ms[seen:]))
            if key:
                groups.setdefault(r.json()["predictions"][0][key], []).append(ms)
    cpu = (server.cpu() - cpu0) / len(rows) * 1000
    p99 = pct(lat, 99)
    slow = [gc_ms for ms, gc_ms in zip(lat, in_client) if ms >= p99]  # client collection ms in each slow request
    out = {"n": len(rows), "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": p99, "max": max(lat), "cpu_ms": cpu,
           "client_gc": (len(col.ms), sum(col.ms), max(col.ms, default=0.0), sum(g >= 1.0 for g in slow), len(slow)),
           "groups": {k: [len(v), pct(v, 50), pct(v, 99), float("nan")] for k, v in groups.items()}}
    if key:  # the server's CPU per request of each kind: one pass over each kind's rows (CPU clocks tick in 10 ms)
        kinds = {}
        with httpx.Client(base_url=server.url, timeout=60) as c:
            for row in rows:
                kinds.setdefault(c.post(f"/v1/models/{name}:predict", json={"instances": [row]})
                                 .json()["predictions"][0][key], []).append(row)
            for k, same in kinds.items():
                cpu0 = server.cpu()
                for row in same:
                    c.post(f"/v1/models/{name}:predict", json={"instances": [row]})
                out["groups"][k][3] = (server.cpu() - cpu0) / len(same) * 1000
    return out


def batched(server: Server, name: str, rows: list[dict], batch: int, n: int) -> dict:
    import httpx

    cpu0, t0 = server.cpu(), time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=600) as c:
        for i in range(n):
            part = [rows[(i * batch + j) % len(rows)] for j in range(batch)]
            r = c.post(f"/v1/models/{name}:predict", json={"instances": part})
            assert r.status_code == 200 and len(r.json()["predictions"]) == batch, r.text[:300]
    wall = time.perf_counter() - t0
    return {"rows": batch * n, "wall": wall, "rows_s": batch * n / wall, "cpu_s": server.cpu() - cpu0}


async def _load(url: str, name: str, rows: list[dict], clients: int, seconds: float) -> dict:
    import httpx

    lat, statuses, failures = [], {}, 0
    stop = time.perf_counter() + seconds

    async def client(k: int):
        nonlocal failures
        i = k
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            while time.perf_counter() < stop:
                t = time.perf_counter()
                try:
                    r = await c.post(f"/v1/models/{name}:predict", json={"instances": [rows[i % len(rows)]]})
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                except httpx.HTTPError:
                    failures += 1  # no answer at all (refused, reset, timed out)
                lat.append((time.perf_counter() - t) * 1000)
                i += clients

    t0 = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(clients)))
    wall = time.perf_counter() - t0
    return {"requests": len(lat), "wall": wall, "rps": len(lat) / wall, "statuses": statuses, "unanswered": failures,
            "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99), "max": max(lat) if lat else float("nan")}


LOG_MODES = {"off (--no-log)": {"log": False},
             "a part per request (--log-flush-seconds 0)": {"log": True, "log_flush_seconds": 0.0},
             "buffered (default, --log-flush-seconds 2)": {"log": True}}


def log_cost(runs: dict[str, Path], rows: dict[str, list[dict]], runtime: str, rounds: int) -> list[dict]:
    """CPU per one-row request of each log mode, in this process (client and app together), over the same
    rows in alternating rounds (A B C A B C ...), so load changes touch every mode alike. A buffered round
    ends by writing what it buffered (inside its own CPU window): no mode's disk work lands in another's."""
    from starlette.testclient import TestClient

    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario
    from core.server.app import ServeSettings, build_app, warm_up

    out = []
    for key, run in runs.items():
        same = rows.get(key) or []
        if not same:
            continue
        per = max(1, len(same) // rounds)
        from core.monitor.store import get_log_size

        logged0 = get_log_size(run).predictions
        apps, clients = {}, {}
        for mode, kw in LOG_MODES.items():
            preds = {run.name: get_scenario(read_metadata(run).get("scenario")).predictor(run, runtime=runtime)}
            apps[mode] = build_app(preds, ServeSettings(say=lambda *_: None, **kw), warm_up(preds))
            clients[mode] = TestClient(apps[mode])
        cpu, n, lds = dict.fromkeys(LOG_MODES, 0.0), dict.fromkeys(LOG_MODES, 0), []
        each = {m: [] for m in LOG_MODES}  # CPU ms per request of each round: the spread is the noise
        for r in range(rounds):
            chunk = same[r * per:(r + 1) * per]
            lds.append(os.getloadavg()[0])
            for mode, c in clients.items():
                t = time.process_time()
                for row in chunk:
                    resp = c.post(f"/v1/models/{run.name}:predict", json={"instances": [row]})
                    assert resp.status_code == 200, resp.text
                served = apps[mode].state.served_log
                if served is not None:
                    served.flush()
                cpu[mode] += time.process_time() - t
                n[mode] += len(chunk)
                each[mode].append((time.process_time() - t) / len(chunk) * 1000)
        for mode in LOG_MODES:
            served = apps[mode].state.served_log
            if served is not None:
                served.close()
            ms = cpu[mode] / n[mode] * 1000
            out.append({"scenario": key, "mode": mode, "n": n[mode], "cpu_ms": ms, "rounds": each[mode],
                        "load": f"{min(lds):.1f}-{max(lds):.1f}"})
        logged = get_log_size(run).predictions - logged0  # both logging modes, every row once
        assert logged == 2 * per * rounds, f"{key}: {logged:,} rows logged for {2 * per * rounds:,} answered"
        off = next(o["cpu_ms"] for o in out if o["scenario"] == key and o["mode"] == "off (--no-log)")
        for o in out:
            if o["scenario"] == key:
                o["ratio"], o["added"] = o["cpu_ms"] / off, o["cpu_ms"] - off
    return out


def print_log_cost(res: list[dict], runtime: str) -> None:
    print(f"| prediction log ({runtime}, one-row requests, in one process) | mode | n | CPU ms / request | "
          "rounds' range | added by the log, ms | × log off | load |")
    print("|---|---|---|---|---|---|---|---|")
    for o in res:
        print(f"| {o['scenario']} | {o['mode']} | {o['n']} | {o['cpu_ms']:.1f} | {min(o['rounds']):.1f}-"
              f"{max(o['rounds']):.1f} | {o['added']:+.1f} | {o['ratio']:.2f} | {o['load']} |")
    print()


def sample_rows(run: Path, data: Path, n: int, *, sort: str | None = None, ids: bool = False) -> list[dict]:
    """The first ``n`` rows of ``data`` as JSON instances: the columns the run's model reads, and with ``ids``
    the file's id column too (a client that sends outcomes back sends each row's id)."""
    import pandas as pd

    from core.data.columncheck import get_expected_input
    from core.monitor.ids import find_id_column
    from core.store.registry import read_metadata

    cols = list(get_expected_input(read_metadata(run))["columns"])
    df = pd.read_csv(data)
    id_column = find_id_column(df, exclude=cols) if ids else None
    if id_column:
        cols = [id_column, *cols]
    if sort:
        df = df.sort_values(sort, kind="stable")
    return json.loads(df[cols].head(n).to_json(orient="records"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runtimes", default="keras,onnx")
    p.add_argument("--scenarios", default="credit,fraud", help="one-row latency for these (credit is always served)")
    p.add_argument("--requests", type=int, default=500, help="sequential one-row requests per scenario")
    p.add_argument("--batch-rows", type=int, default=1000)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--cloud-limits", action="store_true", help="run each server under ../shared/tools/cloud-limits")
    p.add_argument("--log-rounds", type=int, default=6, help="alternating rounds of the log-cost table")
    p.add_argument("--log-cost-only", action="store_true", help="only the prediction log's cost table")
    p.add_argument("--client-gc", choices=("freeze", "keep"), default="freeze",
                   help="freeze: before the servers are timed, this process's objects (TensorFlow from training, "
                        "the log-cost app) are kept out of its collector's reach (gc.freeze), as in a client that "
                        "only sends requests; keep: leave them")
    p.add_argument("--serve-arg", action="append", default=[],
                   help="one more argument for `python -m core serve` (repeatable), e.g. --serve-arg=--no-log")
    p.add_argument("--ids", action="store_true",
                   help="credit requests carry the file's id column (applicant_id), as a client that sends outcomes back")
    p.add_argument("--work", default=None, help="folder for the runs and logs (default: a temporary one)")
    args = p.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-serve-"))
    work.mkdir(parents=True, exist_ok=True)
    scenarios = [s for s in args.scenarios.split(",") if s]
    runs = {k: v for k, v in train(work).items() if k in set(scenarios) | {"credit"}}
    credit = sample_rows(runs["credit"], ROOT / "sample_data" / "credit_new_month.csv", 1500, ids=args.ids)
    fraud = sample_rows(runs["fraud"], ROOT / "sample_data" / "fraud_new_month.csv.gz", args.requests,
                        sort="timestamp") if "fraud" in runs else []
    print(f"# bench_serve: {os.cpu_count()} cores, runs in {work}\n")
    if "onnx" in args.runtimes and not args.log_cost_only:
        print("| ONNX export (once per run, `python -m core export`) | wall s | CPU s | bytes | max abs diff vs Keras | load |")
        print("|---|---|---|---|---|---|")
        for key, run in runs.items():
            for f in ("model.onnx", "model.onnx.sha256"):
                with contextlib.suppress(FileNotFoundError):
                    (run / f).unlink()
            ld = load()
            e = export(run)
            print(f"| {key} | {e['wall']:.1f} | {e['cpu']:.1f} | {e['bytes']:,} | {e['diff']:.1e} | {ld} |")
        print()
    first = [r for r in args.runtimes.split(",") if r][0]
    print_log_cost(log_cost(runs, {"credit": credit[: args.requests], "fraud": fraud}, first, args.log_rounds), first)
    if args.log_cost_only:
        return
    if args.client_gc == "freeze":
        gc.collect()
        gc.freeze()
    results = []
    for runtime in [r for r in args.runtimes.split(",") if r]:
        ld0 = load()
        server = Server(runs, runtime, work, args.cloud_limits, args.serve_arg)
        res = {"runtime": runtime, "start_s": server.started, "start_load": ld0}
        res["credit"] = one_row(server, "credit-bench", credit[: args.requests], key="decision")
        res["credit_load"] = load()
        if fraud:
            res["fraud"] = one_row(server, "fraud-bench", fraud)
            res["fraud_load"] = load()
        res["batch"] = batched(server, "credit-bench", credit, args.batch_rows, args.batches)
        res["batch_load"] = load()
        ld1 = load()
        res["stress"] = asyncio.run(_load(server.url, "credit-bench", credit, args.clients, args.seconds))
        res["stress_load"] = f"{ld1} → {load()}"
        res["peak_mb"] = server.peak_mb()
        res["modules"] = __import__("httpx").get(f"{server.url}/health").json()["modules"]
        res["cloud_mb"] = server.stop()
        results.append(res)

    print("| runtime | start-up s | peak RSS MB | cloud-limits peak MB | TensorFlow in server | load |")
    print("|---|---|---|---|---|---|")
    for r in results:
        cl = f"{r['cloud_mb']:,.0f}" if r["cloud_mb"] else "-"
        print(f"| {r['runtime']} | {r['start_s']:.2f} | {r['peak_mb']:,.0f} | {cl} | "
              f"{'yes' if r['modules']['tensorflow'] else 'no'} | {r['start_load']} |")
    print()
    print("| runtime | one-row requests | n | p50 ms | p90 ms | p99 ms | max ms | server CPU ms / request | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["credit"]
        print(f"| {r['runtime']} | credit, all | {c['n']} | {c['p50']:.1f} | {c['p90']:.1f} | {c['p99']:.1f} | "
              f"{c['max']:.1f} | {c['cpu_ms']:.1f} | {r['credit_load']} |")
        for k, (n, p50, p99, cpu) in sorted(c["groups"].items()):
            print(f"| {r['runtime']} | credit, {k} ({'with 4 SHAP reason codes' if k == 'decline' else 'no reasons'})"
                  f" | {n} | {p50:.1f} | - | {p99:.1f} | - | {cpu:.1f} | {r['credit_load']} |")
        if "fraud" in r:
            f = r["fraud"]
            print(f"| {r['runtime']} | fraud (history kept, time order) | {f['n']} | {f['p50']:.1f} | {f['p90']:.1f} | "
                  f"{f['p99']:.1f} | {f['max']:.1f} | {f['cpu_ms']:.1f} | {r['fraud_load']} |")
    print()
    print(f"| runtime | the client's own collections while timing one-row requests (--client-gc {args.client_gc}) | "
          "collections | ms in all | longest ms | requests at p99 or slower with >= 1 ms of them |")
    print("|---|---|---|---|---|---|")
    for r in results:
        for what in ("credit", "fraud"):
            if what in r:
                n, total, longest, hit, slow = r[what]["client_gc"]
                print(f"| {r['runtime']} | {what} | {n} | {total:.1f} | {longest:.1f} | {hit} of {slow} |")
    print()
    print("| runtime | batched credit requests | rows | seconds | rows/s | server CPU s | load |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        b = r["batch"]
        print(f"| {r['runtime']} | {args.batches} × {args.batch_rows:,} rows | {b['rows']:,} | {b['wall']:.1f} | "
              f"{b['rows_s']:,.0f} | {b['cpu_s']:.1f} | {r['batch_load']} |")
    print()
    print(f"| runtime | load test: {args.clients} clients × {args.seconds:.0f} s, one-row credit | requests | req/s | "
          "answered | 2xx | 4xx | 5xx | p50 ms | p90 ms | p99 ms | max ms | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        s = r["stress"]
        st = s["statuses"]
        ok = sum(v for k, v in st.items() if 200 <= k < 300)
        c4 = sum(v for k, v in st.items() if 400 <= k < 500)
        c5 = sum(v for k, v in st.items() if k >= 500)
        print(f"| {r['runtime']} | httpx.AsyncClient | {s['requests']:,} | {s['rps']:,.0f} | "
              f"{s['requests'] - s['unanswered']:,} | {ok:,} | {c4} | {c5} | {s['p50']:.1f} | {s['p90']:.1f} | "
              f"{s['p99']:.1f} | {s['max']:.1f} | {r['stress_load']} |")


if __name__ == "__main__":
    main()

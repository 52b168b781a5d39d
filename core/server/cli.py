"""``python -m core serve``: start the prediction service over one or more saved runs.

    python -m core serve --model runs/credit-1 [--model runs/fraud-1 ...] [--host 127.0.0.1] [--port 8000]
        [--runtime keras|onnx] [--api-key-file FILE] [--workers N] [--max-rows N] [--max-body-mb MB]
        [--state-dir DIR] [--snapshot-every SECONDS] [--log-flush-seconds S] [--no-log] [--access-log]

Each run is served under its folder's name. Everything is checked before the port opens: the runs
load (and, with ``--runtime onnx``, their ONNX export exists or is made in a child process, so no
TensorFlow enters this one), each model scores its own example, a non-loopback ``--host`` has API
keys, the port is free. Stateful models' state is restored from ``--state-dir`` and saved there.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Sequence

from core.errors import DataValidationError

CONFIG_ENV = "STUDIO_SERVE_CONFIG"  # the parsed flags, for each worker process of --workers N


def serve_parser() -> argparse.ArgumentParser:
    from core.monitor.buffer import DEFAULT_FLUSH_SECONDS, FLUSH_ROWS
    from core.runtime import RUNTIMES
    from core.server.limits import DEFAULT_MAX_BODY_MB, DEFAULT_MAX_ROWS

    p = argparse.ArgumentParser(prog="python -m core serve",
                                description="Serve saved runs over HTTP (TensorFlow Serving's REST convention).")
    p.add_argument("--model", action="append", required=True, metavar="RUN",
                   help="a saved run folder; repeat to serve several (each is named by its folder name)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                   "only; any other address needs --api-key-file)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--runtime", choices=RUNTIMES, default="keras",
                   help="keras (TensorFlow) or onnx (ONNX Runtime, no TensorFlow in the server; exported once "
                        "and cached in the run folder)")
    p.add_argument("--api-key-file", default=None, metavar="FILE",
                   help="keys clients must send (one a line, 16+ characters) as 'Authorization: Bearer KEY' or "
                        "'X-API-Key: KEY'")
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1; not for stateful "
                   "models such as fraud, whose history lives in one process)")
    p.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, help="instances per request (default %(default)s)")
    p.add_argument("--max-body-mb", type=float, default=DEFAULT_MAX_BODY_MB,
                   help="request body size limit in MB (default %(default)s)")
    p.add_argument("--state-dir", default=None, help="where stateful models (fraud's rolling history) keep "
                   "their state across restarts (default: .serve-state beside the first run)")
    p.add_argument("--snapshot-every", type=float, default=60.0, metavar="SECONDS",
                   help="save stateful models' state this often when it changed (default 60; 0: only on shutdown)")
    p.add_argument("--no-log", action="store_true", help="do not record the answered rows in each run's "
                   "prediction log (recorded by default, for the Monitor page and python -m core monitor)")
    p.add_argument("--log-flush-seconds", type=float, default=DEFAULT_FLUSH_SECONDS, metavar="S",
                   help="hold answered rows in memory and write them to the prediction log every S seconds (or at "
                        f"{FLUSH_ROWS:,} rows) and on shutdown, so a request never waits for a disk write (default "
                        "%(default)s; 0: write each request before answering it). A clean stop (Ctrl-C, SIGTERM) "
                        "loses nothing; a crash (kill -9) loses at most the last S seconds; each prediction_id "
                        "returned is the id logged")
    p.add_argument("--access-log", action="store_true", help="one line per request on standard error "
                   "(method, path, status; never the body)")
    p.add_argument("--verbose", action="store_true", help="keep TensorFlow's own start-up lines")
    return p


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_args(args) -> list[bytes]:
    """Flag checks that need no model; the API keys."""
    from core.server.auth import check_bind, read_api_keys

    if not 1 <= args.port <= 65535:
        raise DataValidationError(f"Expected --port between 1 and 65535; got {args.port}. Fix: e.g. --port 8000.")
    if args.workers < 1:
        raise DataValidationError(f"Expected --workers of 1 or more; got {args.workers}. Fix: --workers 1.")
    if args.max_rows < 1 or args.max_body_mb <= 0:
        raise DataValidationError(f"Expected --max-rows of 1 or more and --max-body-mb above 0; got {args.max_rows} "
                                  f"and {args.max_body_mb}. Fix: e.g. --max-rows 10000 --max-body-mb 10.")
    from core.monitor.buffer import DEFAULT_FLUSH_SECONDS, check_flush_seconds

    args.log_flush_seconds = check_flush_seconds(getattr(args, "log_flush_seconds", DEFAULT_FLUSH_SECONDS))
    names = [Path(m).name for m in args.model]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataValidationError(f"Expected each --model to have its own folder name (the name clients use); got "
                                  f"'{dupes[0]}' more than once. Fix: serve one of them, or copy it to a new name.")
    keys = read_api_keys(args.api_key_file) if args.api_key_file else []
    check_bind(args.host, keys)
    return keys


def check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise DataValidationError(f"Expected to listen on {host}:{port}; got: {exc.strerror or exc}. "
                                      f"Fix: pick a free port (--port {port + 1}) or stop what uses it.") from exc


def load_predictors(args) -> dict:
    """Every --model as a warmed-up predictor (name -> Predictor)."""
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    predictors = {}
    for run in args.model:
        path = Path(run)
        if not (path / "metadata.json").is_file():
            raise DataValidationError(f"Expected a saved run folder for --model; got '{run}', which "
                                      f"{'has no metadata.json' if path.is_dir() else 'does not exist'}. "
                                      "Fix: pass a folder made by --save or the Save to workspace button.")
        meta = read_metadata(path)
        predictors[path.name] = get_scenario(meta.get("scenario")).predictor(path, runtime=args.runtime)
    return predictors


def build(args, keys: list[bytes]):
    """The app and what it serves (predictors loaded, warmed up, state restored)."""
    from core.server.app import ServeSettings, build_app, warm_up
    from core.server.limits import Limits
    from core.server.process import prepare
    from core.server.state import StateStore, default_state_dir

    prepare()  # before the models load: glibc's allocator as core.server.process says
    predictors = load_predictors(args)
    outputs = warm_up(predictors)
    state = None
    if any(p.stateful for p in predictors.values()):
        folder = Path(args.state_dir) if args.state_dir else default_state_dir(args.model[0])
        state = StateStore(folder, predictors, every=args.snapshot_every, say=say)
        for line in state.load_all():
            say(line)
    host = f"[{args.host}]" if ":" in args.host else args.host
    settings = ServeSettings(runtime=args.runtime, keys=keys, base_url=f"http://{host}:{args.port}",
                             limits=Limits(max_bytes=int(args.max_body_mb * 1024 * 1024), max_rows=args.max_rows),
                             state=state, say=say, log=not getattr(args, "no_log", False),
                             log_flush_seconds=args.log_flush_seconds)
    return build_app(predictors, settings, outputs), predictors, settings


def create_app():
    """The app of one worker process of ``--workers N`` (flags from the parent in ``STUDIO_SERVE_CONFIG``)."""
    args = argparse.Namespace(**json.loads(os.environ[CONFIG_ENV]))
    from core.server.process import settle

    app, _, _ = build(args, check_args(args))
    settle()
    return app


def run(args) -> int:
    import uvicorn

    t0 = time.perf_counter()
    keys = check_args(args)
    check_port(args.host, args.port)
    app, predictors, settings = build(args, keys)
    stateful = [n for n, p in predictors.items() if p.stateful]
    if args.workers > 1 and stateful:
        raise DataValidationError(
            f"Expected --workers 1 for stateful models; got --workers {args.workers} with {', '.join(stateful)}, "
            "whose rolling history lives in one process (several would each see part of the stream). "
            "Fix: serve it with --workers 1, and stateless models in a second service with more workers.")
    for name, p in predictors.items():
        say(f"Serving {name} ({p.scenario}, {p.runtime}): POST {settings.base_url}/v1/models/{name}:predict")
    say(f"Docs: {settings.base_url}/docs (OpenAPI: {settings.base_url}/openapi.json); "
        f"{'API key required' if keys else 'no API key (this machine only)'}; ready in {time.perf_counter() - t0:.1f} s")
    log = dict(log_level="info" if args.access_log else "warning", access_log=bool(args.access_log))
    if args.workers > 1:
        del app, predictors
        gc.collect()
        os.environ[CONFIG_ENV] = json.dumps(vars(args))
        uvicorn.run("core.server.cli:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, timeout_graceful_shutdown=10, **log)
    else:
        from core.server.process import settle

        settle()
        uvicorn.run(app, host=args.host, port=args.port, timeout_graceful_shutdown=10, **log)
    return 0


def main(argv: Sequence[str]) -> int:
    from core.present.console import quiet_native_stderr

    args = serve_parser().parse_args(list(argv))
    try:
        with quiet_native_stderr(not args.verbose):
            return run(args)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

"""Ship the saved run to the workers once, run one task per block, show progress, stage the output.

The saved run's files (model, preprocessing, history) are read here and broadcast to every worker
once (``ship_run``); a worker writes them into a temporary folder and loads them with the
scenario's own loader (Keras safe mode, as everywhere) the first time a task needs them, then keeps
the loaded model for every later block of the run (``load_shipped``).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

from core.errors import DataValidationError

_RUN_DIRS: dict[str, Path] = {}
_LOADED: dict[tuple[str, str], object] = {}
LOADS: dict[str, int] = {}  # loads per run digest in this worker process (a test reads it)


def pack_run(run_dir) -> dict:
    """Every file of a saved run as bytes (its prediction log aside), with a digest naming this exact run."""
    root = Path(run_dir)
    if not (root / "metadata.json").exists():
        raise DataValidationError(f"Expected a saved run folder with metadata.json; got '{root}'. "
                                  "Fix: pass the folder written by --save or the Save button.")
    # The run's prediction log (``monitor/``) stays here: workers never read it, and it grows with every scoring.
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
             if p.is_file() and p.relative_to(root).parts[0] != "monitor"}
    h = hashlib.sha256()
    for name, data in files.items():
        h.update(name.encode())
        h.update(hashlib.sha256(data).digest())
    return {"name": root.name, "digest": h.hexdigest(), "files": files}


def ship_run(client, run_dir):
    """Broadcast the packed run to every worker once; tasks take the returned future."""
    return client.scatter([pack_run(run_dir)], broadcast=True, hash=False)[0]


def shipped_run_dir(packed: dict) -> Path:
    """The run's folder on this worker, written from the shipped bytes the first time it is needed."""
    path = _RUN_DIRS.get(packed["digest"])
    if path is None or not path.exists():
        path = Path(tempfile.mkdtemp(prefix="scored-run-")) / packed["name"]
        for name, data in packed["files"].items():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _RUN_DIRS[packed["digest"]] = path
    return path


def load_shipped(packed: dict, loader: Callable) -> object:
    """``loader(run folder)`` once per worker and run; later blocks reuse the loaded object."""
    key = (packed["digest"], f"{loader.__module__}.{loader.__qualname__}")
    if key not in _LOADED:
        _LOADED[key] = loader(shipped_run_dir(packed))
        LOADS[packed["digest"]] = LOADS.get(packed["digest"], 0) + 1
    return _LOADED[key]


def worker_loads() -> dict[str, int]:
    """Run on a worker (``client.run``): how often each run was loaded there."""
    return dict(LOADS)


class Progress:
    """A bar on standard error, one update per block done: blocks, rows, rows/s."""

    def __init__(self, *, quiet: bool = False, what: str = "rows", stream=None, verb: str = "scored"):
        self.quiet, self.what, self.verb, self.t0 = quiet, what, verb, time.perf_counter()
        self.stream = stream
        self.done, self.rows, self.total = 0, 0, None

    def update(self, rows: int, *, total: int | None = None) -> None:
        self.done += 1
        self.rows += int(rows)
        self.total = total if total is not None else self.total
        if self.quiet:
            return
        s = time.perf_counter() - self.t0
        if self.total:
            filled = int(20 * self.done / self.total)
            bar = f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} partitions"
        else:
            bar = f"{self.done} partitions"
        print(f"{bar}, {self.rows:,} {self.what} {self.verb} ({s:.1f} s, {self.rows / max(s, 1e-9):,.0f} {self.what}/s)",
              file=self.stream or sys.stderr, flush=True)


def n_workers(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def run_ordered(client, items: Iterable, submit: Callable, on_result: Callable, *, window: int | None = None,
                total: int | None = None) -> int:
    """Submit ``submit(item) -> future`` for each item with at most ``window`` in flight and call
    ``on_result(item, result)`` as each finishes. Any task's error cancels the rest and is raised.

    Returns how many items ran. Items are consumed lazily, so a generator that reads blocks here
    (gzip input) never holds more than ``window`` of them.
    """
    from distributed import as_completed

    window = window or 2 * n_workers(client) + 1
    pending, done = {}, 0
    it = iter(items)
    ac = as_completed(loop=client.loop)
    exhausted = False

    def top_up():
        nonlocal exhausted
        while not exhausted and len(pending) < window:
            try:
                item = next(it)
            except StopIteration:
                exhausted = True
                return
            fut = submit(item)
            pending[fut.key] = (fut, item)
            ac.add(fut)

    try:
        top_up()
        while pending:
            fut = next(ac)
            _, item = pending.pop(fut.key)
            result = fut.result()  # raises the task's error here
            on_result(item, result)
            done += 1
            fut.release()
            top_up()
    except BaseException:
        for f, _ in pending.values():
            f.cancel()
        raise
    return done

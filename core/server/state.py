"""Snapshots of stateful models (fraud's rolling history), so a restart keeps what was scored.

A stateful predictor's state (a table plus a few values) is written to ``<state dir>/<model>.state.parquet``
atomically (a hidden partial file, flushed, renamed into place: complete or absent), with the run id and
the SHA-256 of the run's model file in the Parquet metadata. It is written every ``every`` seconds when
something was scored since the last one, and on shutdown (SIGTERM / Ctrl-C); it is loaded at start when
it belongs to the same run and model, else left aside with a notice (the run was retrained or replaced).
A process killed without warning (SIGKILL, power cut) loses at most the last ``every`` seconds.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

STATE_SUFFIX = ".state.parquet"
_KEY = b"studio_state"


def _identity(p) -> dict:
    from core.store.registry import MODEL_FILE

    rec = (p.meta.get("files") or {}).get(MODEL_FILE) or {}
    return {"run_id": str(p.meta.get("run_id")), "model_sha256": rec.get("sha256")}


class StateStore:
    """Where and how the service keeps its stateful models' state."""

    def __init__(self, folder, predictors: dict, *, every: float = 60.0, say=print):
        self.folder = Path(folder)
        self.predictors = {n: p for n, p in predictors.items() if p.stateful}
        self.every = float(every)
        self.say = say
        self._saved_at_count: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def path(self, name: str) -> Path:
        return self.folder / f"{name}{STATE_SUFFIX}"

    def save(self, name: str) -> Path | None:
        """Write one model's state now (atomically); None when it has nothing new since the last save."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from core.store.registry import write_atomic

        p = self.predictors[name]
        state = p.snapshot()
        count = int(state.get("scored") or 0)
        if self._saved_at_count.get(name) == count and self.path(name).exists():
            return None
        values = {k: (None if v is None else str(v)) for k, v in state.items() if k != "history"}
        table = pa.Table.from_pandas(state["history"], preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_KEY] = json.dumps({**_identity(p), **values, "saved_at": time.time()}).encode()
        buf = io.BytesIO()
        pq.write_table(table.replace_schema_metadata(meta), buf)
        self.folder.mkdir(parents=True, exist_ok=True)
        out = write_atomic(self.path(name), buf.getvalue(), what="Saving the service's state")
        self._saved_at_count[name] = count
        return out

    def save_all(self) -> list[str]:
        lines = []
        for name in self.predictors:
            try:
                if self.save(name) is not None:
                    lines.append(f"Saved the state of {name} to {self.path(name)}")
            except Exception as exc:  # a full disk must not stop the service or its shutdown
                lines.append(f"Could not save the state of {name}: {exc}")
        return lines

    def load_all(self) -> list[str]:
        """Restore every stateful model whose snapshot matches its run; the lines to tell the user."""
        import pyarrow.parquet as pq

        lines = []
        for name, p in self.predictors.items():
            path = self.path(name)
            if not path.exists():
                lines.append(f"{name}: no saved state at {path}; starting from the run's saved log")
                continue
            try:
                table = pq.read_table(path)
                info = json.loads((table.schema.metadata or {}).get(_KEY, b"{}"))
                if {k: info.get(k) for k in ("run_id", "model_sha256")} != _identity(p):
                    lines.append(f"{name}: the state at {path} belongs to another run or model (run {info.get('run_id')}); "
                                 "starting from the run's saved log and leaving that file as it is")
                    continue
                history = table.to_pandas()
                p.restore({"history": history, "last_time": info.get("last_time"), "scored": info.get("scored")})
                self._saved_at_count[name] = int(info.get("scored") or 0)
                lines.append(f"{name}: restored the state saved at {time.ctime(info.get('saved_at', 0))} "
                             f"({len(history):,} history rows, latest transaction {info.get('last_time')})")
            except Exception as exc:  # a damaged file: keep serving from the saved log, and say so
                lines.append(f"{name}: the state at {path} cannot be read ({type(exc).__name__}: {str(exc)[:160]}); "
                             "starting from the run's saved log")
        return lines

    def start(self) -> None:
        """Save every ``every`` seconds in a background thread (until ``stop``)."""
        if not self.predictors or self.every <= 0:
            return

        def loop():
            while not self._stop.wait(self.every):
                for line in self.save_all():
                    self.say(line)

        self._thread = threading.Thread(target=loop, name="state-snapshots", daemon=True)
        self._thread.start()

    def stop(self) -> list[str]:
        """Stop the periodic saves and save once more (shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return self.save_all()


def default_state_dir(run_dir) -> Path:
    """Beside the runs: ``<runs folder>/.serve-state`` (hidden, so the Runs page does not list it)."""
    return Path(run_dir).resolve().parent / ".serve-state"

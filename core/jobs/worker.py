"""One job, run in its own process: ``python -m core.jobs.worker JOB_FOLDER``, or handed to a spare
that has loaded Keras already (``python -m core.jobs.worker --warm JOBS_ROOT``, ``core.jobs.warm``).

The folder holds ``input.pkl`` (which function of ``core`` to call, with which arguments). The
function is called with those arguments plus ``report``, a :class:`Reporter` that appends progress
events (epochs, status lines, model-search trials) to ``events.bin`` as they happen, for the page
to draw while it polls. What the function returns is written with ``core.jobs.store.dump_result``;
an input the analyst must fix is written to ``error.json`` as its message (never a traceback).
The same ``run_job`` runs in-process when jobs are inline (tests, ``STUDIO_JOBS=inline``).
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any

INPUT_FILE = "input.pkl"
EVENTS_FILE = "events.bin"
ERROR_FILE = "error.json"
LOG_FILE = "worker.log"
_HEADER = struct.Struct("<I")


class Reporter:
    """Progress of a job, appended to its events file one whole record at a time.

    Its methods have the signatures of the progress callbacks ``core`` already takes:
    ``epoch(epoch, epochs, logs)`` for Keras epochs, ``status(text)`` for a stage's sentence,
    ``search(progress)`` for the model search, ``stage(share, text)`` for any other work."""

    def __init__(self, path):
        self.path = Path(path)

    def emit(self, kind: str, payload: Any) -> None:
        data = pickle.dumps((kind, time.time(), payload), protocol=pickle.HIGHEST_PROTOCOL)
        with open(self.path, "ab") as fh:
            fh.write(_HEADER.pack(len(data)) + data)

    def epoch(self, epoch, epochs, logs=None) -> None:
        clean = {str(k): float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float))}
        self.emit("epoch", (int(epoch), int(epochs), clean))

    def status(self, text) -> None:
        self.emit("status", str(text))

    def search(self, progress) -> None:
        self.emit("search", progress)

    def stage(self, share: float, text: str) -> None:
        self.emit("stage", (float(share), str(text)))


def read_events(path) -> list[tuple[str, float, Any]]:
    """Every whole event written so far (a record still being written is left for the next read)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    out, at = [], 0
    while at + _HEADER.size <= len(data):
        (n,) = _HEADER.unpack_from(data, at)
        if at + _HEADER.size + n > len(data):
            break
        out.append(pickle.loads(data[at + _HEADER.size: at + _HEADER.size + n]))
        at += _HEADER.size + n
    return out


def resolve(target: str):
    """``"core.credit.jobs:train_page"`` -> the function; only functions of this project (``core``, and
    ``tests`` for the job machinery's own tests)."""
    module, _, name = str(target).partition(":")
    if not module.startswith(("core.", "tests.")) or not name:
        raise ValueError(f"A job runs a function of core ('core.module:function'); got {target!r}.")
    return getattr(importlib.import_module(module), name)


def write_input(folder, target: str, kwargs: dict) -> None:
    resolve(target)  # a wrong name fails here, where the job is submitted, not in the worker
    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(Path(folder) / INPUT_FILE, "wb") as fh:
        pickle.dump({"target": target, "kwargs": kwargs}, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _write_error(folder: Path, kind: str, message: str, detail: str = "") -> None:
    tmp = folder / (ERROR_FILE + ".tmp")
    tmp.write_text(json.dumps({"kind": kind, "message": message, "detail": detail}))
    os.replace(tmp, folder / ERROR_FILE)


def run_job(folder) -> int:
    """Run the job in ``folder``; 0 when its result was written, 1 when an error was recorded."""
    from core.errors import DataValidationError
    from core.jobs.store import dump_result

    folder = Path(folder)
    with open(folder / INPUT_FILE, "rb") as fh:
        spec = pickle.load(fh)
    try:
        result = resolve(spec["target"])(**spec["kwargs"], report=Reporter(folder / EVENTS_FILE))
        dump_result(result, folder)
        return 0
    except DataValidationError as exc:
        _write_error(folder, "data", str(exc))
    except MemoryError:
        _write_error(folder, "memory", "The job ran out of memory.", traceback.format_exc())
    except Exception as exc:  # reported on the page with its reason; the session goes on
        _write_error(folder, "error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    return 1


def serve_warm(stdin=None, stdout=None) -> int:
    """A spare worker (``python -m core.jobs.worker --warm JOBS_ROOT``, see ``core.jobs.warm``): load Keras, say
    ``ready``, wait for ONE job folder on stdin, run it with its output in the job's log, and exit.
    End of file on stdin (idle time over, server stopped) exits without a job."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    import keras  # noqa: F401

    stdout.write("ready\n")
    stdout.flush()
    line = stdin.readline().strip()
    if not line:
        return 0
    folder = Path(line)
    # From here on this is the job's process: its output goes to the job's log, as a cold worker's does
    # (and the pool's watcher sees the end of the spare's stdout).
    fd = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    Reporter(folder / EVENTS_FILE).stage(0.0, "Starting (TensorFlow already loaded)")
    return run_job(folder)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--warm":
        return serve_warm()
    # Every job of the app trains or explains a network: load Keras before the job's clock starts, so a
    # model search's time budget is spent on trials, not on the library's few seconds of start-up.
    Reporter(Path(argv[0]) / EVENTS_FILE).stage(0.0, "Starting (loading TensorFlow in the worker)")
    import keras  # noqa: F401

    return run_job(argv[0])


def _exit_now(code: int) -> None:
    """Leave without the interpreter's clean-up: the result and events are on disk already, and a
    process holding TensorFlow spends seconds tearing it down, which the page would wait for."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main())

"""What every command prints besides its result: lines for the user on standard error, JSON without NaN,
and standard error kept free of native libraries' start-up chatter. Shared by ``python -m core`` and the
commands it hands over to (``serve``, the production loop, the scenario CLIs), so none imports another back."""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
from typing import Iterator


def clean_json(o):
    """JSON has no NaN: turn them into null so every consumer can parse the output."""
    if isinstance(o, float):
        return None if math.isnan(o) or math.isinf(o) else o
    if isinstance(o, dict):
        return {str(k): clean_json(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [clean_json(v) for v in o]
    if hasattr(o, "item") and not isinstance(o, (str, bytes)):
        try:
            return clean_json(o.item())
        except (ValueError, AttributeError):
            pass
    return o


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool = True) -> Iterator[None]:
    """Send what native libraries write to standard error to /dev/null; keep Python's own lines.

    TensorFlow's C++ start-up chatter (absl's "All log messages before absl::InitializeLog()",
    oneDNN, "Could not find cuda drivers", cuInit failures) is written straight to file
    descriptor 2, before and regardless of ``TF_CPP_MIN_LOG_LEVEL``, so no environment variable
    silences all of it. Descriptor 2 is pointed at /dev/null for the command's duration while
    ``sys.stderr`` writes to a copy of the real one, so progress lines, notices, warnings and
    errors from Python still reach the user. Only applies when ``sys.stderr`` is the process's
    real standard error (not under a test runner's capture); ``--verbose`` turns it off.
    """
    try:
        real = enabled and sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        real = False
    if not real:
        yield
        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    original = sys.stderr
    sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(saved_fd), "wb"), encoding=original.encoding,
                                  errors="backslashreplace", line_buffering=True)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved_fd, 2)
        sys.stderr.close()
        sys.stderr = original
        os.close(saved_fd)
        os.close(devnull)


def say(message: str) -> None:
    """One line for the user on standard error (stdout carries the result)."""
    print(message, file=sys.stderr, flush=True)

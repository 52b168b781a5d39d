"""The runtime names a saved run's network can be loaded with, and the one a process uses by default.

Apart from ``core.runtime`` so that code which only checks a name (the scenarios' ``predictor`` hook)
does not depend on the loaders.
"""

from __future__ import annotations

from core.errors import DataValidationError

RUNTIMES = ("keras", "onnx")
DEFAULT_RUNTIME = "keras"
# The runtime a process uses when none is asked for: the app's server sets "onnx", so scoring a saved run
# on the Score page never brings TensorFlow into the process that serves every visitor.
RUNTIME_ENV = "STUDIO_RUNTIME"


def default_runtime() -> str:
    """``STUDIO_RUNTIME`` when set (checked), else ``keras``."""
    import os

    raw = os.environ.get(RUNTIME_ENV, "").strip()
    return check_runtime(raw) if raw else DEFAULT_RUNTIME


def check_runtime(runtime: str | None) -> str:
    """``runtime`` when it is one of ``RUNTIMES`` (None: the default), else a clear error."""
    runtime = default_runtime() if runtime is None else str(runtime).strip().lower()
    if runtime not in RUNTIMES:
        raise DataValidationError(f"Expected a runtime of {' or '.join(RUNTIMES)}; got {runtime!r}. "
                                  "Fix: pass --runtime keras (TensorFlow) or --runtime onnx (ONNX Runtime).")
    return runtime

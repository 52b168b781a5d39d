"""Which engine runs a saved run's network: Keras (TensorFlow) or ONNX Runtime.

``load_run_model(path, runtime=...)`` is ``core.store.registry.load_run`` with the model picked by runtime:
``"keras"`` loads the ``.keras`` file in safe mode (TensorFlow is imported); ``"onnx"`` loads the
run's ONNX export (``core.runtime.onnx``: exported once, cached in the run folder with its SHA-256)
into ONNX Runtime, and never imports TensorFlow. Both models answer the calls the scoring code makes
(``predict_on_batch``, ``predict``, ``model(x, training=False)``), so every scenario's scorer runs on
either without knowing which.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import DataValidationError

from core.runtime.choice import DEFAULT_RUNTIME, RUNTIME_ENV, RUNTIMES, check_runtime, default_runtime

__all__ = ["DEFAULT_RUNTIME", "RUNTIME_ENV", "RUNTIMES", "check_runtime", "default_runtime", "load_run_model"]


def load_run_model(path, *, runtime: str | None = None):
    """The saved run at ``path`` (``core.store.registry.Run``) with its network loaded by ``runtime``.

    The ONNX runtime checks the run's files as the Keras load does (sizes and SHA-256 against the
    saved list), and that the cached ONNX export was made from this run's own ``.keras`` file.
    """
    from core.store.registry import check_run_folder, load_run

    chosen = runtime is not None
    runtime = check_runtime(runtime)
    if runtime == "keras":
        return load_run(path)
    run = load_run(path, load_model=False)
    problem = check_run_folder(Path(path), run.metadata, verify_hashes=True)
    if problem is not None:
        raise DataValidationError(problem.replace(" skipped:", " cannot be used:"))
    from core.runtime.onnx import ensure_onnx, load_onnx

    try:
        run.model = load_onnx(ensure_onnx(path))
    except DataValidationError:
        if chosen:  # asked for by name (serve --runtime onnx): say why it cannot be
            raise
        return load_run(path)  # the process's default only: a network ONNX cannot take is scored by Keras
    return run

"""A saved run's network as ONNX: exported once, cached beside the run, served by ONNX Runtime.

``export_onnx`` converts the run's Keras model with tf2onnx (TensorFlow is imported there and only
there). The graph is traced from ``model(x, training=False)``: the inference graph, so layers that
act only while training (the quality CNN's random flips, rotations and contrast) are left out; Keras'
own ``model.export(format="onnx")`` traces them too and gives a graph ONNX Runtime refuses.

``ensure_onnx`` gives the cached export, making it on first use: ``model.onnx`` in the run folder,
written atomically (a hidden partial file renamed into place), and ``model.onnx.sha256`` beside it in
``sha256sum`` format with two lines, the ONNX file's SHA-256 and that of the ``.keras`` file it was
made from (``sha256sum -c model.onnx.sha256`` checks both). A cached file is used only when both
match; otherwise it is exported again. A process that has not imported TensorFlow (an ONNX server)
exports in a child process (``python -m core export``), so TensorFlow never enters it. When the run
folder cannot be written, the export is cached in the system's temporary folder instead.

``load_onnx`` gives an ``OnnxModel``: the calls the scoring code makes on a Keras model
(``predict_on_batch``, ``predict``, ``model(x, training=False)``, ``output_shape``) answered by an
ONNX Runtime session, with no TensorFlow in the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from core.errors import DataValidationError

ONNX_FILE = "model.onnx"
SHA_FILE = "model.onnx.sha256"
OPSET = 17
# ONNX Runtime's threads per session. One by default: a server answers many small requests at once, and
# on a busy 2-core machine extra intra-op threads spinning for work doubled a one-row request's CPU time.
THREADS_ENV = "STUDIO_ONNX_THREADS"
EXPORT_TIMEOUT = 900
# Rows per ONNX Runtime call: a larger input is run in slices of this many. The session's memory arena
# grows to the largest call's tensors and keeps them, so one 65,536-row call left ~50 MB resident in a
# server for good; each row's output does not depend on the others in its call.
RUN_ROWS = 16_384
ROOT = Path(__file__).resolve().parents[2]


def _keras_sha(run_dir: Path) -> str:
    """The SHA-256 of the run's ``.keras`` file as saved (the run's file list), else as it is on disk."""
    from core.store.registry import MODEL_FILE, file_sha256, read_metadata

    rec = (read_metadata(run_dir).get("files") or {}).get(MODEL_FILE)
    if isinstance(rec, dict) and rec.get("sha256"):
        return str(rec["sha256"])
    path = run_dir / MODEL_FILE
    if not path.is_file():
        raise DataValidationError(f"Expected a Keras model file in run '{run_dir.name}'; got none. "
                                  "Fix: pick a run saved with its model, or train it again.")
    return file_sha256(path)


def _fallback_dir(run_dir: Path, keras_sha: str) -> Path:
    return Path(tempfile.gettempdir()) / "studio-onnx" / f"{run_dir.name}-{keras_sha[:16]}"


def _read_side(side: Path) -> dict[str, str]:
    out = {}
    with contextlib.suppress(OSError, ValueError):
        for line in side.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.strip().partition("  ")
            if digest and name:
                out[name.strip()] = digest.strip()
    return out


def cached_onnx(run_dir) -> Path | None:
    """The run's cached ONNX export when it is complete and made from the run's current model, else None."""
    from core.store.registry import MODEL_FILE, file_sha256

    run_dir = Path(run_dir)
    keras_sha = _keras_sha(run_dir)
    for folder in (run_dir, _fallback_dir(run_dir, keras_sha)):
        onnx, side = folder / ONNX_FILE, folder / SHA_FILE
        if not (onnx.is_file() and side.is_file()) or onnx.is_symlink():
            continue
        sums = _read_side(side)
        if sums.get(MODEL_FILE) == keras_sha and sums.get(ONNX_FILE) == file_sha256(onnx):
            return onnx
    return None


def _convert(model):
    """The ONNX graph of ``model(x, training=False)`` (tf2onnx; imports TensorFlow)."""
    import tensorflow as tf
    import tf2onnx

    specs = [tf.TensorSpec((None, *tuple(i.shape[1:])), tf.float32, name=str(i.name).split(":")[0])
             for i in model.inputs]

    @tf.function(input_signature=specs)
    def infer(*xs):
        return model(xs[0] if len(xs) == 1 else list(xs), training=False)

    proto, _ = tf2onnx.convert.from_function(infer, input_signature=specs, opset=OPSET)
    return proto.SerializeToString()


def _check_against_keras(model, onnx_bytes: bytes, *, rows: int = 64, seed: int = 0) -> float:
    """Largest absolute difference between Keras and ONNX Runtime on seeded random inputs."""
    session = OnnxModel(onnx_bytes)
    rng = np.random.default_rng(seed)
    xs = []
    for i in model.inputs:
        shape = (rows, *tuple(i.shape[1:]))
        # Images arrive as pixel values; every other input is standardised numbers.
        xs.append(rng.uniform(0, 255, shape) if len(shape) == 4 else rng.normal(size=shape))
    xs = [x.astype(np.float32) for x in xs]
    keras_out = np.asarray(model(xs[0] if len(xs) == 1 else xs, training=False), dtype=float)
    return float(np.max(np.abs(keras_out - session(xs[0] if len(xs) == 1 else xs))))


def convert_checked(model, *, name: str, tolerance: float = 1e-3) -> tuple[bytes, float]:
    """The ONNX graph of ``model`` and its largest difference from Keras on seeded inputs (imports TensorFlow).

    ``DataValidationError`` when tf2onnx cannot convert it, or when the graph's outputs differ from Keras
    by more than ``tolerance``; ``name`` is the run the messages speak of."""
    try:
        data = _convert(model)
    except Exception as exc:  # tf2onnx raises its own errors for layers it cannot convert
        raise DataValidationError(f"Expected the network of run '{name}' to convert to ONNX; got "
                                  f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}. "
                                  "Fix: serve it with --runtime keras.") from exc
    diff = _check_against_keras(model, data)
    if not np.isfinite(diff) or diff > tolerance:
        raise DataValidationError(f"Expected the ONNX export of run '{name}' to give the Keras model's "
                                  f"outputs; got a difference of {diff:.3g}. Fix: serve it with --runtime keras.")
    return data, diff


def export_onnx(run_dir, *, model=None) -> dict:
    """Export the run's network to ONNX and cache it beside the run (see the module docstring).

    Imports TensorFlow. Returns ``{"path", "sha256", "bytes", "max_abs_diff"}``: the cached file and
    the largest difference from Keras on 64 seeded random inputs, checked before the file is kept.
    """
    from core.store.registry import MODEL_FILE, load_run, write_atomic

    run_dir = Path(run_dir)
    if model is None:
        model = load_run(run_dir).model
    if model is None:
        raise DataValidationError(f"Expected a Keras model in run '{run_dir.name}'; got none. "
                                  "Fix: pick a run saved with its model.")
    keras_sha = _keras_sha(run_dir)
    data, diff = convert_checked(model, name=run_dir.name)
    onnx_sha = hashlib.sha256(data).hexdigest()
    side = f"{onnx_sha}  {ONNX_FILE}\n{keras_sha}  {MODEL_FILE}\n"
    folder = run_dir
    try:
        write_atomic(folder / ONNX_FILE, data, what="Writing the ONNX export")
        write_atomic(folder / SHA_FILE, side, what="Writing the ONNX export")
    except (OSError, DataValidationError):  # a read-only run folder: cache it in the temporary folder
        folder = _fallback_dir(run_dir, keras_sha)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / ONNX_FILE, data, what="Writing the ONNX export")
        write_atomic(folder / SHA_FILE, side, what="Writing the ONNX export")
    return {"path": str(folder / ONNX_FILE), "sha256": onnx_sha, "bytes": len(data), "max_abs_diff": diff}


@contextlib.contextmanager
def _export_lock(run_dir: Path):
    """One export of a run at a time across processes (a second waits, then finds the cache)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: exports of one run may race; the cache check still holds
        yield
        return
    name = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"studio-onnx-{name}.lock", "w") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def ensure_onnx(run_dir, *, in_process: bool | None = None) -> Path:
    """The run's cached ONNX file, exported first when there is none (or it is stale).

    ``in_process``: export in this process (imports TensorFlow). By default a process that has
    TensorFlow already exports itself, and any other one runs ``python -m core export`` in a child
    process, so TensorFlow stays out of it.
    """

    run_dir = Path(run_dir)
    found = cached_onnx(run_dir)
    if found is not None:
        return found
    with _export_lock(run_dir):
        found = cached_onnx(run_dir)  # another process may have exported while this one waited
        if found is not None:
            return found
        if in_process if in_process is not None else tensorflow_loaded():
            export_onnx(run_dir)
        else:
            _export_in_child(run_dir)
    found = cached_onnx(run_dir)
    if found is None:
        raise DataValidationError(f"Expected an ONNX export of run '{run_dir.name}' after exporting it; got none. "
                                  f"Fix: run python -m core export --model {run_dir} --format onnx and read its error.")
    return found


def _export_in_child(run_dir: Path) -> None:
    cmd = [sys.executable, "-m", "core", "export", "--model", str(run_dir), "--format", "onnx", "--json"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=EXPORT_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise DataValidationError(f"Expected the ONNX export of run '{run_dir.name}' within {EXPORT_TIMEOUT} s; "
                                  "it took longer. Fix: run python -m core export on a quieter machine.") from exc
    if done.returncode != 0:
        said = [ln[7:] for ln in done.stderr.splitlines() if ln.startswith("error: ")]
        reason = said[-1] if said else (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise DataValidationError(f"Expected the ONNX export of run '{run_dir.name}' to succeed; got: {reason}")


class OnnxModel:
    """An ONNX Runtime session answering the calls the scoring code makes on a Keras model.

    ``source`` is a path or the model's bytes. Inputs are fed in the Keras model's input order as
    float32 (pixel values of ``uint8`` images too, as Keras casts them); the first output is returned
    as a NumPy array.
    """

    def __init__(self, source, *, threads: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        threads = threads if threads is not None else int(os.environ.get(THREADS_ENV, "1") or 1)
        opts.intra_op_num_threads = max(0, int(threads))  # 0: ONNX Runtime's own choice (one per core)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        data = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.path = None if isinstance(source, (bytes, bytearray)) else str(source)
        self.session = ort.InferenceSession(bytes(data), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self._output = self.session.get_outputs()[0]

    def __repr__(self) -> str:
        return f"OnnxModel(inputs={self.input_names}, sha256={self.sha256[:12]})"

    @property
    def output_shape(self) -> tuple:
        return tuple(d if isinstance(d, int) else None for d in self._output.shape)

    def _feed(self, x) -> dict:
        xs = list(x) if isinstance(x, (list, tuple)) else [x]
        if len(xs) != len(self.input_names):
            raise DataValidationError(f"Expected {len(self.input_names)} model input(s) {self.input_names}; got "
                                      f"{len(xs)}. Fix: pass the inputs the model was trained on.")
        return {n: np.ascontiguousarray(np.asarray(v, dtype=np.float32)) for n, v in zip(self.input_names, xs)}

    def __call__(self, x, training: bool = False) -> np.ndarray:
        feed = self._feed(x)
        n = len(next(iter(feed.values())))
        if n == 0:
            return np.zeros((0, *[d or 0 for d in self.output_shape[1:]]), dtype=np.float32)
        if n <= RUN_ROWS:
            return self.session.run([self._output.name], feed)[0]
        return np.concatenate([self.session.run([self._output.name], {k: v[i:i + RUN_ROWS] for k, v in feed.items()})[0]
                               for i in range(0, n, RUN_ROWS)])

    def predict_on_batch(self, x) -> np.ndarray:
        return self(x)

    def predict(self, x, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        feed = list(self._feed(x).values())
        n = len(feed[0])
        if n == 0:
            return self(feed if len(feed) > 1 else feed[0])
        parts = [self([v[i:i + batch_size] for v in feed] if len(feed) > 1 else feed[0][i:i + batch_size])
                 for i in range(0, n, max(1, int(batch_size)))]
        return np.concatenate(parts)


def load_onnx(path, *, threads: int | None = None) -> OnnxModel:
    """An ``OnnxModel`` over the ONNX file at ``path`` (no TensorFlow imported)."""
    try:
        return OnnxModel(path, threads=threads)
    except DataValidationError:
        raise
    except Exception as exc:  # onnxruntime raises its own error types for a damaged or foreign file
        raise DataValidationError(f"Expected a readable ONNX model at '{path}'; got: {str(exc).splitlines()[0][:200]}. "
                                  "Fix: delete model.onnx and model.onnx.sha256 in the run folder; the next "
                                  "start exports it again.") from exc


def tensorflow_loaded() -> bool:
    """Whether this process has imported TensorFlow or Keras (what the ONNX runtime avoids)."""
    import sys

    return "tensorflow" in sys.modules or "keras" in sys.modules

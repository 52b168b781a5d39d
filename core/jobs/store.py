"""A job's result on disk, and back in a process that never imports TensorFlow.

A training job runs in a worker process and returns plain Python objects (the run, its SHAP values,
its search), some of which hold Keras networks. ``dump_result`` pickles the result with every
``keras.Model`` in it written beside the pickle twice: as a ``.keras`` file (what "Save run" and the
model download copy byte for byte) and as an ONNX graph checked against Keras on seeded inputs.
``load_result`` unpickles it with each network replaced by a :class:`DetachedModel`, which answers
``predict`` / ``__call__`` / ``predict_on_batch`` with ONNX Runtime (no TensorFlow in the server
process) and ``save(path)`` by copying the ``.keras`` file. Anything else asked of a network (its
layers, a gradient for Grad-CAM) loads the Keras file on first use: it works, at the price of
TensorFlow in that process, and is counted in ``DetachedModel.keras_loads`` so tests can tell.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

RESULT_FILE = "result.pkl"
# Largest difference from Keras an ONNX graph may show on seeded inputs before the Keras file is used instead.
ONNX_TOLERANCE = 1e-4


def _is_keras_model(obj) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


class _Pickler(pickle.Pickler):
    def __init__(self, fh, folder: Path):
        super().__init__(fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.folder = folder
        self.models: dict[int, str] = {}

    def persistent_id(self, obj):
        if not _is_keras_model(obj):
            return None
        name = self.models.get(id(obj))
        if name is None:
            name = f"model-{len(self.models)}"
            self.models[id(obj)] = name
            _write_model(obj, self.folder / name)
        return ("model", name)


def _write_model(model, stem: Path) -> None:
    """``stem.keras`` always; ``stem.onnx`` when the graph converts and agrees with Keras."""
    from core.runtime.onnx import convert_checked

    model.save(stem.with_suffix(".keras"))
    try:
        data, _ = convert_checked(model, name=stem.name, tolerance=ONNX_TOLERANCE)
    except Exception:  # a layer tf2onnx cannot convert: the Keras file serves instead (slower, same answers)
        return
    stem.with_suffix(".onnx").write_bytes(data)


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, folder: Path):
        super().__init__(fh)
        self.folder = folder
        self.models: dict[str, DetachedModel] = {}

    def find_class(self, module, name):
        """Classes pickled under a module's former name (core/renamed.py) resolve to where it lives now."""
        from core.renamed import current_module

        return super().find_class(current_module(module), name)

    def persistent_load(self, pid):
        kind, name = pid
        if kind != "model":
            raise pickle.UnpicklingError(f"unknown stored object {kind!r}")
        if name not in self.models:
            self.models[name] = DetachedModel.from_files(self.folder / name)
        return self.models[name]


def dump_result(result: Any, folder) -> Path:
    """Pickle ``result`` into ``folder`` (networks as files beside it); the pickle appears last, whole."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    _Pickler(buf, folder).dump(result)
    tmp = folder / (RESULT_FILE + ".tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, folder / RESULT_FILE)
    return folder / RESULT_FILE


def load_result(folder) -> Any:
    """The object ``dump_result`` wrote, its networks as :class:`DetachedModel`."""
    folder = Path(folder)
    with open(folder / RESULT_FILE, "rb") as fh:
        return _Unpickler(fh, folder).load()


class DetachedModel:
    """A trained network kept as files: ONNX Runtime for predictions, the Keras file for the rest.

    The files are read into memory when the object is made, so the job's folder can be removed
    afterwards; the object pickles (and copies) as those bytes.
    """

    keras_loads = 0  # networks loaded into Keras in this process (paths that still need TensorFlow)
    _count_lock = threading.Lock()

    def __init__(self, name: str, keras_bytes: bytes, onnx_bytes: bytes | None = None):
        self.name = name
        self.keras_bytes = keras_bytes
        self.onnx_bytes = onnx_bytes
        self._onnx = None
        self._keras = None
        self._lock = threading.Lock()

    @classmethod
    def from_files(cls, stem) -> DetachedModel:
        """The network ``dump_result`` wrote as ``stem.keras`` (and ``stem.onnx`` when it converted)."""
        stem = Path(stem)
        onnx = stem.with_suffix(".onnx")
        return cls(stem.name, stem.with_suffix(".keras").read_bytes(), onnx.read_bytes() if onnx.exists() else None)

    def __getstate__(self):
        return {"name": self.name, "keras_bytes": self.keras_bytes, "onnx_bytes": self.onnx_bytes}

    def __setstate__(self, state):
        self.__init__(**state)

    def __deepcopy__(self, memo):
        return self  # read-only: copies of a run share their network

    def __repr__(self) -> str:
        how = "ONNX Runtime" if self.onnx_bytes is not None else "Keras"
        return f"DetachedModel({self.name}, predicts with {how})"

    # ------------------------------------------------------------- predictions
    @property
    def onnx(self):
        """The ONNX Runtime session (``None`` when the graph did not convert)."""
        if self.onnx_bytes is None:
            return None
        with self._lock:
            if self._onnx is None:
                from core.runtime.onnx import OnnxModel

                # Every core for one call (ONNX Runtime's own choice), as Keras does: a page's SHAP sends hundreds
                # of thousands of perturbed rows at once. (The HTTP service keeps one thread per request.)
                self._onnx = OnnxModel(self.onnx_bytes, threads=0)
            return self._onnx

    def __call__(self, x, training: bool = False):
        session = self.onnx
        if session is None:
            return np.asarray(self.keras(x, training=False))
        return session(x)

    def predict(self, x, batch_size: int = 256, verbose: int = 0, **_):
        session = self.onnx
        if session is None:
            return self.keras.predict(x, batch_size=batch_size, verbose=0)
        return session.predict(x, batch_size=batch_size or 256)

    def predict_on_batch(self, x):
        return self(x)

    def save(self, path, *args, **kwargs) -> None:
        """Write the trained network's ``.keras`` file (byte for byte the one the training wrote)."""
        path = Path(path)
        if path.suffix != ".keras":
            return self.keras.save(path, *args, **kwargs)
        path.write_bytes(self.keras_bytes)

    # ------------------------------------------------------------- everything else: Keras
    @property
    def keras(self):
        """The Keras network itself, loaded on first use (imports TensorFlow in this process)."""
        with self._lock:
            if self._keras is None:
                import tempfile

                import keras

                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "model.keras"
                    path.write_bytes(self.keras_bytes)
                    self._keras = keras.saving.load_model(path, compile=False, safe_mode=False)
                with DetachedModel._count_lock:
                    DetachedModel.keras_loads += 1
            return self._keras

    def __getattr__(self, name):
        if name.startswith("__") or name in ("keras_bytes", "onnx_bytes", "name", "_onnx", "_keras", "_lock"):
            raise AttributeError(name)
        return getattr(self.keras, name)


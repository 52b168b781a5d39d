"""Saved runs on disk: a Keras model file plus JSON, written atomically, loaded without pickle."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import DataValidationError

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
META_FILE = "metadata.json"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_run_id(scenario: str) -> str:
    return f"{scenario}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def save_run(root, *, model: Any, metadata: dict, files: dict[str, bytes] | None = None,
             run_id: str | None = None) -> Path:
    """Write a run under ``root/run_id`` atomically: complete, or absent.

    Everything is written into a hidden temporary folder in the same directory, flushed, then
    renamed into place in one step; a crash mid-save leaves only a temporary folder that
    ``list_runs`` ignores.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id(metadata.get("scenario", "run"))
    final = root / run_id
    if final.exists():
        raise DataValidationError(f"A run named '{run_id}' already exists in {root}. Choose another name.")
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_id}.", suffix=".tmp", dir=root))
    try:
        if model is not None:
            model.save(tmp / MODEL_FILE)
        for name, data in (files or {}).items():
            if Path(name).name != name:
                raise DataValidationError(f"Run file names must be plain names; got '{name}'.")
            (tmp / name).write_bytes(data)
        meta = {"format_version": FORMAT_VERSION, "run_id": run_id, "saved_at": time.time(), **metadata}
        with open(tmp / META_FILE, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, default=_json_default)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        os.rename(tmp, final)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


@dataclass
class Run:
    path: Path
    metadata: dict
    model: Any = None

    def read_file(self, name: str) -> bytes:
        return (self.path / name).read_bytes()


def read_metadata(path) -> dict:
    """Metadata of a saved run; raises ``DataValidationError`` if damaged or incompatible."""
    path = Path(path)
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataValidationError(f"Run '{path.name}' is damaged: its {META_FILE} cannot be read ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        got = meta.get("format_version") if isinstance(meta, dict) else type(meta).__name__
        raise DataValidationError(
            f"Run '{path.name}' was saved in format {got}; this version reads format {FORMAT_VERSION}. "
            "Retrain the model to save it again."
        )
    return meta


def load_run(path, *, load_model: bool = True) -> Run:
    """Load a run. Keras files load in safe mode, so a file carrying code is refused."""
    path = Path(path)
    meta = read_metadata(path)
    model = None
    if load_model and (path / MODEL_FILE).exists():
        import keras

        try:
            model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
        except Exception as exc:  # damaged archive, unknown layer, code refused by safe mode
            raise DataValidationError(
                f"The model in run '{path.name}' cannot be loaded safely: {str(exc).splitlines()[0][:200]}"
            ) from exc
    return Run(path=path, metadata=meta, model=model)


def list_runs(root) -> tuple[list[dict], list[str]]:
    """Metadata of every readable run under ``root`` (newest first) and notes on skipped ones."""
    root = Path(root)
    runs, skipped = [], []
    if not root.exists():
        return runs, skipped
    for p in sorted(root.iterdir()):
        if not p.is_dir() or p.name.startswith("."):
            continue
        try:
            meta = read_metadata(p)
        except DataValidationError as exc:
            skipped.append(str(exc))
            continue
        runs.append({**meta, "path": str(p)})
    runs.sort(key=lambda m: m.get("saved_at", 0), reverse=True)
    return runs, skipped

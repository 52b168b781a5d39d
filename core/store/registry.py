"""Saved runs on disk: a Keras model file plus JSON, written atomically, loaded without pickle."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from core.errors import DataValidationError
from core.store.runmeta import SCHEMA_KEY, SCHEMA_VERSION, RunMeta, migrate

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
META_FILE = "metadata.json"
# Every scenario saves a Keras model; its input layers say which kind of data it takes.


def get_scenario_model_kind(scenario: str) -> str | None:
    """What a run of ``scenario`` keeps in its model file (the scenario's ``model_kind``: "table",
    "sequence", "image"), or None for an unknown scenario or one whose runs keep no Keras model."""
    from core.store.scenarios import find_scenario

    found = find_scenario(scenario)
    return getattr(found, "model_kind", None) if found is not None else None


class _ModelKinds(Mapping):
    """``scenario -> model kind`` over the registered scenarios that save a Keras model, asked of each."""

    def __getitem__(self, key):
        kind = get_scenario_model_kind(key)
        if kind is None:
            raise KeyError(key)
        return kind

    def __iter__(self):
        from core.store.scenarios import scenario_keys

        return iter([k for k in scenario_keys() if get_scenario_model_kind(k) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


MODEL_KINDS: Mapping[str, str] = _ModelKinds()
KIND_NAMES = {"table": "a table of features", "sequence": "sales windows (demand)", "image": "images (quality)"}
# Temporary folders and files left by a save or an output the process did not finish (killed, power
# cut) are removed by the next save into the same folder once they are this old.
STALE_SECONDS = 3600
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


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


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes (what ``sha256sum FILE`` prints), read in blocks: a run's files and a
    file to score may be larger than memory."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def disk_full_message(exc: OSError, what: str, where, *, need_bytes: int | None = None) -> str | None:
    """The message for a write that failed because the disk (or quota) is full; None for other errors."""
    if getattr(exc, "errno", None) not in _DISK_FULL:
        return None
    need = f" at least {need_bytes / 1e6:,.1f} MB free;" if need_bytes else " free space;"
    return (f"{what} stopped: the disk holding '{where}' is full (expected{need} got "
            f"'{exc.strerror or exc}'). Nothing was half-written. Fix: free disk space, or save to another "
            "folder (set STUDIO_RUNS_DIR for the app).")


def remove_stale_temporaries(folder, *, older_than: float = STALE_SECONDS) -> int:
    """Remove hidden temporary folders / files that a killed save or output left in ``folder``."""
    folder, now, removed = Path(folder), time.time(), 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for p in entries:
        if not (p.name.startswith(".") and p.name.endswith((".tmp", ".partial"))) or p.is_symlink():
            continue
        try:
            if now - p.stat().st_mtime < older_than:
                continue
            shutil.rmtree(p) if p.is_dir() else p.unlink()
            removed += 1
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def atomic_output(out, *, what: str = "Writing the output"):
    """Yield a hidden temporary path beside ``out``; when the block ends without error, flush it to
    disk and rename it to ``out`` in one step. ``out`` is therefore complete or absent, whenever the
    process is killed; a full disk is a ``DataValidationError`` and leaves nothing behind."""
    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise DataValidationError(f"Expected a file name for the output; got '{out}', which is a folder. "
                                  "Fix: pass a file path, e.g. scored.csv.")
    if not folder.is_dir():
        raise DataValidationError(f"Expected an existing folder for the output '{out}'; '{folder}' does not "
                                  "exist. Fix: create it first or write elsewhere.")
    remove_stale_temporaries(folder)
    tmp = folder / f".{out.name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        yield tmp
        if tmp.exists():
            _fsync_file(tmp)
            os.replace(tmp, out)
            _fsync_dir(folder)
    except OSError as exc:
        msg = disk_full_message(exc, what, folder)
        if msg is None:
            raise
        raise DataValidationError(msg) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_atomic(out, data: bytes | str, *, what: str = "Writing the output") -> Path:
    """Write ``data`` to ``out`` so that the file is complete or absent (see ``atomic_output``)."""
    with atomic_output(out, what=what) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(out)


def new_run_id(scenario: str) -> str:
    return f"{scenario}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def save_run(root, *, model: Any, metadata: dict, files: dict[str, bytes] | None = None,
             run_id: str | None = None) -> Path:
    """Write a run under ``root/run_id`` atomically: complete, or absent.

    Everything is written into a hidden temporary folder in the same directory, flushed to disk
    (each file, then the folder), then renamed into place in one step; a crash mid-save leaves only
    a temporary folder that ``list_runs`` ignores and a later save removes. The metadata records the
    size and SHA-256 of every file (``"files"``), so a file swapped or cut short by hand is noticed.
    A full disk is a ``DataValidationError`` with nothing left behind.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run_id = run_id or new_run_id(metadata.get("scenario", "run"))
    final = root / run_id
    if final.exists() or final.is_symlink():
        raise DataValidationError(f"A run named '{run_id}' already exists in {root}. Choose another name.")
    for name in files or {}:
        if Path(name).name != name or name in (META_FILE, MODEL_FILE) or name.startswith("."):
            raise DataValidationError(f"Run file names must be plain names other than {META_FILE} and {MODEL_FILE}; "
                                      f"got '{name}'. Fix: rename the file.")
    remove_stale_temporaries(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_id}.", suffix=".tmp", dir=root))
    try:
        if model is not None:
            model.save(tmp / MODEL_FILE)
        for name, data in (files or {}).items():
            (tmp / name).write_bytes(data)
        manifest = {}
        for p in sorted(tmp.iterdir()):
            _fsync_file(p)
            manifest[p.name] = {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        meta = {"format_version": FORMAT_VERSION, "run_id": run_id, "saved_at": time.time(), **metadata,
                SCHEMA_KEY: SCHEMA_VERSION, "files": manifest}
        with open(tmp / META_FILE, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, default=_json_default)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(tmp)
        os.rename(tmp, final)
        _fsync_dir(root)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        msg = disk_full_message(exc, f"Saving run '{run_id}'", root,
                                need_bytes=sum(len(d) for d in (files or {}).values()) or None) \
            if isinstance(exc, OSError) else None
        if msg is not None:
            raise DataValidationError(msg) from exc
        raise
    return final


def check_save_target(path, *, scenario: str = "run") -> Path:
    """``--save DIR``: the new run is saved as the folder DIR (``score --model DIR`` then reads it;
    the runs folder holding it, e.g. ``runs/``, is what the Runs page lists). DIR must not exist
    yet; an existing run, folder or file gets a message naming a free folder name. Checked before
    training, so nobody waits for a run that cannot be saved."""
    import re

    path = Path(path)

    def free(folder: Path, name: str) -> Path:
        m = re.fullmatch(r"(.+)-(\d+)", name)
        stem, n = (m.group(1), int(m.group(2))) if m else (name, 1)
        while (folder / f"{stem}-{n}").exists():
            n += 1
        return folder / f"{stem}-{n}"

    if not path.name or path.name in (".", ".."):
        raise DataValidationError(f"Expected --save to name the new run's folder; got '{path}'. "
                                  f"Fix: e.g. --save runs/{scenario}-1.")
    if (path / META_FILE).exists():
        raise DataValidationError(
            f"Cannot save the run as '{path}': that folder already exists and holds a saved run. "
            f"Fix: choose a new folder name, e.g. --save {free(path.parent, path.name)} (--save names the "
            "new run's own folder).")
    if path.is_dir():
        raise DataValidationError(
            f"Cannot save the run as '{path}': that folder already exists and is not a saved run. --save names "
            f"the new run's own folder; it does not save into a folder. Fix: --save {free(path, scenario)} (a new "
            "folder inside it), or another new folder name.")
    if path.exists() or path.is_symlink():
        raise DataValidationError(
            f"Cannot save the run as '{path}': a file of that name already exists. --save names the new run's own "
            f"folder. Fix: --save {free(path.parent, scenario)}, or another new folder name.")
    return path


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

    @property
    def info(self) -> RunMeta:
        """The metadata, typed (``core.store.runmeta.RunMeta``)."""
        return RunMeta.from_dict(self.metadata, name=self.path.name)

    def read_file(self, name: str) -> bytes:
        return (self.path / name).read_bytes()


def read_metadata(path) -> dict:
    """Metadata of a saved run in today's shape (``core.store.runmeta.migrate``: older runs migrated once, so
    readers take its sections as they are); raises ``DataValidationError`` if damaged or incompatible
    (another format, or a run metadata schema newer than this version reads)."""
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
    return migrate(meta, name=path.name)


def get_model_kind(model_file) -> str | None:
    """What a ``.keras`` file takes as input, from its config alone (no TensorFlow): "table",
    "sequence" or "image"; None when the file is not a readable Keras archive."""
    try:
        with zipfile.ZipFile(model_file) as zf:
            if zf.getinfo("config.json").file_size > 50 * 1024 * 1024:  # not a config a model writes
                return None
            config = json.loads(zf.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    shapes, names = [], []
    for layer in (config.get("config") or {}).get("layers") or []:
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
            cfg = layer.get("config") or {}
            shapes.append(cfg.get("batch_shape") or cfg.get("batch_input_shape") or [])
            names.append(str(cfg.get("name", "")))
    if any(len(s) == 4 for s in shapes):
        return "image"
    if len(shapes) > 1 or any(len(s) == 3 for s in shapes):
        return "sequence"
    return "table" if shapes else None


def _check_links(path: Path) -> str | None:
    """A run folder that is a link, or holds a link: its files could be anything, anywhere."""
    name = path.name
    if path.is_symlink():
        return (f"Run '{name}' skipped: the folder is a link to '{os.readlink(path)}', not a run folder. "
                "Fix: copy the run folder itself into the runs folder.")
    try:
        entries = list(path.iterdir())
    except OSError as exc:
        return f"Run '{name}' skipped: the folder cannot be read ({exc.strerror or exc}). Fix: check its permissions."
    real = path.resolve()
    for p in entries:
        if p.is_symlink():
            inside = real in p.resolve().parents
            return (f"Run '{name}' skipped: its file '{p.name}' is a link to '{os.readlink(p)}' "
                    f"({'inside' if inside else 'outside'} the run folder); a run reads only its own files. "
                    "Fix: replace the link with the file itself, or delete the run.")
    return None


def check_run_folder(path, meta: dict | None = None, *, verify_hashes: bool = False) -> str | None:
    """Why the run folder at ``path`` cannot be used as it is, or None when it can.

    Catches what a hand edit leaves: the folder or one of its files being a link (possibly to a file
    outside it), a file the metadata lists missing or of another size (or content, with
    ``verify_hashes``), no model file, and a model file that takes another kind of data than the
    scenario's (a model copied in from another run).
    """
    path = Path(path)
    problem = _check_links(path)
    if problem is not None:
        return problem
    meta = meta if meta is not None else read_metadata(path)
    name = path.name
    scenario = str(meta.get("scenario", ""))
    manifest = meta.get("files") if isinstance(meta.get("files"), dict) else {}
    # Runs saved with a file list must hold every file in it; older runs at least their model.
    model_kind = get_scenario_model_kind(scenario)
    expected = set(manifest) if "files" in meta else ({MODEL_FILE} if model_kind is not None else set())
    for fname in sorted(expected):
        if not isinstance(fname, str) or Path(fname).name != fname or fname in ("", ".", ".."):
            return (f"Run '{name}' skipped: its {META_FILE} lists a file '{fname}' outside the run folder. "
                    "Fix: delete the run and train again.")
        if not (path / fname).is_file():
            return (f"Run '{name}' skipped: its file '{fname}' is missing. Fix: copy the file back from where "
                    "the run came from, or delete the run and train again.")
    if model_kind is not None and (path / MODEL_FILE).exists():
        kind = get_model_kind(path / MODEL_FILE)
        if kind is None:
            return (f"Run '{name}' skipped: its {MODEL_FILE} is not a readable Keras model file. Fix: copy the "
                    "run's own model file back, or delete the run and train again.")
        if kind != model_kind:
            return (f"Run '{name}' skipped: it is a {scenario} run, whose model takes "
                    f"{KIND_NAMES[model_kind]}; its {MODEL_FILE} takes {KIND_NAMES[kind]} (a model "
                    "from another scenario). Fix: copy the run's own model file back, or delete the run.")
    for fname in sorted(expected):
        f, rec = path / fname, manifest.get(fname)
        if isinstance(rec, dict) and isinstance(rec.get("bytes"), int) and f.stat().st_size != rec["bytes"]:
            return (f"Run '{name}' skipped: its file '{fname}' has {f.stat().st_size:,} bytes, expected "
                    f"{rec['bytes']:,} as saved; it was replaced or cut short. Fix: copy the run's own file "
                    "back, or delete the run and train again.")
        if verify_hashes and isinstance(rec, dict) and rec.get("sha256") and file_sha256(f) != rec["sha256"]:
            return (f"Run '{name}' skipped: its file '{fname}' is not the one saved with the run (its "
                    "SHA-256 differs). Fix: copy the run's own file back, or delete the run and train again.")
    return None


def load_run(path, *, load_model: bool = True) -> Run:
    """Load a run. Keras files load in safe mode, so a file carrying code is refused; a folder
    edited by hand (see ``check_run_folder``) is refused with the reason."""
    path = Path(path)
    problem = _check_links(path)
    meta = read_metadata(path) if problem is None else {}
    problem = problem or check_run_folder(path, meta, verify_hashes=load_model)
    if problem is not None:
        raise DataValidationError(problem.replace(" skipped:", " cannot be used:"))
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
    """Metadata of every usable run under ``root`` (newest first) and, for every folder left out,
    one line saying which run and why (damaged metadata, missing or swapped files, links)."""
    root = Path(root)
    runs, skipped = [], []
    if not root.exists():
        return runs, skipped
    for p in sorted(root.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_symlink() and p.is_dir():
            skipped.append(_check_links(p))
            continue
        if not p.is_dir():
            continue
        if not (p / META_FILE).exists() and not (p / MODEL_FILE).exists():
            continue  # not a run: a sub-folder of runs (core.workspace.runs.list_run_folders)
        try:
            problem = _check_links(p)
            if problem is not None:
                skipped.append(problem)
                continue
            meta = read_metadata(p)
            problem = check_run_folder(p, meta)
        except DataValidationError as exc:
            skipped.append(str(exc))
            continue
        except OSError as exc:  # a folder that vanished or cannot be read while listing
            skipped.append(f"Run '{p.name}' skipped: it cannot be read ({exc.strerror or exc}).")
            continue
        if problem is not None:
            skipped.append(problem)
            continue
        runs.append({**meta, "path": str(p)})
    runs.sort(key=lambda m: m.get("saved_at", 0) if isinstance(m.get("saved_at"), (int, float)) else 0, reverse=True)
    return runs, skipped

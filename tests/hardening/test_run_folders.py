"""Run folders edited by hand are listed as skipped with the reason; saves and outputs are complete or
absent, also when the disk is full."""

from __future__ import annotations

import errno
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from core.store import registry
from core.errors import DataValidationError
from core.workspace.runs import list_workspace_runs


class FakeModel:
    """Writes a Keras-format archive whose config names its input layers, like ``model.save``."""

    def __init__(self, *shapes, pad: int = 0):
        self.shapes, self.pad = shapes, pad

    def save(self, path):
        layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, *s], "name": f"in{i}"}}
                  for i, s in enumerate(self.shapes)]
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("config.json", json.dumps({"class_name": "Functional", "config": {"layers": layers}}))
            zf.writestr("model.weights.h5", b"\0" * self.pad)


def _runs(root: Path) -> dict[str, Path]:
    return {
        "credit": registry.save_run(root, model=FakeModel((12,)), metadata={"scenario": "credit"},
                                    files={"train_row_hashes.npy": b"x" * 64}, run_id="credit-a"),
        "quality": registry.save_run(root, model=FakeModel((32, 32, 3), pad=500), metadata={"scenario": "quality"},
                                     files={"test_predictions.csv": b"a,b\n1,2\n"}, run_id="quality-a"),
        "demand": registry.save_run(root, model=FakeModel((20,), (7, 3), (7, 1)), metadata={"scenario": "demand"},
                                    run_id="demand-a"),
    }


def test_saved_runs_record_their_files_and_list(tmp_path):
    runs = _runs(tmp_path)
    meta = registry.read_metadata(runs["credit"])
    assert set(meta["files"]) == {"model.keras", "train_row_hashes.npy"}
    assert meta["files"]["train_row_hashes.npy"]["bytes"] == 64 and len(meta["files"]["model.keras"]["sha256"]) == 64
    listed, skipped = registry.list_runs(tmp_path)
    assert sorted(r["run_id"] for r in listed) == ["credit-a", "demand-a", "quality-a"] and skipped == []
    assert [registry.get_model_kind(p / "model.keras") for p in runs.values()] == ["table", "image", "sequence"]


def test_hand_edited_runs_are_skipped_with_the_reason(tmp_path):
    root = tmp_path / "runs"
    runs = _runs(root)
    outside = tmp_path / "secret.txt"
    outside.write_text("not a run file")
    # 1. A file the run needs is deleted.
    (runs["credit"] / "train_row_hashes.npy").unlink()
    # 2. Wrong JSON, and JSON of the wrong shape.
    bad = root / "bad-json"
    bad.mkdir()
    (bad / "metadata.json").write_text('{"format_version": 1, "scenario": ')
    listy = root / "list-json"
    listy.mkdir()
    (listy / "metadata.json").write_text("[1, 2, 3]")
    # 3. The model file of a quality run copied into a demand run.
    shutil.copy(runs["quality"] / "model.keras", runs["demand"] / "model.keras")
    # 4. A file replaced by a link pointing out of the folder, and a run folder that is a link.
    (runs["quality"] / "test_predictions.csv").unlink()
    os.symlink(outside, runs["quality"] / "test_predictions.csv")
    elsewhere = tmp_path / "elsewhere"
    registry.save_run(elsewhere, model=None, metadata={"scenario": "credit"}, run_id="real")
    os.symlink(elsewhere / "real", root / "linked-run")
    # 5. A run whose file was cut short, and an older run (no file list) holding another scenario's model.
    good = registry.save_run(root, model=FakeModel((12,)), metadata={"scenario": "fraud"},
                             files={"history.parquet": b"p" * 100}, run_id="fraud-a")
    (good / "history.parquet").write_bytes(b"p" * 10)
    old = root / "old-credit"
    old.mkdir()
    (old / "metadata.json").write_text(json.dumps({"format_version": 1, "scenario": "credit"}))
    FakeModel((64, 64, 1)).save(old / "model.keras")
    untouched = registry.save_run(root, model=FakeModel((5,)), metadata={"scenario": "credit"}, run_id="credit-ok")

    listed, skipped = list_workspace_runs(root)
    assert [r["run_id"] for r in listed] == ["credit-ok"]
    text = "\n".join(skipped)
    assert len(skipped) == 8, text
    assert "Run 'credit-a' skipped: its file 'train_row_hashes.npy' is missing. Fix:" in text
    assert "Run 'bad-json' is damaged" in text and "Run 'list-json' was saved in format list" in text
    assert ("Run 'demand-a' skipped: it is a demand run, whose model takes sales windows (demand); its model.keras "
            "takes images (quality) (a model from another scenario). Fix:") in text
    assert f"Run 'quality-a' skipped: its file 'test_predictions.csv' is a link to '{outside}' (outside the run " \
           "folder)" in text
    assert "Run 'linked-run' skipped: the folder is a link to" in text
    assert "Run 'fraud-a' skipped: its file 'history.parquet' has 10 bytes, expected 100 as saved" in text
    assert "Run 'old-credit' skipped: it is a credit run, whose model takes a table of features; its model.keras " \
           "takes images (quality)" in text
    # Loading one of them directly says the same, without a traceback from deep inside.
    with pytest.raises(DataValidationError, match="Run 'quality-a' cannot be used: its file 'test_predictions.csv' "
                                                  "is a link"):
        registry.load_run(runs["quality"])
    with pytest.raises(DataValidationError, match="Run 'credit-a' cannot be used: its file 'train_row_hashes.npy'"):
        registry.load_run(runs["credit"], load_model=False)
    # Same size, other content: caught when a model is loaded (SHA-256 of every file).
    (untouched / "model.keras").write_bytes(bytes(reversed((untouched / "model.keras").read_bytes())))
    assert registry.check_run_folder(untouched) is None or "not a readable" in registry.check_run_folder(untouched)
    with pytest.raises(DataValidationError, match="cannot be used"):
        registry.load_run(untouched)


def test_runs_page_lists_the_skipped_reasons(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    root = tmp_path / "runs"
    runs = _runs(root)
    (runs["credit"] / "model.keras").unlink()
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "runs.py"), default_timeout=60).run()
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown) + " ".join(w.value for w in at.warning)
    assert "1 run folder(s) could not be read" in shown
    assert "Run 'credit-a' skipped: its file 'model.keras' is missing" in shown


def _enospc(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_during_save_is_a_message_and_leaves_nothing(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    registry.save_run(root, model=FakeModel((3,)), metadata={"scenario": "credit"}, run_id="before")
    monkeypatch.setattr(Path, "write_bytes", _enospc)
    with pytest.raises(DataValidationError, match=r"Saving run 'r1' stopped: the disk holding '.*runs' is full "
                                                  r"\(expected at least 0\.0 MB free; got 'No space left on device'\)"
                                                  r"\. Nothing was half-written\. Fix: free disk space"):
        registry.save_run(root, model=FakeModel((3,)), metadata={"scenario": "credit"},
                          files={"history.parquet": b"h" * 1000}, run_id="r1")
    monkeypatch.undo()

    class FullModel:
        def save(self, path):
            Path(path).write_bytes(b"half")
            _enospc()

    with pytest.raises(DataValidationError, match="Saving run 'r2' stopped: the disk holding"):
        registry.save_run(root, model=FullModel(), metadata={"scenario": "credit"}, run_id="r2")
    # Nothing half-written: only the earlier run, no temporary folder.
    assert sorted(p.name for p in root.iterdir()) == ["before"]
    assert [r["run_id"] for r in registry.list_runs(root)[0]] == ["before"]
    # Other write errors keep their own message.
    monkeypatch.setattr(Path, "write_bytes", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "denied")))
    with pytest.raises(PermissionError):
        registry.save_run(root, model=None, metadata={"scenario": "credit"}, files={"f": b"1"}, run_id="r3")
    assert sorted(p.name for p in root.iterdir()) == ["before"]


def test_atomic_output_is_complete_or_absent(tmp_path, monkeypatch):
    out = tmp_path / "scored.csv"
    registry.write_atomic(out, "a,b\n1,2\n")
    assert out.read_text() == "a,b\n1,2\n"
    with pytest.raises(RuntimeError):
        with registry.atomic_output(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("scoring failed")
    assert out.read_text() == "a,b\n1,2\n"  # the previous complete file is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.csv"]
    real_open = open

    def full_open(path, mode="r", *a, **k):
        fh = real_open(path, mode, *a, **k)
        if "w" in mode:
            fh.write = _enospc
        return fh

    monkeypatch.setattr("builtins.open", full_open)
    with pytest.raises(DataValidationError, match="Writing the output stopped: the disk holding .* is full"):
        registry.write_atomic(tmp_path / "new.csv", b"x" * 100)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.csv"]
    with pytest.raises(DataValidationError, match="Expected an existing folder for the output"):
        registry.write_atomic(tmp_path / "missing" / "x.csv", b"1")
    # Debris of a killed write is removed by the next write once stale.
    debris = tmp_path / ".scored.csv.dead.partial"
    debris.write_text("half")
    os.utime(debris, (0, 0))
    registry.write_atomic(out, "again\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.csv"]

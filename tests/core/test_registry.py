import json
import os

import numpy as np
import pytest

from core.store import registry
from core.errors import DataValidationError
from core.ml.models import build_tabular_model, predict_batched


def test_save_and_load_round_trip(tmp_path):
    model = build_tabular_model(3, width=8, depth=1)
    path = registry.save_run(tmp_path, model=model, metadata={"scenario": "credit", "auc": np.float64(0.8)},
                             files={"extra.json": b'{"a": 1}'}, run_id="r1")
    run = registry.load_run(path)
    assert run.metadata["scenario"] == "credit" and run.metadata["auc"] == 0.8
    assert json.loads(run.read_file("extra.json")) == {"a": 1}
    X = np.ones((2, 3), dtype=np.float32)
    assert np.allclose(predict_batched(model, X), predict_batched(run.model, X))
    runs, skipped = registry.list_runs(tmp_path)
    assert [r["run_id"] for r in runs] == ["r1"] and skipped == []


def test_crash_mid_save_leaves_no_run(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(registry.os, "rename", boom)
    with pytest.raises(OSError, match="disk full"):
        registry.save_run(tmp_path, model=None, metadata={"scenario": "credit"}, run_id="r2")
    assert not (tmp_path / "r2").exists()
    assert [p for p in tmp_path.iterdir()] == []  # temporary folder cleaned up
    assert registry.list_runs(tmp_path) == ([], [])


def test_damaged_and_incompatible_runs_are_skipped(tmp_path):
    registry.save_run(tmp_path, model=None, metadata={"scenario": "credit"}, run_id="good")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / registry.META_FILE).write_text("{not json")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / registry.META_FILE).write_text(json.dumps({"format_version": 99}))
    (tmp_path / ".half.tmp").mkdir()
    runs, skipped = registry.list_runs(tmp_path)
    assert [r["run_id"] for r in runs] == ["good"]
    assert len(skipped) == 2
    assert any("'broken' is damaged" in s for s in skipped)
    assert any("format 99" in s for s in skipped)


def test_refuses_duplicate_and_unsafe_names(tmp_path):
    registry.save_run(tmp_path, model=None, metadata={}, run_id="x")
    with pytest.raises(DataValidationError, match="already exists"):
        registry.save_run(tmp_path, model=None, metadata={}, run_id="x")
    with pytest.raises(DataValidationError, match="plain names"):
        registry.save_run(tmp_path, model=None, metadata={}, files={"../evil": b""}, run_id="y")
    assert not (tmp_path / "y").exists()


def test_safe_mode_refuses_a_model_with_code(tmp_path):
    import keras

    inputs = keras.Input((2,))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "m.keras")
    path = tmp_path / "lam"
    path.mkdir()
    os.replace(tmp_path / "m.keras", path / registry.MODEL_FILE)
    (path / registry.META_FILE).write_text(json.dumps({"format_version": registry.FORMAT_VERSION}))
    with pytest.raises(DataValidationError, match="cannot be loaded safely"):
        registry.load_run(path)


def test_process_killed_mid_save_leaves_no_run(tmp_path):
    """A real crash: the saving process is killed (SIGKILL) while its model file is half written."""
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    marker = tmp_path / "writing"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(registry.Path(registry.__file__).resolve().parents[1])!r})
        from core.store import registry

        class SlowModel:
            def save(self, path):
                with open(path, "wb") as fh:
                    fh.write(b"half a model")
                    fh.flush()
                    open({str(marker)!r}, "w").close()
                    time.sleep(60)

        registry.save_run({str(tmp_path / "runs")!r}, model=SlowModel(), metadata={{"scenario": "credit"}},
                          run_id="killed")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the saving process never reached the model file"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=20)
    root = tmp_path / "runs"
    assert not (root / "killed").exists()
    leftovers = [p.name for p in root.iterdir()]
    assert leftovers and all(n.startswith(".killed.") for n in leftovers)  # only the hidden temp folder
    assert registry.list_runs(root) == ([], [])
    # The next save of the same name is not blocked by the debris.
    registry.save_run(root, model=None, metadata={"scenario": "credit"}, run_id="killed")
    assert [r["run_id"] for r in registry.list_runs(root)[0]] == ["killed"]

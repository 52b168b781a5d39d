"""What the command line prints on standard error: one device line, the notices a user must see,
and none of TensorFlow's native start-up chatter unless --verbose."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
NOISE = ("absl::InitializeLog", "oneDNN", "cuda drivers", "cuInit", "cudart_stub", "port.cc")

SNIPPET = """
import os, sys
from core.cli import quiet_native_stderr
with quiet_native_stderr({enabled}):
    os.write(2, b"native-noise\\n")
    print("python-line", file=sys.stderr)
os.write(2, b"after-block\\n")
"""


def _run_snippet(enabled: bool) -> str:
    out = subprocess.run([sys.executable, "-c", SNIPPET.format(enabled=enabled)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stderr


def test_native_stderr_is_silenced_and_python_lines_kept():
    err = _run_snippet(True)
    assert "python-line" in err
    assert "native-noise" not in err
    # Descriptor 2 is restored afterwards.
    assert "after-block" in err


def test_native_stderr_kept_when_disabled():
    err = _run_snippet(False)
    assert "native-noise" in err and "python-line" in err


def test_credit_train_prints_one_device_line_the_sensitive_note_and_no_tensorflow_chatter(tmp_path):
    data = tmp_path / "applicants.csv"
    pd.read_csv(ROOT / "sample_data" / "credit_applications.csv").head(900).to_csv(data, index=False)
    out = subprocess.run([sys.executable, "-m", "core", "train", "--scenario", "credit", "--data", str(data),
                          "--epochs", "3", "--no-explain", "--json"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert [line for line in lines if line.startswith("Training on ")] == [lines[0]]
    assert "CPU" in lines[0] or "GPU" in lines[0]
    assert not [line for line in lines if any(n in line for n in NOISE)], out.stderr
    # The sample's age and sex are kept out by default: the user is told, with the way back.
    note = [line for line in lines if line.startswith("Note: ")]
    assert len(note) == 1 and "age" in note[0] and "sex" in note[0] and "--sensitive" in note[0]
    result = json.loads(out.stdout)
    assert result["data"]["sensitive"] == ["age", "sex"]
    assert result["epochs_run"] == 3 and result["epochs_max"] == 3 and 1 <= result["best_epoch"] <= 3
    assert any(line.startswith(("Early stopping ended", "Trained all 3 of 3 epochs")) for line in lines)

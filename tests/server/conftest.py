"""Tiny saved runs of the four scenarios and real servers over them (``python -m core serve`` in a
subprocess on a free loopback port, called over HTTP with httpx)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"
FRAUD_CUSTOMERS = "C000060"  # customers below this id: a small log that still has frauds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(*argv) -> Path:
    """Train a small run with the CLI in this process; its folder."""
    from core.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["train", *argv, "--json"])
    assert code == 0
    return Path(json.loads(buf.getvalue().strip().splitlines()[-1])["saved_to"])


def cli_score(run: Path, data: Path, out: Path, *extra) -> pd.DataFrame:
    """``python -m core score`` (in this process) on ``data``; the scored file."""
    from core.cli import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["score", "--model", str(run), "--data", str(data), "--out", str(out), "--quiet", *extra]) == 0
    return pd.read_csv(out, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="session")
def runs(work) -> dict[str, Path]:
    """One tiny run per scenario (one or two epochs on small samples), in one runs folder."""
    from tests.hardening.test_privacy import credit_with_personal_data
    from tests.quality.conftest import make_zip, sample_entries

    folder = work / "runs"
    credit, _ = credit_with_personal_data(700)  # e-mail, phone, card, IBAN, SSN and names: left out at training
    credit.to_csv(work / "credit_train.csv", index=False)
    log = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    log[log["customer_id"] < FRAUD_CUSTOMERS].to_csv(work / "fraud_train.csv.gz", index=False)
    sales = pd.read_csv(SAMPLES / "demand_sales.csv")
    sales[sales["product"].isin(["P1", "P2"]) & sales["store"].isin(["S1", "S2"])].to_csv(work / "sales.csv", index=False)
    (work / "quality_train.zip").write_bytes(make_zip(sample_entries({"ok": 24, "pit": 8, "crack": 8}, size=24, seed=1)))
    return {
        "credit": train("--scenario", "credit", "--data", str(work / "credit_train.csv"), "--epochs", "2",
                        "--no-explain", "--save", str(folder / "credit-1")),
        "fraud": train("--scenario", "fraud", "--data", str(work / "fraud_train.csv.gz"), "--epochs", "2",
                       "--no-explain", "--train-start", "2024-04-01", "--test-start", "2024-04-22",
                       "--save", str(folder / "fraud-1")),
        "demand": train("--scenario", "demand", "--data", str(work / "sales.csv"), "--epochs", "1", "--horizon", "7",
                        "--event-level", "0", "--save", str(folder / "demand-1")),
        "quality": train("--scenario", "quality", "--data", str(work / "quality_train.zip"), "--image-size", "24",
                         "--epochs", "1", "--save", str(folder / "quality-1")),
    }


def copy_run(run: Path, name: str) -> Path:
    """The run under another folder name (a second model name for the server, with its own state)."""
    target = run.parent / name
    if not target.exists():
        shutil.copytree(run, target)
    return target


@pytest.fixture(scope="session")
def onnx_ready(runs) -> dict[str, Path]:
    """The runs with their ONNX exports cached (made here, where TensorFlow is loaded already, so an ONNX
    server starts without exporting)."""
    from core.runtime.onnx import ensure_onnx

    for run in runs.values():
        ensure_onnx(run, in_process=True)
    return runs


class Server:
    """A ``python -m core serve`` subprocess: its URL, its log, and how it ended."""

    def __init__(self, args: list[str], *, log: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [sys.executable, "-m", "core", "serve", "--port", str(self.port), *args]
        with open(log, "w") as fh:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                                         env={**os.environ, **(env or {})})

    def wait(self, timeout: float = 300, headers: dict | None = None) -> "Server":
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", headers=headers, timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise AssertionError(f"the server did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        """SIGTERM (a graceful shutdown, which saves state), then the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@contextlib.contextmanager
def serving(args: list[str], *, log: Path, env: dict | None = None, headers: dict | None = None):
    server = Server(args, log=log, env=env).wait(headers=headers)
    try:
        yield server
    finally:
        server.stop()


def models_args(runs: dict[str, Path]) -> list[str]:
    return [a for run in runs.values() for a in ("--model", str(run))]


@pytest.fixture(scope="module")
def keras_server(runs, work):
    """All four runs on the Keras runtime, plus a copy of the fraud run kept for the streaming test."""
    stream = copy_run(runs["fraud"], "fraud-stream")
    with serving([*models_args(runs), "--model", str(stream), "--runtime", "keras", "--max-rows", "400",
                  "--max-body-mb", "1", "--state-dir", str(work / "state-keras"), "--snapshot-every", "0"],
                 log=work / "keras-server.log") as server:
        yield server


@pytest.fixture(scope="module")
def onnx_server(onnx_ready, work):
    with serving([*models_args(onnx_ready), "--runtime", "onnx", "--state-dir", str(work / "state-onnx"),
                  "--snapshot-every", "0"], log=work / "onnx-server.log") as server:
        yield server

"""One 2-worker LocalCluster on 127.0.0.1 for the scaled-scoring tests, and small saved runs."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"


@contextlib.contextmanager
def plain_main():
    """Worker processes start with multiprocessing's spawn, which re-runs the parent's ``__main__``
    script in the child. Streamlit's AppTest (the page tests) leaves ``sys.modules["__main__"]``
    pointing at the last page script, so a worker would run a page in bare mode and fail to start.
    Each test starts with the process's own ``__main__`` (tests/conftest.py); the session's cluster
    may start before that fixture runs, so a plain ``__main__`` (what ``python -m core`` gives the
    real CLI, whose package ``__main__`` spawn never re-runs) is put in place around its start."""
    import sys
    import types

    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


@pytest.fixture(scope="session")
def cluster():
    from distributed import Client, LocalCluster

    with plain_main():
        lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        client = Client(lc, set_as_default=False)
    yield lc, client
    client.close()
    lc.close()


@pytest.fixture(scope="session")
def scheduler(cluster) -> str:
    return cluster[0].scheduler_address


@pytest.fixture(scope="session")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scale")


@pytest.fixture(scope="session")
def credit_model(work, pytestconfig) -> Path:
    data = work / "credit_train.csv"
    pd.read_csv(SAMPLES / "credit_applications.csv").sample(n=1500, random_state=1).to_csv(data, index=False)
    return _train(pytestconfig, "--scenario", "credit", "--data", str(data), "--epochs", "2", "--no-explain",
                  "--save", str(work / "credit_run"))


@pytest.fixture(scope="session")
def fraud_model(work, pytestconfig) -> Path:
    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    data = work / "fraud_train.csv.gz"
    df[df["customer_id"] < "C000120"].to_csv(data, index=False)
    return _train(pytestconfig, "--scenario", "fraud", "--data", str(data), "--epochs", "2", "--no-explain",
                  "--train-start", "2024-04-01", "--test-start", "2024-04-22", "--gap-days", "7",
                  "--save", str(work / "fraud_run"))


def demand_sales(work) -> Path:
    """The sample's sales with the products of stores S3 and S4 renamed (P1 -> Q1): two sets of
    series that share no store and no product, so they can be forecast apart."""
    df = pd.read_csv(SAMPLES / "demand_sales.csv")
    df = df[df["product"].isin(["P1", "P2"])].reset_index(drop=True)  # 8 series keep the test quick
    far = df["store"].isin(["S3", "S4"])
    df.loc[far, "product"] = df.loc[far, "product"].str.replace("P", "Q")
    path = work / "demand_sales.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def demand_model(work, pytestconfig) -> Path:
    return _train(pytestconfig, "--scenario", "demand", "--data", str(demand_sales(work)), "--epochs", "2",
                  "--event-level", "0", "--save", str(work / "demand_run"))


@pytest.fixture(scope="session")
def quality_model(work, pytestconfig) -> Path:
    from tests.quality.conftest import make_zip, sample_entries

    data = work / "quality_train.zip"
    data.write_bytes(make_zip(sample_entries({"ok": 30, "pit": 10, "crack": 10}, size=24, seed=1)))
    return _train(pytestconfig, "--scenario", "quality", "--data", str(data), "--image-size", "24", "--epochs", "2",
                  "--save", str(work / "quality_run"))


def _train(pytestconfig, *argv) -> Path:
    """Train a small run with the CLI in this process; its path (stdout is the JSON)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["train", *argv, "--json"])
    assert code == 0
    res = json.loads(buf.getvalue().strip().splitlines()[-1])
    return Path(res.get("saved_to") or res["saved"])

"""Runs for monitor tests without TensorFlow: a credit run saved with ``model=None`` whose "model" is
a known logistic function, its test rows and training profile, and batches scored through the real
prediction recorder. Importable by subprocesses (the concurrent-append test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

THRESHOLD = 0.3
NUMERIC, CATEGORICAL = ["x1", "x2"], ["region"]


def applications(n: int, seed: int, *, shift: float = 0.0, start: str | None = None, days: int = 7,
                 ids: bool = True) -> pd.DataFrame:
    """Applications with two numbers, a region, an outcome drawn from the true model, optional dates."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(shift, 1, n).round(4), "x2": rng.normal(0, 1, n).round(4),
                       "region": rng.choice(["North", "South", "East"], n, p=[0.5, 0.3, 0.2])})
    if ids:
        df.insert(0, "applicant_id", [f"A{seed}-{i:05d}" for i in range(n)])
    if start is not None:
        df["application_date"] = (pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, n), unit="D")).strftime(
            "%Y-%m-%d")
    df["default"] = (rng.random(n) < true_probability(df)).astype(int)
    return df


def true_probability(df: pd.DataFrame) -> np.ndarray:
    z = 1.4 * df["x1"].to_numpy(float) - 0.9 * df["x2"].to_numpy(float) - 1.6
    return 1 / (1 + np.exp(-z))


def score(df: pd.DataFrame, *, sharpen: float = 1.0) -> np.ndarray:
    """The fake model's probability of default (``sharpen`` > 1 makes it over-confident)."""
    p = true_probability(df)
    return 1 / (1 + np.exp(-sharpen * np.log(p / (1 - p))))


def scored_frame(df: pd.DataFrame, **kw) -> pd.DataFrame:
    p = score(df, **kw)
    return df.assign(probability_of_default=p, decision=np.where(p >= THRESHOLD, "decline", "approve"))


def make_run(root, name: str = "credit-fake", *, seed: int = 0, n_train: int = 3000, n_test: int = 1500,
             sharpen: float = 1.0, reference: bool = True) -> Path:
    """A saved credit run (no Keras file) with its training profile, test rows and decision threshold."""
    from core.data.drift import build_profile
    from core.monitor.reference import REFERENCE_FILE, reference_bytes
    from core.store.registry import save_run
    from core.report.runsummary import get_fingerprint

    train = applications(n_train, seed)
    test = applications(n_test, seed + 1)
    p_test = score(test, sharpen=sharpen)
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(test["default"], p_test))
    workspace = {"name": f"{name} (test run)", "scenario": "credit",
                 "dataset": get_fingerprint(train, name="applications.csv"),
                 "input": {"columns": NUMERIC + CATEGORICAL, "numeric": NUMERIC, "categorical": CATEGORICAL,
                           "kind": "table", "target": "default", "positive": "1"},
                 "profile": build_profile(train, numeric=NUMERIC, categorical=CATEGORICAL),
                 "decision": {"threshold": THRESHOLD, "loss_default": 5000.0, "margin_good": 1000.0},
                 "explain": {"importance": {"x1": 0.4, "x2": 0.3, "region": 0.01}},
                 "headline": {"quality": [{"label": "ROC-AUC", "value": auc, "fmt": ".3f"}], "impact": [],
                              "assumptions": []}}
    meta = {"scenario": "credit", "metrics": {"roc_auc": auc}, "workspace": workspace,
            "credit": {"target": "default", "positive": "1", "numeric": NUMERIC, "categorical": CATEGORICAL,
                       "sensitive": [], "threshold": THRESHOLD}}
    files = {}
    if reference:
        files[REFERENCE_FILE] = reference_bytes(pd.DataFrame({"score": p_test, "label": test["default"].to_numpy(float)}))
        meta["monitor"] = {"reference": REFERENCE_FILE, "reference_rows": n_test}
    return save_run(Path(root), model=None, metadata=meta, files=files, run_id=name)


def log_batch(run_dir, df: pd.DataFrame, *, source: str = "cli", deferred: bool = False, **kw):
    """Score ``df`` with the fake model and record it through the real recorder; returns (recorder, ids)."""
    from core.monitor.record import PredictionRecorder

    rec = PredictionRecorder(run_dir, source=source, deferred=deferred)
    ids = rec.record(df, scored_frame(df, **kw))
    return rec, ids


def append_many(run_dir: str, worker: int, batches: int, rows: int) -> int:
    """What one process of the concurrency test does: ``batches`` appends of ``rows`` rows."""
    for b in range(batches):
        df = applications(rows, seed=1000 * worker + b)
        df["applicant_id"] = [f"w{worker}-b{b}-{i}" for i in range(rows)]
        log_batch(run_dir, df)
    return batches * rows

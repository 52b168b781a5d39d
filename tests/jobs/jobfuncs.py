"""Small job functions for the job machinery's tests (run in worker processes by core.jobs)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from core.errors import DataValidationError


def count(n: int, *, delay: float = 0.0, report) -> dict:
    for i in range(1, n + 1):
        report.epoch(i, n, {"loss": 1.0 / i, "val_loss": 1.5 / i})
        time.sleep(delay)
    report.status("counted")
    return {"n": n, "pid": os.getpid()}


def hold(path: str, *, report) -> dict:
    """Run until the file ``path`` exists (the test decides when the job ends)."""
    report.status("holding")
    while not os.path.exists(path):
        time.sleep(0.05)
    return {"pid": os.getpid()}


def refuse(*, report) -> None:
    raise DataValidationError("Expected a column 'default'; got none. Fix: pick the outcome column.")


def broken(*, report) -> None:
    raise RuntimeError("disk on fire")


def die(*, report) -> None:
    report.status("about to be killed")
    os.kill(os.getpid(), signal.SIGKILL)


def tiny_network(*, seed: int = 0, report) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((5,))
    out = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dense(8, activation="relu")(inp))
    model = keras.Model(inp, out)
    x = np.random.default_rng(seed).normal(size=(40, 5)).astype("float32")
    return {"model": model, "same": [model, model], "x": x, "p": model.predict(x, verbose=0)}


def rows(df, *, report) -> int:
    return len(df)

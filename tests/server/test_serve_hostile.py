"""Hostile requests never crash the service: seeded random instances (wrong kinds, nulls, huge and odd
numbers, long text, objects, missing and extra fields) through the body parser and each scenario's
predictor give an answer or a refusal (``DataValidationError``, a 400), never another exception."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.server.limits import Limits, instances_from_json, rows_to_frame

ODD = [None, 0, -1, 1e308, -1e308, float("inf"), float("nan"), 2 ** 62, "", " ", "abc", "1,5", "12", "1e3",
       "2024-13-45", "2024-05-01 10:00:00", "=HYPERLINK(\"x\")", "<img src=x onerror=1>", "x" * 5000, True, False,
       {"b64": "aGk="}, "\u0000", "ünïcödé", "NaN", "-0", "00:00", "1999-12-31T23:59:59Z"]


def _instances(columns: list[str], rng, n: int) -> list[dict]:
    cols = list(columns)
    if rng.random() < 0.2 and cols:
        cols.pop(int(rng.integers(len(cols))))
    if rng.random() < 0.2:
        cols.append("extra_field")
    rows = []
    for _ in range(n):
        rows.append({c: ODD[int(rng.integers(len(ODD)))] if rng.random() < 0.5 else "keep" for c in cols})
    return rows


@pytest.mark.parametrize("key", ["credit", "fraud", "demand", "quality"])
def test_random_hostile_instances_are_answered_or_refused(onnx_ready, key):
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario

    p = get_scenario(read_metadata(onnx_ready[key])["scenario"]).predictor(onnx_ready[key], runtime="onnx")
    example = p.example_instances()
    rng = np.random.default_rng(42)
    answered = refused = 0
    for trial in range(25):
        rows = _instances(list(example[0]), rng, int(rng.integers(1, 4)) if key != "demand" else len(example))
        # "keep" stands for the example's own value, so some instances are valid and reach the scorer.
        rows = [{c: (example[i % len(example)].get(c) if v == "keep" else v) for c, v in r.items()}
                for i, r in enumerate(rows)]
        body = json.dumps({"instances": rows}, allow_nan=True).encode()
        try:
            df = rows_to_frame(instances_from_json(body, Limits()), Limits())
            out = p.predict(df, remember=False)
        except DataValidationError:
            refused += 1
            continue
        assert isinstance(out, pd.DataFrame) and len(out) > 0
        answered += 1
    assert refused > 0 and refused + answered == 25

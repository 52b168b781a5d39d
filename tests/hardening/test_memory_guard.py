"""Memory estimates per scenario and the guard's decision: run, sample with a notice, or refuse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.store.memory_guard import (LIMIT_ENV, MIN_SAMPLE_ROWS, MemoryBudget, estimate_demand, estimate_images,
                               estimate_job, estimate_tabular, get_memory_budget, get_memory_limit_mb, plan_memory,
                               read_available_mb, sample_rows)


def _credit(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(5e4, 1e4, rows), "age": rng.integers(18, 80, rows),
                         "region": rng.choice(["N", "S", "E", "W"], rows), "default": rng.integers(0, 2, rows)})


def _budget(free: float) -> MemoryBudget:
    return MemoryBudget(limit_mb=free, available_mb=None, process_mb=0.0)


def test_limit_from_environment_and_budget(tmp_path):
    assert get_memory_limit_mb({}) == 2700
    assert get_memory_limit_mb({LIMIT_ENV: "1024"}) == 1024
    for bad in ("lots", "10", "-5", "nan"):
        with pytest.raises(DataValidationError, match=rf"{LIMIT_ENV} must be the server's memory.*got '{bad}'.*Fix"):
            get_memory_limit_mb({LIMIT_ENV: bad})
    b = get_memory_budget({LIMIT_ENV: "800"})
    assert b.limit_mb == 800 and b.process_mb > 10
    assert b.free_mb == max(0.0, min(800 - b.process_mb, b.available_mb))
    # The budget is the smaller of the limit (less the process) and the machine's available memory.
    assert MemoryBudget(limit_mb=2700, available_mb=500, process_mb=300).free_mb == 500
    assert MemoryBudget(limit_mb=2700, available_mb=5000, process_mb=300).free_mb == 2400
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 4096000 kB\nMemAvailable:    1048576 kB\n")
    assert read_available_mb(str(meminfo)) > 0


def test_tabular_estimate_grows_with_rows_features_and_smote():
    small, big = estimate_tabular(_credit(1_000)), estimate_tabular(_credit(100_000))
    assert big.parts["encoded features"] == pytest.approx(100 * small.parts["encoded features"], rel=0.01)
    # 2 numeric + target + 4 regions (+1 for unseen) = 8 encoded columns of float32, 9 copies.
    assert small.parts["encoded features"] == pytest.approx(1_000 * 8 * 4 * 9 / 2**20, rel=0.01)
    smote = estimate_tabular(_credit(100_000), imbalance="smote")
    assert smote.parts["encoded features"] == pytest.approx(2.2 * big.parts["encoded features"])
    shap = estimate_tabular(_credit(1_000), shap_rows=5_000)
    assert shap.parts["SHAP"] > small.parts["SHAP"]
    assert big.per_row_mb > 0 and big.can_sample


def test_image_and_demand_estimates():
    a = estimate_images(1_000, 64, 3)
    assert a.parts["images"] == pytest.approx(1_000 * 64 * 64 * 3 * 13 / 2**20)
    assert estimate_images(1_000, 128, 3).parts["images"] == pytest.approx(4 * a.parts["images"])
    assert not a.can_sample and a.what == "images"
    d = estimate_demand(500_000, input_len=52, horizon=8, covariates=2)
    # (52 x 3 + 8 x 5) floats per window, 3 copies.
    assert d.parts["windows"] == pytest.approx(500_000 * (52 * 3 + 8 * 5) * 4 * 3 / 2**20)


def test_estimate_job_per_scenario():
    from core.quality.data import ImageDataset

    df = _credit(2_000)
    assert estimate_job("credit", df).can_sample
    fraud = estimate_job("fraud", df)
    assert not fraud.can_sample and fraud.parts["encoded features"] > estimate_job("credit", df).parts["encoded features"]
    imgs = ImageDataset(images=np.zeros((10, 32, 32, 1), np.uint8), labels=np.zeros(10, int), class_names=("ok",),
                        names=tuple(map(str, range(10))))
    assert estimate_job("quality", imgs).rows == 10
    assert estimate_job("demand", pd.DataFrame({"y": range(100)}), horizon=7).rows == 100
    with pytest.raises(DataValidationError, match="Expected a scenario among .*got 'stocks'.*Fix"):
        estimate_job("stocks", df)


def test_plan_runs_samples_or_refuses():
    est = estimate_tabular(_credit(200_000))
    assert not plan_memory(est, _budget(est.need_mb + 1)).sample
    fixed = est.need_mb - est.per_row_mb * est.rows
    tight = fixed + 0.5 * est.per_row_mb * est.rows
    plan = plan_memory(est, _budget(tight))
    assert plan.sample and MIN_SAMPLE_ROWS <= plan.max_rows < 200_000
    # The sampled job fits the budget (with its 10 % head room): about half the rows.
    assert 85_000 < plan.max_rows < 95_000
    assert fixed + plan.max_rows * est.per_row_mb <= tight
    assert "seeded random sample of" in plan.notices[0] and "of 200,000 rows" in plan.notices[0]
    df = _credit(200_000)
    cut = sample_rows(df, plan, seed=3)
    assert len(cut) == plan.max_rows and cut.equals(sample_rows(df, plan, seed=3))
    assert sample_rows(df, plan_memory(est, _budget(1e9))) is df


def test_refusals_say_expected_got_fix():
    est = estimate_tabular(_credit(200_000))
    # Too little even for the fixed part: no sample would fit.
    # (50 MB is below the fixed part whether or not TensorFlow is already loaded in this process.)
    with pytest.raises(DataValidationError, match=r"credit training needs about [\d,]+ MB .* for 200,000 rows; "
                                                  r"expected at most 50 MB.*Fix: train on fewer rows"):
        plan_memory(est, _budget(50))
    fraud = estimate_job("fraud", _credit(200_000))
    with pytest.raises(DataValidationError, match="fraud training needs about"):
        plan_memory(fraud, _budget(fraud.need_mb - 1))  # a transaction log is never sampled
    with pytest.raises(DataValidationError, match=r"quality training .* for 20,000 images.*Fix: train on fewer or "
                                                  r"smaller images"):
        plan_memory(estimate_images(20_000, 256, 3), _budget(2700))
    with pytest.raises(DataValidationError, match=r"series x periods.*Fix: train on fewer series"):
        plan_memory(estimate_demand(50_000_000, input_len=364, horizon=28), _budget(2700))

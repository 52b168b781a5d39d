"""A small trained credit run shared by the credit tests (trained once per session)."""

from __future__ import annotations

import pandas as pd
import pytest

from core.credit.pipeline import SAMPLE_PATH, default_credit_config, train_credit


@pytest.fixture(scope="session")
def sample_df() -> pd.DataFrame:
    return pd.read_csv(SAMPLE_PATH)


@pytest.fixture(scope="session")
def small_df(sample_df) -> pd.DataFrame:
    return sample_df.sample(n=1500, random_state=1).reset_index(drop=True)


@pytest.fixture(scope="session")
def credit_run(small_df):
    config = default_credit_config(epochs=8, seed=0, baselines=("logistic_regression",))
    return train_credit(small_df, target="default", config=config)

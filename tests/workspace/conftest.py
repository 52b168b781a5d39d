"""Tiny trained runs of the four scenarios (trained once per session, a few seconds each)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.workspace.demos import SAMPLES


@pytest.fixture(scope="session")
def credit_small() -> pd.DataFrame:
    return pd.read_csv(SAMPLES["credit"]).sample(n=900, random_state=2).reset_index(drop=True)


@pytest.fixture(scope="session")
def credit_run(credit_small):
    from core.credit.pipeline import default_credit_config, train_credit

    config = default_credit_config(epochs=3, seed=0, baselines=("logistic_regression",))
    return train_credit(credit_small, target="default", config=config)


@pytest.fixture(scope="session")
def fraud_small() -> pd.DataFrame:
    from core.data.datasets import read_table

    df = read_table(SAMPLES["fraud"], max_rows=None).df
    customers = df["customer_id"].drop_duplicates().sample(n=150, random_state=0)
    return df[df["customer_id"].isin(set(customers))].reset_index(drop=True)


@pytest.fixture(scope="session")
def fraud_run(fraud_small):
    from core.fraud.columns import make_columns
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, run_fraud

    tab = replace(FRAUD_TABULAR, epochs=2, seed=0, baselines=("logistic_regression",))
    return run_fraud(fraud_small, make_columns(fraud_small), config=FraudConfig(tabular=tab))


@pytest.fixture(scope="session")
def demand_small() -> pd.DataFrame:
    df = pd.read_csv(SAMPLES["demand"])
    keep = df[["store", "product"]].drop_duplicates().iloc[:3]
    return df.merge(keep, on=["store", "product"])


@pytest.fixture(scope="session")
def demand_run(demand_small):
    from core.demand.data import load_sales
    from core.demand.roles import guess_columns
    from core.demand.forecast import DemandConfig, train_demand

    sales = load_sales(demand_small, guess_columns(demand_small))
    return train_demand(sales, DemandConfig(horizon=14, origins=2, epochs=2, seed=0))


@pytest.fixture(scope="session")
def quality_data():
    from core.quality.data import LoadOptions, load_image_dataset

    data = load_image_dataset(SAMPLES["quality"], options=LoadOptions(image_size=32))
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[:n]
                          for c, n in enumerate([12 if name != "ok" else 60 for name in data.class_names])])
    return data.subset(np.sort(idx))


@pytest.fixture(scope="session")
def quality_run(quality_data):
    from core.quality.engine import QualityConfig, train_quality

    return train_quality(quality_data, config=QualityConfig(epochs=2, seed=0, augment=False))

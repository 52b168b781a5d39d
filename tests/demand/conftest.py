"""A small slice of the bundled sample and one model trained on it, shared by the demand tests."""

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERIES = [("S1", "P1"), ("S1", "P5"), ("S2", "P2"), ("S3", "P7")]  # S3 / P7 is too short on purpose


@pytest.fixture(scope="session")
def small_sales_frame() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "sample_data" / "demand_sales.csv")
    keep = pd.Series(list(zip(df["store"], df["product"]))).isin(SERIES).to_numpy()
    df = df[keep]
    return df[df["date"] >= "2025-03-01"].reset_index(drop=True)


@pytest.fixture(scope="session")
def small_sales(small_sales_frame):
    from core.demand.data import ColumnMap, load_sales

    return load_sales(small_sales_frame, ColumnMap("date", "units", ("store", "product")))


@pytest.fixture(scope="session")
def small_run(small_sales):
    from core.demand.forecast import DemandConfig, train_demand

    return train_demand(small_sales, DemandConfig(horizon=7, origins=2, epochs=4, seed=1))

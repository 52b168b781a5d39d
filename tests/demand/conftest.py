"""A small slice of the bundled sample and one model trained on it, shared by the demand tests."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from core.demand.forecast import DemandConfig

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


@dataclass(frozen=True)
class OneNetwork(DemandConfig):
    """The default settings with one network, not an average (a class of the module, so it pickles)."""

    members: int = 1


@pytest.fixture
def one_network(monkeypatch):
    """``python -m core train --scenario demand`` trains one network instead of the average of
    ``DemandConfig.members`` (3): for tests of what the command reads, joins, saves and reports, not of the
    averaged model (tests/demand/test_windows_v2.py checks the average; the page tests train it)."""
    import core.demand.forecast as forecast

    monkeypatch.setattr(forecast, "DemandConfig", OneNetwork)

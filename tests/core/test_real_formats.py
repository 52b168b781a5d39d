"""Real files as the public portals ship them, read as a new user would: Give Me Some Credit's
``cs-training.csv.zip`` and Walmart's ``train.csv.zip`` (tables inside zips), through the reader,
the chunked reader and the credit command line."""

import json

import pytest

from core.cli import main
from core.data.datasets import read_table
from core.data.tablestream import iter_table_chunks

pytestmark = pytest.mark.realdata

GMSC = "credit_scoring/give_me_some_credit/cs-training.csv.zip"
WALMART = "demand_forecasting/walmart_weekly/train.csv.zip"


def test_give_me_some_credit_zip_reads_whole(shared_data):
    t = read_table(shared_data(GMSC), max_rows=None)
    assert t.df.shape == (150_000, 12)
    assert t.member == "cs-training.csv" and t.df.columns[0] == "Unnamed: 0"
    assert int(t.df["SeriousDlqin2yrs"].sum()) == 10_026
    assert int(t.df["MonthlyIncome"].isna().sum()) == 29_731 and int(t.df["NumberOfDependents"].isna().sum()) == 3_924


def test_walmart_zip_reads_whole_and_in_chunks(shared_data):
    path = shared_data(WALMART)
    t = read_table(path, max_rows=None)
    assert t.df.shape == (421_570, 5)
    assert list(t.df.columns) == ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"]
    assert t.df["Store"].nunique() == 45 and t.df.groupby(["Store", "Dept"]).ngroups == 3_331
    sizes = [len(c) for c in iter_table_chunks(path, chunk_size=100_000)]
    assert sizes == [100_000] * 4 + [21_570]


def test_cli_trains_credit_straight_from_the_zip(shared_data, capsys):
    code = main(["train", "--scenario", "credit", "--data", str(shared_data(GMSC)), "--sample-rows", "4000",
                 "--epochs", "1", "--no-explain", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["data"]["target"] == "SeriousDlqin2yrs" and out["data"]["rows"] == 4000
    assert out["data"]["sample"]["file_rows"] == 150_000
    assert "MonthlyIncome" in out["data"]["features"] and "Unnamed: 0" not in out["data"]["features"]
    assert "Read 'cs-training.csv' from the zip 'cs-training.csv.zip'." in captured.err
    # The columns were read as numbers (not one text blob): the logistic baseline ranks defaulters.
    assert out["baselines"]["logistic_regression"]["roc_auc"] > 0.7

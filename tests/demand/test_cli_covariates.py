"""`python -m core train --scenario demand --covariates-file FILE`: the join is reported, WMAE is
given for the network and every baseline, and the --covariates column list still picks columns."""

import json

import pytest

from scripts.make_retail_weekly import make_retail_weekly

FLAGS = ["--target", "Weekly_Sales", "--series-cols", "Store,Dept", "--date-col", "Date", "--horizon", "8",
         "--epochs", "1", "--event-level", "0", "--json"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = make_retail_weekly(12, seed=1)
    root = tmp_path_factory.mktemp("retail")
    d.sales.to_csv(root / "train.csv", index=False)
    d.features.to_csv(root / "features.csv", index=False)
    d.features.drop(columns="Date").to_csv(root / "no_date.csv", index=False)
    return root


@pytest.fixture(autouse=True)
def _one_network(one_network):
    """The covariates' join and reports are under test here, not the averaged network: one network trains."""


def _train(capsys, *args):
    from core.cli import main

    code = main(["train", "--scenario", "demand", *args])
    out = capsys.readouterr()
    return code, out


def test_cli_joins_the_covariates_file_and_reports_wmae(files, capsys):
    code, out = _train(capsys, "--data", str(files / "train.csv"), "--covariates-file", str(files / "features.csv"),
                       *FLAGS)
    assert code == 0, out.err
    res = json.loads(out.out.strip().splitlines()[-1])
    cov = res["covariates_file"]
    assert cov["keys"] == ["Date", "Store"] and cov["unmatched_rows"] == 0
    assert cov["joined"] == ["Temperature", "Fuel_Price", *[f"MarkDown{k}" for k in range(1, 6)], "CPI", "Unemployment"]
    assert cov["summary"].startswith("Joined 9 covariate column(s)") and cov["last_covariate_date"] == "2013-07-26"
    assert "demand covariates file: Joined 9 covariate column(s)" in out.err
    assert set(res["data"]["columns"]["covariates"]) == {"IsHoliday", *cov["joined"]}
    assert isinstance(res["metrics"]["wmae"], float)
    for name in ("seasonal_naive", "moving_average"):
        assert isinstance(res["baselines"][name]["wmae"], float)
    assert any("covers the whole 8-period forecast horizon" in n for n in res["notices"])


def test_cli_covariates_list_still_picks_columns_from_the_joined_file(files, capsys):
    code, out = _train(capsys, "--data", str(files / "train.csv"), "--covariates-file", str(files / "features.csv"),
                       "--covariates", "IsHoliday,Temperature", *FLAGS)
    assert code == 0, out.err
    res = json.loads(out.out.strip().splitlines()[-1])
    assert res["data"]["columns"]["covariates"] == ["IsHoliday", "Temperature"]


def test_cli_bad_covariates_file_says_what_to_fix(files, capsys):
    code, out = _train(capsys, "--data", str(files / "train.csv"), "--covariates-file", str(files / "no_date.csv"),
                       *FLAGS)
    assert code == 1
    assert "must have the sales file's date column 'Date' to join on" in out.err


def test_cli_covariates_zip_of_several_tables_needs_its_own_member_flag(files, capsys):
    import zipfile

    with zipfile.ZipFile(files / "covariates.zip", "w") as zf:
        zf.write(files / "features.csv", "features.csv")
        zf.write(files / "no_date.csv", "no_date.csv")
    args = ["--data", str(files / "train.csv"), "--covariates-file", str(files / "covariates.zip"), *FLAGS]
    code, out = _train(capsys, *args)
    assert code == 1
    assert "--covariates-file: 'covariates.zip' holds 2 tables" in out.err and "--covariates-member NAME" in out.err
    assert "--member NAME" not in out.err
    code, out = _train(capsys, *args, "--covariates-member", "features.csv")
    assert code == 0, out.err
    assert json.loads(out.out.strip().splitlines()[-1])["covariates_file"]["keys"] == ["Date", "Store"]
    assert "--covariates-file: Read 'features.csv' from the zip 'covariates.zip'." in out.err


def test_cli_covariates_sheet_without_a_covariates_file_is_refused(files, capsys):
    code, out = _train(capsys, "--data", str(files / "train.csv"), "--covariates-sheet", "Features", *FLAGS)
    assert code == 1
    assert "--covariates-sheet name a table inside --covariates-file, but no --covariates-file was given" in out.err


def test_cli_covariates_workbook_names_the_sheet_read_and_its_flag(files, capsys):
    import pandas as pd

    with pd.ExcelWriter(files / "covariates.xlsx") as xw:
        pd.DataFrame({"note": ["weekly store features"]}).to_excel(xw, sheet_name="Notes", index=False)
        pd.read_csv(files / "features.csv").head(200).to_excel(xw, sheet_name="Features", index=False)
    code, out = _train(capsys, "--data", str(files / "train.csv"), "--covariates-file", str(files / "covariates.xlsx"),
                       *FLAGS)
    assert code == 1
    assert "--covariates-file: expected the column(s) ['Date'] of --data; the table read from its sheet 'Notes' " \
           "(its sheets are ['Notes', 'Features'])" in out.err
    assert "name the sheet holding the data with --covariates-sheet NAME" in out.err

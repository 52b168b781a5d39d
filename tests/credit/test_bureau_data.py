"""Credit on a bureau file as analysts bring it (Give-Me-Some-Credit-like, scripts/make_bureau_credit.py):
an unnamed row-number column, sentinel codes, heavy tails and missing income."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.credit.pipeline import guess_target, prepare_credit_data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from make_bureau_credit import COLUMNS, PAST_DUE, TARGET, make_bureau_credit, write_bureau_credit  # noqa: E402

ROWS = 5000


@pytest.fixture(scope="module")
def bureau_csv(tmp_path_factory) -> Path:
    return write_bureau_credit(tmp_path_factory.mktemp("bureau") / "cs-training.csv", ROWS, seed=0)


def test_generator_is_deterministic_and_shaped_like_the_kaggle_file(bureau_csv):
    df = pd.read_csv(bureau_csv)
    assert list(df.columns) == ["Unnamed: 0", *COLUMNS]
    assert df["Unnamed: 0"].tolist() == list(range(1, ROWS + 1))
    assert make_bureau_credit(ROWS, seed=0).equals(make_bureau_credit(ROWS, seed=0))
    assert not make_bureau_credit(ROWS, seed=0).equals(make_bureau_credit(ROWS, seed=1))
    assert 0.055 < df[TARGET].mean() < 0.08
    assert 0.17 < df["MonthlyIncome"].isna().mean() < 0.23
    assert 0.015 < df["NumberOfDependents"].isna().mean() < 0.04
    codes = df[PAST_DUE[0]] >= 90
    assert set(df.loc[codes, PAST_DUE[0]]) <= {96, 98} and codes.sum() >= 3
    assert (df.loc[codes, PAST_DUE] >= 90).all().all()  # codes come in all three columns at once
    assert df.loc[~codes, PAST_DUE[0]].max() <= 13
    assert df["DebtRatio"].median() < 1 and df["DebtRatio"].max() > 1000
    assert df["RevolvingUtilizationOfUnsecuredLines"].median() < 1
    assert df["RevolvingUtilizationOfUnsecuredLines"].max() > 1000


def test_outcome_is_found_and_the_row_numbers_are_kept_out_with_a_notice(bureau_csv):
    df = pd.read_csv(bureau_csv)
    assert guess_target(df.columns) == TARGET
    _, _, setup = prepare_credit_data(df, target=TARGET)
    assert "Unnamed: 0" not in setup.features and len(setup.numeric) == 9  # age is sensitive by default
    assert "'Unnamed: 0' holds row numbers (1 … 5,000, one per row), not data; kept out of the model as an " \
           "identifier." in setup.notices
    # The page passes the roles it shows (edited or not); an identifier role still gets the notice.
    roles = {c: ("identifier" if c == "Unnamed: 0" else "numeric") for c in df.columns}
    _, _, setup = prepare_credit_data(df, target=TARGET, roles=roles)
    assert any(n.startswith("'Unnamed: 0' holds row numbers") for n in setup.notices)


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cli_trains_with_defaults_reports_notices_and_scores_the_file(bureau_csv, tmp_path, capsys):
    code = main(["train", "--scenario", "credit", "--data", str(bureau_csv), "--json", "--no-explain",
                 "--save", str(tmp_path / "model")])
    assert code == 0
    out = _json(capsys)
    assert out["data"]["target"] == TARGET and "Unnamed: 0" not in out["data"]["features"]
    notices = out["data"]["notices"]
    assert any(n.startswith("'Unnamed: 0' holds row numbers") for n in notices)
    for col in PAST_DUE:
        assert any(n.startswith(f"'{col}': the value(s) 98") and "codes for 'unknown'" in n for n in notices), col
    assert any(n.startswith("'MonthlyIncome': ") and "missing-value indicator" in n for n in notices)
    assert any(n.startswith("'NumberOfDependents': ") and "missing-value indicator" in n for n in notices)
    # Heavy tails and codes do not swamp the network: it ranks about as well as the baselines.
    best = max(m["roc_auc"] for m in out["baselines"].values())
    assert out["metrics"]["roc_auc"] > 0.78 and out["metrics"]["roc_auc"] > best - 0.03

    new = pd.read_csv(bureau_csv).drop(columns=[TARGET]).head(300)
    new.to_csv(tmp_path / "new.csv", index=False)
    code = main(["score", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "new.csv"), "--out",
                 str(tmp_path / "scored.csv"), "--json"])
    assert code == 0
    summary = _json(capsys)
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert summary["rows"] == 300 and scored["probability_of_default"].between(0, 1).all()
    coded = new[PAST_DUE[0]] >= 90
    # An 'unknown' history code is read as the model learnt it: such applicants look riskier.
    assert scored.loc[coded.to_numpy(), "probability_of_default"].mean() > scored["probability_of_default"].mean() \
        or not coded.any()
    assert np.isfinite(scored["probability_of_default"]).all()

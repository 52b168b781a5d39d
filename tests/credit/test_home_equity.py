"""Credit on a missing-heavy home-equity file (HMEQ-like, scripts/make_home_equity.py): blanks in numeric
and categorical columns that carry risk, trained with the defaults through the CLI and scored again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from make_home_equity import COLUMNS, JOBS, TARGET, make_home_equity, write_home_equity  # noqa: E402

ROWS = 2000


@pytest.fixture(scope="module")
def hmeq_csv(tmp_path_factory) -> Path:
    return write_home_equity(tmp_path_factory.mktemp("hmeq") / "hmeq.csv", ROWS, seed=0)


def test_generator_is_deterministic_and_missing_heavy_like_hmeq():
    df = make_home_equity(6000, seed=0)
    assert list(df.columns) == COLUMNS
    assert make_home_equity(500, seed=0).equals(make_home_equity(500, seed=0))
    assert not make_home_equity(500, seed=0).equals(make_home_equity(500, seed=1))
    assert 0.17 < df[TARGET].mean() < 0.23
    blank = df.isna().mean()
    assert blank[[TARGET, "LOAN"]].sum() == 0
    assert 0.18 < blank["DEBTINC"] < 0.25 and 0.09 < blank["DEROG"] < 0.15 and 0.01 < blank["VALUE"] < 0.03
    assert 0.03 < blank["JOB"] < 0.07 and 0.03 < blank["REASON"] < 0.06
    assert set(df["JOB"].dropna()) == set(JOBS) and set(df["REASON"].dropna()) == {"DebtCon", "HomeImp"}
    # The blanks carry risk: a missing debt-to-income ratio goes with default far more often.
    assert df.loc[df["DEBTINC"].isna(), TARGET].mean() > 3 * df.loc[df["DEBTINC"].notna(), TARGET].mean()
    # Repeat applications: rows equal to an earlier one in everything but the loan amount.
    assert 0.1 < df.drop(columns="LOAN").duplicated().mean() < 0.25
    assert df["LOAN"].between(1_100, 89_900).all()


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_cli_defaults_use_the_blanks_stop_early_and_give_blank_reasons(hmeq_csv, tmp_path, capsys):
    code = main(["train", "--scenario", "credit", "--data", str(hmeq_csv), "--json", "--no-explain",
                 "--save", str(tmp_path / "model")])
    assert code == 0
    out = _json(capsys)
    notices = out["data"]["notices"]
    for col in ("DEBTINC", "DEROG", "DELINQ", "MORTDUE", "VALUE", "YOJ", "CLAGE", "NINQ", "CLNO"):
        assert any(n.startswith(f"'{col}': ") and "missing-value indicator" in n for n in notices), col
    for col in ("JOB", "REASON"):
        assert any(n.startswith(f"'{col}': ") and "category of their own ('(missing)')" in n for n in notices), col
    # Training ends because validation stopped improving, not at the epoch cap.
    assert out["stopped_early"] and out["epochs_run"] < out["epochs_max"]
    assert out["best_epoch"] <= out["epochs_run"]
    assert out["config"]["batch_size"] is not None and out["config"]["l2"] is not None  # what was used

    df = pd.read_csv(hmeq_csv)
    new = df.drop(columns=[TARGET])
    new.to_csv(tmp_path / "new.csv", index=False)
    code = main(["score", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "new.csv"), "--out",
                 str(tmp_path / "scored.csv"), "--threshold", "0.5", "--json"])
    assert code == 0
    _json(capsys)
    scored = pd.read_csv(tmp_path / "scored.csv", keep_default_na=False)
    p = scored["probability_of_default"].astype(float).to_numpy()
    blank = new["DEBTINC"].isna().to_numpy()
    # The network reads the blank itself as risk (through the missing-value indicator) ...
    assert p[blank].mean() > 2 * p[~blank].mean()
    # ... and SHAP gives it to the column, so a declined applicant hears that the ratio was not reported.
    declined = blank & (p >= 0.5)
    assert declined.sum() >= 20
    reasons = scored.loc[declined, [f"reason_{i}" for i in range(1, 5)]].astype(str)
    said = reasons.apply(lambda r: any(v.startswith("Debtinc is not reported") for v in r), axis=1)
    assert said.mean() > 0.8

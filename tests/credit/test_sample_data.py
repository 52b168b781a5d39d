import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "credit_applications.csv"


def _generator():
    spec = importlib.util.spec_from_file_location("make_credit_sample", ROOT / "scripts" / "make_credit_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bundled_sample_is_what_the_generator_makes(tmp_path):
    out = tmp_path / "credit.csv"
    _generator().main(["--out", str(out)])
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_sample_shape_target_and_missing_values():
    df = pd.read_csv(SAMPLE)
    assert len(df) == 5000
    assert set(df["default"].unique()) == {0, 1}
    assert 0.10 <= df["default"].mean() <= 0.20
    assert df["applicant_id"].is_unique
    for col in ["annual_income", "debt_to_income", "employment_years", "loan_amount", "loan_term_months",
                "purpose", "housing", "past_delinquencies", "credit_utilisation", "sex"]:
        assert col in df.columns
    assert df[["employment_years", "credit_utilisation", "housing"]].isna().any().all()
    assert df.isna().mean().max() < 0.1


def test_sample_is_learnable_but_not_separable():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(SAMPLE)
    X = pd.get_dummies(df.drop(columns=["applicant_id", "sex", "default"]), dtype=float)
    X = (X.fillna(X.median()) - X.mean()) / X.std()
    Xtr, Xte, ytr, yte = train_test_split(X, df["default"], test_size=0.3, random_state=0,
                                          stratify=df["default"])
    auc = roc_auc_score(yte, LogisticRegression(max_iter=500).fit(Xtr, ytr).predict_proba(Xte)[:, 1])
    assert 0.72 <= auc <= 0.88


@pytest.mark.parametrize("seed", [1, 2])
def test_other_seeds_keep_the_default_rate_in_range(seed):
    df = _generator().make_credit_sample(3000, seed)
    assert 0.10 <= df["default"].mean() <= 0.20

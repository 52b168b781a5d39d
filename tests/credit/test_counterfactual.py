"""What would flip this decision (core.credit.counterfactual): the change found really flips the
network's decision, is small, and never moves protected features."""

import numpy as np
import pandas as pd
import pytest

from core.credit.counterfactual import default_ranges, find_flip, protected_features, read_ranges
from core.errors import DataValidationError

NUMERIC = ["annual_income", "credit_utilisation", "age"]
CATEGORICAL = ["housing"]


def _train(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"annual_income": rng.uniform(20_000, 120_000, n).round(-2),
                         "credit_utilisation": rng.uniform(0, 1, n).round(3),
                         "age": rng.integers(20, 70, n),
                         "housing": rng.choice(["rent", "own", "mortgage"], n)})


def _predict(df):
    u = df["credit_utilisation"].to_numpy(dtype=float)
    inc = df["annual_income"].to_numpy(dtype=float) / 100_000
    age = df["age"].to_numpy(dtype=float) / 100
    rent = (df["housing"].astype(str) == "rent").to_numpy(dtype=float)
    return 1 / (1 + np.exp(-(4 * u - 3 * inc - 3 * age + 0.5 * rent)))


def _ranges(train, features):
    return {f: r for f, r in default_ranges(train, NUMERIC + CATEGORICAL, NUMERIC).items() if f in features}


def test_single_change_flips_a_decline_and_is_the_smallest():
    train = _train()
    row = {"annual_income": 50_000.0, "credit_utilisation": 0.9, "age": 30, "housing": "own"}
    assert _predict(pd.DataFrame([row]))[0] >= 0.5
    cf = find_flip(row, predict_fn=_predict, threshold=0.5, train_df=train, numeric=NUMERIC, categorical=CATEGORICAL,
                   actionable=_ranges(train, ["credit_utilisation"]), protected=["age"])
    assert cf.found and [c.feature for c in cf.changes] == ["credit_utilisation"]
    after = {**row, "credit_utilisation": cf.changes[0].after}
    p = _predict(pd.DataFrame([after]))[0]
    assert p < 0.5 and p == pytest.approx(cf.probability_after) and cf.decision_after == "approve"
    # The candidate one step closer to the applicant's own value (5 % of the population) no longer flips it.
    col = np.sort(train["credit_utilisation"].to_numpy())
    closer = np.quantile(col, np.linspace(0, 1, 21))
    closer = closer[(closer > cf.changes[0].after) & (closer < 0.9)]
    if len(closer):
        assert _predict(pd.DataFrame([{**row, "credit_utilisation": closer.min()}]))[0] >= 0.5
    text = cf.sentence(train, "EUR")
    assert text.startswith("Approve if credit utilisation were ") and "instead of 90%" in text


def test_two_changes_and_protected_features_never_move():
    train = _train()
    row = {"annual_income": 30_000.0, "credit_utilisation": 0.95, "age": 22, "housing": "rent"}
    actionable = _ranges(train, ["annual_income", "credit_utilisation", "housing"])
    actionable["credit_utilisation"] = (0.6, 1.0)  # the analyst's range: utilisation cannot fall below 60 %
    cf = find_flip(row, predict_fn=_predict, threshold=0.5, train_df=train, numeric=NUMERIC, categorical=CATEGORICAL,
                   actionable=actionable, protected=["age"])
    assert cf.found and len(cf.changes) >= 2
    after = {**row, **{c.feature: c.after for c in cf.changes}}
    assert after["age"] == 22 and _predict(pd.DataFrame([after]))[0] < 0.5
    assert 0.6 <= after["credit_utilisation"] <= 1.0
    assert " and " in cf.sentence(train, "EUR") and "€" in cf.sentence(train, "EUR")


def test_approved_applicant_and_nothing_flips():
    train = _train()
    good = {"annual_income": 110_000.0, "credit_utilisation": 0.1, "age": 60, "housing": "own"}
    cf = find_flip(good, predict_fn=_predict, threshold=0.5, train_df=train, numeric=NUMERIC, categorical=CATEGORICAL,
                   actionable=_ranges(train, ["credit_utilisation"]), protected=["age"])
    assert cf.decision_before == "approve"
    if cf.found:
        assert _predict(pd.DataFrame([{**good, **{c.feature: c.after for c in cf.changes}}]))[0] >= 0.5
    stuck = find_flip(good, predict_fn=_predict, threshold=0.5, train_df=train, numeric=NUMERIC,
                      categorical=CATEGORICAL, actionable={"housing": ["own", "mortgage"]}, protected=["age"])
    assert not stuck.found and stuck.changes == []
    assert stuck.sentence(train).startswith("No change within the allowed ranges of 1 feature flips this decision")


def test_protected_features_by_name_sensitive_and_proxy():
    feats = ["age", "annual_income", "region", "gender", "employment_years"]
    assert protected_features(feats, sensitive=["employment_years"], proxies=["region"]) == \
        ["age", "region", "gender", "employment_years"]


def test_counterfactual_errors():
    train = _train()
    row = {"annual_income": 50_000.0, "credit_utilisation": 0.9, "age": 30, "housing": "own"}
    kw = dict(predict_fn=_predict, train_df=train, numeric=NUMERIC, categorical=CATEGORICAL, protected=["age"])
    with pytest.raises(DataValidationError, match="Pick at least one feature the applicant could change"):
        find_flip(row, threshold=0.5, actionable={}, **kw)
    with pytest.raises(DataValidationError, match=r"'age' may not change: age, protected attributes"):
        find_flip(row, threshold=0.5, actionable={"age": (20, 70)}, **kw)
    with pytest.raises(DataValidationError, match="Only the model's features can change; 'zip'"):
        find_flip(row, threshold=0.5, actionable={"zip": (0, 1)}, **kw)
    with pytest.raises(DataValidationError, match="must run from a lower to a higher number; got 0.8 to 0.2"):
        find_flip(row, threshold=0.5, actionable={"credit_utilisation": (0.8, 0.2)}, **kw)
    with pytest.raises(DataValidationError, match="no category is allowed"):
        find_flip(row, threshold=0.5, actionable={"housing": []}, **kw)
    with pytest.raises(DataValidationError, match="threshold must be between 0 and 1; got 1.5"):
        find_flip(row, threshold=1.5, actionable={"housing": ["rent"]}, **kw)
    with pytest.raises(DataValidationError, match="lacks the model's feature"):
        find_flip({"annual_income": 1.0}, threshold=0.5, actionable={"annual_income": (0, 1)}, **kw)


def test_flip_on_the_trained_network(credit_run):
    """On the real network: every declined test applicant's proposed change flips the decision when scored."""
    run = credit_run
    setup = run.setup
    protected = protected_features(setup.features, setup.sensitive)
    ranges = {f: r for f, r in default_ranges(run.train_df, setup.features, setup.numeric).items() if f not in protected}
    threshold = float(np.quantile(run.p_test, 0.8))
    declined = np.flatnonzero(run.p_test >= threshold)[:5]
    found = 0
    for i in declined:
        row = run.test_df.iloc[int(i)].to_dict()
        cf = find_flip(row, predict_fn=run.predict, threshold=threshold, train_df=run.train_df, numeric=setup.numeric,
                       categorical=setup.categorical, actionable=ranges, protected=protected)
        if cf.found:
            found += 1
            after = {**row, **{c.feature: c.after for c in cf.changes}}
            assert run.predict(pd.DataFrame([after]))[0] < threshold
            assert all(c.feature not in protected for c in cf.changes)
    assert found >= 1


def test_ranges_from_the_page_table():
    rows = [{"feature": "annual_income", "Feature": "Annual income", "May change": True, "Lowest": 20000, "Highest": 9e4},
            {"feature": "open_accounts", "Feature": "Open accounts", "May change": False, "Lowest": None, "Highest": 3}]
    assert read_ranges(rows) == {"annual_income": (20000.0, 90000.0)}
    rows[1]["May change"] = True
    with pytest.raises(DataValidationError, match="The range of Open accounts needs a lowest and a highest number; "
                                                  "got None to 3"):
        read_ranges(rows)


def _skewed(n=1000, seed=0):
    """Counts piled at zero with a long tail, beside two ratios spread evenly."""
    rng = np.random.default_rng(seed)
    skew = lambda: np.where(rng.random(n) < 0.8, 0.0, rng.exponential(2.0, n)).round(2)  # noqa: E731
    return pd.DataFrame({"missed_payments": skew(), "recent_inquiries": skew(), "collections": skew(),
                         "credit_utilisation": rng.uniform(0, 1, n).round(3),
                         "debt_to_income": rng.uniform(0, 1, n).round(3)})


def _skewed_risk(df):
    # Declined unless both ratios fall low together; each count raises the risk a little.
    z = (3.0 - 2.5 * (df["credit_utilisation"].to_numpy(float) < 0.3) - 2.5 * (df["debt_to_income"].to_numpy(float) < 0.3)
         + 2 * (df["missed_payments"].to_numpy(float) + df["recent_inquiries"].to_numpy(float)
                + df["collections"].to_numpy(float)))
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("exhaustive_rows", [None, 500])  # 500: fewer than the 1,251 pairs
def test_counts_piled_at_zero_do_not_use_up_the_changes(monkeypatch, exhaustive_rows):
    """Moving a count just off its pile at zero costs almost nothing, so a greedy search spends its three changes
    there and finds nothing; the pair of ratios that flips the decline is found (also when the pairs are too many
    to try exhaustively and the search extends the closest single changes)."""
    from core.ml import flipsearch

    if exhaustive_rows is not None:
        monkeypatch.setattr(flipsearch, "EXHAUSTIVE_ROWS", exhaustive_rows)
    train = _skewed()
    numeric = list(train.columns)
    row = {"missed_payments": 0.1, "recent_inquiries": 0.1, "collections": 0.1, "credit_utilisation": 0.8,
           "debt_to_income": 0.8}
    cf = find_flip(row, predict_fn=_skewed_risk, threshold=0.5, train_df=train, numeric=numeric, categorical=[],
                   actionable=default_ranges(train, numeric, numeric))
    assert cf.decision_before == "decline" and cf.found
    after = {**row, **{c.feature: c.after for c in cf.changes}}
    assert _skewed_risk(pd.DataFrame([after]))[0] < 0.5 and cf.decision_after == "approve"
    assert {"credit_utilisation", "debt_to_income"} <= {c.feature for c in cf.changes}
    assert len(cf.changes) <= 3


def test_one_flip_search_for_credit_and_fraud():
    """Credit and fraud share core.ml.flipsearch; neither reaches into the other scenario for it."""
    import ast
    from pathlib import Path

    from core.ml import flipsearch
    from core.credit import counterfactual
    from core.fraud import flip

    root = Path(__file__).resolve().parents[2]
    fraud_imports = {n.module for n in ast.walk(ast.parse((root / "core/fraud/flip.py").read_text()))
                     if isinstance(n, ast.ImportFrom)}
    assert not any(m and m.startswith("core.credit") for m in fraud_imports), fraud_imports
    assert flip.search_flip is counterfactual.search_flip is flipsearch.search_flip
    assert counterfactual.default_ranges is flipsearch.default_ranges

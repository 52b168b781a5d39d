import numpy as np
import pandas as pd
import pytest

from core.credit.fairness import compute_fairness_table, make_groups, summarise_fairness
from core.errors import DataValidationError


def test_fairness_table_by_hand():
    y = np.array([0, 0, 1, 1, 0, 0, 0, 1])
    p = np.array([0.1, 0.2, 0.8, 0.3, 0.6, 0.7, 0.1, 0.9])
    g = np.array(["F", "F", "F", "F", "M", "M", "M", "M"])
    t = compute_fairness_table(y, p, g, threshold=0.5).set_index("group")
    # F: declines rows 2 only -> approval 3/4; M: declines 4,5,7 -> approval 1/4.
    assert t.loc["F", "approval_rate"] == 0.75
    assert t.loc["M", "approval_rate"] == 0.25
    assert t.loc["F", "tpr"] == 0.5 and t.loc["F", "fpr"] == 0.0
    assert t.loc["M", "tpr"] == 1.0 and t.loc["M", "fpr"] == pytest.approx(2 / 3)
    assert t.loc["M", "di_ratio"] == pytest.approx(1 / 3)
    assert t.loc["F", "four_fifths"] == "pass" and t.loc["M", "four_fifths"] == "FLAG"
    assert "M" in summarise_fairness(t.reset_index())


def test_no_flag_when_rates_equal():
    t = compute_fairness_table([0, 1, 0, 1], [0.1, 0.9, 0.1, 0.9], ["a", "a", "b", "b"], threshold=0.5)
    assert (t["di_ratio"] == 1.0).all()
    assert summarise_fairness(t).startswith("No group falls below")


def test_make_groups_age_bands_and_categories():
    ages = pd.Series([22, 30, 40, 50, 60, 70, np.nan] * 5, name="age")
    groups = make_groups(ages)
    assert groups.iloc[:7].tolist() == ["under 25", "25-34", "35-44", "45-54", "55-64", "65+", "missing"]
    sex = make_groups(pd.Series(["F", "M", None]))
    assert sex.tolist() == ["F", "M", "missing"]


def test_fairness_errors():
    with pytest.raises(DataValidationError, match="same length"):
        compute_fairness_table([0, 1], [0.1], ["a", "b"], threshold=0.5)
    with pytest.raises(DataValidationError, match="needs scored applicants"):
        compute_fairness_table([], [], [], threshold=0.5)


def test_groups_in_natural_order():
    ages = pd.Series([70, 22, 30, 50, 40, 60, np.nan, 23], name="age")
    y = np.array([0, 1, 0, 0, 1, 0, 0, 1])
    t = compute_fairness_table(y, np.full(8, 0.3), make_groups(ages), threshold=0.5)
    # "under 25" first (plain string sorting put it last), missing at the end.
    assert t["group"].tolist() == ["under 25", "25-34", "35-44", "45-54", "55-64", "65+", "missing"]
    income = make_groups(pd.Series(np.linspace(1000, 90000, 40), name="income"))
    t = compute_fairness_table(np.zeros(40), np.zeros(40), income, threshold=0.5)
    lows = [float(g.strip("([").split(",")[0]) for g in t["group"]]
    assert lows == sorted(lows) and len(lows) == 4
    t = compute_fairness_table([0] * 4, [0.1] * 4, ["other", "b", "missing", "A"], threshold=0.5)
    assert t["group"].tolist() == ["A", "b", "other", "missing"]


def test_proxy_features_are_flagged_by_association_and_by_name():
    from core.credit.fairness import find_proxy_features

    rng = np.random.default_rng(0)
    n = 2000
    sex = rng.choice(["F", "M"], n)
    # 'segment' follows sex 90 % of the time; 'income' is unrelated; 'region' is unrelated but named
    # like a place, which can stand in for ethnicity.
    segment = np.where(rng.random(n) < 0.9, np.where(sex == "F", "s1", "s2"), rng.choice(["s1", "s2"], n))
    df = pd.DataFrame({"sex": sex, "segment": segment, "income": rng.normal(5e4, 1e4, n),
                       "region": rng.choice(["N", "S", "E", "W"], n)})
    out = find_proxy_features(df, ["segment", "income", "region"], ["sex"]).set_index("feature")
    assert out.loc["segment", "flagged"] and out.loc["segment", "attribute"] == "sex"
    assert out.loc["segment", "association"] > 0.7 and "Cramér's V" in out.loc["segment", "why"]
    assert not out.loc["income", "flagged"] and out.loc["income", "association"] < 0.1
    assert out.loc["region", "flagged"] and "where a person lives" in out.loc["region", "why"]
    assert out.index[0] == "segment"  # strongest first

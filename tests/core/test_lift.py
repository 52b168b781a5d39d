"""Lift and cumulative gains (core.ml.lift) against a direct count."""

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.ml.lift import (compute_decile_table, compute_gains_curve, plain_decile_table, plot_cumulative_gains,
                       plot_lift)


def _data(n=1000, seed=3):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < 0.1).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.3, 0.15, n), 0, 1)
    return y, score


def test_decile_table_matches_a_direct_count():
    y, s = _data()
    t = compute_decile_table(y, s)
    assert len(t) == 10 and t["rows"].sum() == len(y) and t["positives"].sum() == y.sum()
    ranked = y[np.argsort(-s, kind="stable")]
    for g in range(10):
        part = ranked[g * 100:(g + 1) * 100]
        assert t.loc[g, "positives"] == part.sum()
        assert t.loc[g, "lift"] == pytest.approx(part.mean() / y.mean())
        assert t.loc[g, "cumulative_gain"] == pytest.approx(ranked[:(g + 1) * 100].sum() / y.sum())
    assert t["cumulative_gain"].iloc[-1] == pytest.approx(1.0) and t["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert t.loc[0, "lift"] > 2  # an informative score puts the positives in the first decile
    assert (t["min_score"].iloc[:-1].to_numpy() >= t["max_score"].iloc[1:].to_numpy()).all()


def test_uneven_groups_and_plain_headers():
    y = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
    t = compute_decile_table(y, np.linspace(1, 0, 11), groups=4)
    assert t["rows"].tolist() == [3, 3, 3, 2] and t["positives"].tolist() == [1, 1, 1, 0]
    shown = plain_decile_table(t, positives="frauds")
    assert "Share of all frauds caught" in shown.columns and "Frauds" in shown.columns


def test_gains_curve_random_perfect_and_model():
    y, s = _data()
    c = compute_gains_curve(y, s)
    assert c["share_acted"].iloc[0] == 0 and c["share_acted"].iloc[-1] == 1 and c["share_caught"].iloc[-1] == 1
    ranked = y[np.argsort(-s, kind="stable")]
    at = c.index[c["rows"] == 200][0]
    assert c.loc[at, "share_caught"] == pytest.approx(ranked[:200].sum() / y.sum())
    assert c.loc[at, "perfect"] == pytest.approx(min(200, y.sum()) / y.sum())
    assert (c["perfect"] >= c["share_caught"] - 1e-12).all()
    assert np.isnan(c["lift"].iloc[0]) and c["lift"].iloc[-1] == pytest.approx(1.0)
    big = compute_gains_curve(np.tile(y, 5), np.tile(s, 5))
    assert len(big) <= 1001
    fig = plot_cumulative_gains({"Keras network": c}, mark=0.2)
    assert [d.name for d in fig.data] == ["perfect ranking", "Keras network", "random"]
    lift = plot_lift(compute_decile_table(y, s))
    assert list(lift.data[0].y) == pytest.approx(compute_decile_table(y, s)["lift"].tolist())


def test_lift_errors():
    with pytest.raises(DataValidationError, match="one score per outcome; got 3 outcomes and 2 scores"):
        compute_gains_curve([0, 1, 0], [0.1, 0.2])
    with pytest.raises(DataValidationError, match="outcomes coded 0 / 1"):
        compute_gains_curve([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataValidationError, match="none of the 3 rows is positive"):
        compute_decile_table([0, 0, 0], [0.1, 0.2, 0.3], groups=2)
    with pytest.raises(DataValidationError, match="1 are missing"):
        compute_gains_curve([0, 1, 0], [0.1, np.nan, 0.3])
    with pytest.raises(DataValidationError, match="2–100 groups; got 1"):
        compute_decile_table([0, 1, 0], [0.1, 0.2, 0.3], groups=1)
    with pytest.raises(DataValidationError, match="leaves some empty"):
        compute_decile_table([0, 1, 0], [0.1, 0.2, 0.3])


def test_the_saved_run_keeps_the_gains_curve_in_the_scenario_words():
    from core.report.runsummary import roc_pr_curves

    y, s = _data()
    g = roc_pr_curves(y, s, gains=("Share of applicants declined", "Share of defaulters caught"))["gains"]
    assert (g["x_label"], g["y_label"]) == ("Share of applicants declined", "Share of defaulters caught")
    ranked = y[np.argsort(-s, kind="stable")]
    for x, caught in zip(g["x"], g["y"]):
        assert caught == pytest.approx(ranked[:round(x * len(y))].sum() / y.sum(), abs=1e-6)
    assert g["x"][0] == 0 and g["x"][-1] == 1

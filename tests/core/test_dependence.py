"""SHAP dependence and partial dependence (core.ml.dependence) on hand-made data and a known model."""

import numpy as np
import pandas as pd
import pytest

from core.ml.dependence import (compute_partial_dependence, feature_grid, find_interaction, get_shap_dependence,
                             plot_partial_dependence, plot_shap_dependence)
from core.errors import DataValidationError
from core.ml.explain import compute_shap_tabular


def _rows(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"annual_income": rng.uniform(20_000, 120_000, n).round(-2),
                         "credit_utilisation": rng.uniform(0, 1, n).round(3),
                         "open_accounts": rng.integers(0, 12, n),
                         "housing": rng.choice(["rent", "own", "mortgage"], n)})


def _predict(df: pd.DataFrame) -> np.ndarray:
    """A known model: risk rises with utilisation, more so for renters, and falls with income."""
    u = df["credit_utilisation"].to_numpy(dtype=float)
    rent = (df["housing"].astype(str) == "rent").to_numpy(dtype=float)
    inc = df["annual_income"].to_numpy(dtype=float)
    return 1 / (1 + np.exp(-(-1 + 3 * u * (1 + 2 * rent) - inc / 100_000)))


def _shap(rows):
    codes = {"rent": 0.0, "own": 1.0, "mortgage": 2.0}
    back = {v: k for k, v in codes.items()}

    def to_codes(df):
        return np.column_stack([df["annual_income"], df["credit_utilisation"], df["open_accounts"],
                                df["housing"].map(codes)]).astype(np.float32)

    def f(Z):
        d = pd.DataFrame(Z, columns=["annual_income", "credit_utilisation", "open_accounts", "housing"])
        d["housing"] = d["housing"].round().map(back)
        return _predict(d)

    return compute_shap_tabular(f, to_codes(rows), to_codes(rows), list(rows.columns), rows, seed=0)


def test_partial_dependence_is_the_average_prediction_over_the_grid():
    rows = _rows()
    pdp = compute_partial_dependence(_predict, rows, "credit_utilisation", grid_points=8, sample_rows=50, ice_rows=4)
    assert len(pdp.grid) == 8 and pdp.n_rows == 50 and pdp.ice.shape == (4, 8)
    # Direct computation at one grid value on the same seeded sample.
    take = np.sort(np.random.default_rng(0).choice(len(rows), 50, replace=False))
    sample = rows.iloc[take].assign(credit_utilisation=pdp.grid[3])
    assert pdp.average[3] == pytest.approx(_predict(sample).mean())
    assert np.all(np.diff(pdp.average) > 0)  # risk rises with utilisation
    assert np.all(np.diff(compute_partial_dependence(_predict, rows, "annual_income").average) < 0)
    assert pdp.grid[0] == pytest.approx(np.quantile(rows["credit_utilisation"], 0.01))


def test_partial_dependence_of_categories_and_whole_numbers():
    rows = _rows()
    pdp = compute_partial_dependence(_predict, rows, "housing", sample_rows=80)
    assert pdp.categorical and set(pdp.grid) == {"rent", "own", "mortgage"}
    by = dict(zip(pdp.grid, pdp.average))
    assert by["rent"] > by["own"] and by["own"] == pytest.approx(by["mortgage"])
    grid, cat = feature_grid(rows["open_accounts"])
    assert not cat and grid == list(range(12))  # few distinct values: each one, no fractions


def test_shap_dependence_and_interaction():
    rows = _rows(120)
    shap = _shap(rows)
    dep = get_shap_dependence(shap, "credit_utilisation")
    assert dep.color_by == "housing"  # utilisation's effect depends on housing, not on the account count
    assert np.allclose(dep.shap, shap.values[:, 1])
    assert dep.values.tolist() == rows["credit_utilisation"].tolist()
    assert find_interaction(shap, "credit_utilisation") == "housing"
    by_outcome = get_shap_dependence(shap, "annual_income", color_by="outcome", outcome=np.arange(120) % 2)
    assert by_outcome.color.tolist() == (np.arange(120) % 2).tolist()


def test_charts_use_the_feature_units():
    rows = _rows(60)
    shap = _shap(rows)
    fig = plot_shap_dependence(get_shap_dependence(shap, "credit_utilisation"), currency="EUR")
    assert fig.layout.xaxis.title.text == "Credit utilisation (%)" and fig.layout.xaxis.tickformat == ".0%"
    pdp = compute_partial_dependence(_predict, rows, "annual_income", sample_rows=20)
    fig = plot_partial_dependence(pdp, currency="EUR", reference=rows["annual_income"])
    assert fig.layout.xaxis.title.text == "Annual income (EUR)"
    assert fig.data[-1].text[0].startswith("€")
    assert len(fig.data) == 11  # ten ICE lines and the average
    cat = plot_shap_dependence(get_shap_dependence(shap, "housing", color_by="outcome", outcome=np.arange(60) % 2))
    assert list(cat.layout.xaxis.ticktext) == ["mortgage", "own", "rent"]


def test_dependence_errors():
    rows = _rows(40)
    shap = _shap(rows)
    with pytest.raises(DataValidationError, match="feature to plot must be one of the model's features"):
        get_shap_dependence(shap, "age")
    with pytest.raises(DataValidationError, match="needs one outcome per explained row"):
        get_shap_dependence(shap, "housing", color_by="outcome", outcome=[0, 1])
    with pytest.raises(DataValidationError, match="at least two values"):
        compute_partial_dependence(_predict, rows.assign(open_accounts=3), "open_accounts")
    with pytest.raises(DataValidationError, match="at least two values; 'housing' has 1"):
        compute_partial_dependence(_predict, rows.assign(housing="rent"), "housing")
    with pytest.raises(DataValidationError, match="needs rows to average over"):
        compute_partial_dependence(_predict, rows.iloc[:0], "housing")
    with pytest.raises(DataValidationError, match="2–100 grid points"):
        compute_partial_dependence(_predict, rows, "housing", grid_points=1)


def test_dependence_charts_take_the_scenarios_own_feature_names_with_units():
    import numpy as np

    from core.ml.dependence import PartialDependence, plot_partial_dependence

    pdp = PartialDependence(feature="term_risk_30d", grid=[0.0, 0.5, 1.0], average=np.array([0.1, 0.2, 0.3]),
                            ice=np.zeros((2, 3)), categorical=False, n_rows=10, actual=np.array([0.2]))
    fig = plot_partial_dependence(pdp, labeller=lambda n: "Terminal fraud rate, 30 days")
    assert fig.layout.title.text == "Partial dependence: Terminal fraud rate, 30 days"
    assert fig.layout.xaxis.title.text == "Terminal fraud rate, 30 days (%)"  # the unit stays with the plain name
    assert plot_partial_dependence(pdp).layout.xaxis.title.text == "Term risk 30d (%)"

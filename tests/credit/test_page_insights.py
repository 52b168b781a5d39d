"""AppTest of the credit page's lift and gains (Performance) and per-feature dependence (Explanations)."""

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.ml.lift import compute_decile_table
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def _values(v) -> list:
    """A figure's array as a list (Plotly writes NumPy arrays as base64 ``bdata``)."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
    return list(v)


def _chart_titled(at, title):
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        if spec["layout"].get("title", {}).get("text", "").startswith(title):
            return spec
    raise AssertionError(f"no chart titled {title}")


@pytest.fixture(scope="module")
def trained():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    ni = {w.label: w for w in at.number_input}
    ni["Epochs (early stopping may end sooner)"].set_value(2)
    ni["Use at most this many rows (0 = all)"].set_value(1200)
    ni["Rows explained with SHAP"].set_value(50)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    return at


def test_lift_and_gains_on_the_performance_tab(trained):
    at = trained
    run = at.session_state["credit.run"]
    table = next(d.value for d in at.dataframe if "Cumulative lift" in d.value.columns)
    expected = compute_decile_table(run.y_test, run.p_test)
    assert table["Defaulters"].tolist() == expected["positives"].tolist()
    assert table["Lift"].to_numpy() == pytest.approx(expected["lift"].to_numpy())
    assert table["Share of all defaulters caught"].iloc[-1] == pytest.approx(1.0)
    gains = _chart_titled(at, "Cumulative gains")
    names = [d["name"] for d in gains["data"]]
    # The recommended model first (the one decided on): the network, or its blend when that won on validation.
    first = run.tabular.ensemble["label"] if run.tabular.recommended == "ensemble" else "Keras network"
    assert names[0] == "perfect ranking" and names[1] == first and names[-1] == "random"
    assert "Keras network" in names
    ranked = run.y_test[np.argsort(-run.p_test, kind="stable")]
    n = len(ranked)
    k = round(0.2 * n)
    sentence = next(m.value for m in at.markdown if m.value.startswith("**Declining the riskiest 20%"))
    assert f"catches {ranked[:k].sum() / ranked.sum():.0%} of the defaulters" in sentence
    assert any(b.label == "Download the decile table (CSV)" for b in at.get("download_button"))
    at.slider(key="credit.lift_share").set_value(50).run()
    sentence = next(m.value for m in at.markdown if m.value.startswith("**Declining the riskiest 50%"))
    assert f"catches {ranked[:round(0.5 * n)].sum() / ranked.sum():.0%}" in sentence


def test_dependence_per_feature_in_its_units(trained):
    at = trained
    shap = at.session_state["credit.shap"]
    pick = at.selectbox(key="credit.dep_feature")
    assert pick.value == shap.importance()["feature"].iloc[0]
    pick.set_value("annual_income").run()
    assert not at.exception and not errors_besides_trust(at)
    dep = _chart_titled(at, "SHAP dependence: Annual income")
    assert dep["layout"]["xaxis"]["title"]["text"] == "Annual income (EUR)"
    j = shap.feature_names.index("annual_income")
    assert _values(dep["data"][0]["y"]) == pytest.approx(shap.values[:, j].tolist())
    pdp = _chart_titled(at, "Partial dependence: Annual income")
    assert pdp["data"][-1]["name"].startswith("average over") and len(pdp["data"]) == 11
    assert pdp["data"][-1]["text"][0].startswith("€")
    at.selectbox(key="credit.dep_feature").set_value("credit_utilisation").run()
    at.radio(key="credit.dep_colour").set_value("the actual outcome").run()
    dep = _chart_titled(at, "SHAP dependence: Credit utilisation")
    assert dep["layout"]["xaxis"]["title"]["text"] == "Credit utilisation (%)"
    assert sorted(d["name"] for d in dep["data"][:2]) == ["actual default", "actual repaid"]
    assert not at.exception and not errors_besides_trust(at)


def test_what_would_flip_a_declined_applicant(trained):
    at = trained
    run = at.session_state["credit.run"]
    threshold = float(at.session_state["credit.threshold"])
    declined = np.flatnonzero(run.p_test >= threshold)
    assert len(declined)
    at.number_input(key="credit.wi_row").set_value(int(declined[0])).run()
    assert not at.exception and not errors_besides_trust(at)
    answer = next(b.value for b in [*at.success, *at.info] if "instead of" in b.value or b.value.startswith("No change"))
    assert answer.startswith("Approve if"), answer
    cf = next(iter(at.session_state["credit.flip_memo"].values()))
    row = run.test_df.iloc[int(declined[0])].to_dict()
    after = {**row, **{c.feature: c.after for c in cf.changes}}
    assert run.predict(pd.DataFrame([after]))[0] < threshold  # the change really flips the network's decision
    assert cf.changes and not {c.feature for c in cf.changes} & {"age", "sex"}

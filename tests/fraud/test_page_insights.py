"""AppTest of the fraud page's lift and gains (Performance) and per-feature dependence (Explanations)."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.lift import compute_decile_table
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fraud.py")


@pytest.fixture(scope="module")
def trained():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    at.number_input(key="fraud.epochs").set_value(2)
    at.number_input(key="fraud.n_explain").set_value(20)
    next(b for b in at.button if b.label.startswith("Train model")).click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    return at


def test_lift_and_dependence(trained):
    at = trained
    run = at.session_state["fraud.run"]
    table = next(d.value for d in at.dataframe if "Cumulative lift" in d.value.columns)
    expected = compute_decile_table(run.test["label"].to_numpy(), run.test["score_network"].to_numpy())
    assert table["Frauds"].tolist() == expected["positives"].tolist()
    assert any(m.value.startswith("**Reviewing the riskiest 20% of transactions catches") for m in at.markdown)
    ex = at.session_state["fraud.explain"]
    assert at.selectbox(key="fraud.dep_feature").value == ex.global_sample.importance()["feature"].iloc[0]
    at.selectbox(key="fraud.dep_feature").set_value("amount").run()
    at.radio(key="fraud.dep_colour").set_value("the actual outcome").run()
    assert not at.exception and not errors_besides_trust(at)
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in at.get("plotly_chart")]
    assert "SHAP dependence: Amount" in titles and "Partial dependence: Amount" in titles
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("title", {}).get("text") == "Partial dependence: Amount")
    assert spec["layout"]["xaxis"]["title"]["text"] == "Amount (EUR)"

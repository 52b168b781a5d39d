"""AppTest test of the model search on the fraud page: the search runs on the training period with
the page's budget, and its trials, charts and chosen settings are shown above the results."""

from pathlib import Path

from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fraud.py")


def test_search_section_on_the_fraud_page():
    at = AppTest.from_file(PAGE, default_timeout=900)
    at.run()
    at.number_input(key="fraud.epochs").set_value(1)
    at.number_input(key="fraud.n_explain").set_value(20)
    at.toggle(key="fraud.search_on").set_value(True)
    at.number_input(key="fraud.search_budget").set_value(20)
    next(b for b in at.button if b.label.startswith("Train model")).click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    section = [e for e in at.expander if e.label.startswith("Model search —")]
    assert len(section) == 1 and section[0].label.endswith("of 20 s")
    frames = [d.value for d in at.dataframe]
    (trials,) = [f for f in frames if {"trial", "state", "epochs"} <= set(f.columns)]
    assert trials["trial"].iloc[0] == 0 and "validation average precision" in trials.columns
    metrics = {m.label: m.value for m in at.metric}
    assert "Best validation average precision" in metrics
    charts = [c for c in at.get("plotly_chart") if "Optimisation history" in c.proto.spec]
    assert len(charts) == 1

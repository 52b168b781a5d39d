"""AppTest tests of the model search on the demand and quality pages: the options in the training
form (60 s by default), the search with the page's budget, and its section after training."""

from pathlib import Path

from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _search_section(at, budget: int):
    section = [e for e in at.expander if e.label.startswith("Model search —")]
    assert len(section) == 1 and section[0].label.endswith(f"of {budget} s")
    frames = [d.value for d in at.dataframe]
    (trials,) = [f for f in frames if {"trial", "state", "epochs"} <= set(f.columns)]
    assert trials["trial"].iloc[0] == 0
    charts = [c for c in at.get("plotly_chart") if "Optimisation history" in c.proto.spec]
    assert len(charts) == 1
    return trials


def test_search_section_on_the_demand_page():
    import keras  # noqa: F401  (a worker loads it before the job starts; here the job runs in this process)

    at = AppTest.from_file(str(PAGES / "demand.py"), default_timeout=600).run()
    assert at.number_input(key="demand.search_budget").value == 60
    next(n for n in at.number_input if n.label == "Horizon (periods to forecast)").set_value(7)
    next(n for n in at.number_input if n.label == "Backtest origins").set_value(1)
    next(n for n in at.number_input if n.label == "Max epochs").set_value(2)
    at.toggle(key="demand.search_on").set_value(True)
    at.number_input(key="demand.search_budget").set_value(5)
    next(b for b in at.button if b.label == "Train forecast model").click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    trials = _search_section(at, 5)
    assert "input_len" in trials.columns and "tail_quantile" in trials.columns
    assert any("MAE of P50" in m.label for m in at.metric)
    assert at.session_state["demand.run"].config.horizon == 7


def test_search_section_on_the_quality_page():
    import keras  # noqa: F401  (a worker loads it before the job starts; here the job runs in this process)

    at = AppTest.from_file(str(PAGES / "quality.py"), default_timeout=600).run()
    assert at.number_input(key="quality.search_budget").value == 60
    at.number_input(key="quality.epochs").set_value(1)
    at.toggle(key="quality.search_on").set_value(True)
    at.number_input(key="quality.search_budget").set_value(5)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    trials = _search_section(at, 5)
    assert {"filters", "image_size", "augment"} <= set(trials.columns)
    assert "Best validation log loss" in {m.label for m in at.metric}

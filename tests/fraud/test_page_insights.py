"""AppTest of the fraud page's lift and gains (Performance) and per-feature dependence (Explanations)."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.ml.lift import compute_decile_table
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
    # The decile table is the recommended model's (the one the alerts are set on).
    expected = compute_decile_table(run.test["label"].to_numpy(), run.test[run.score_column].to_numpy())
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


def test_shap_charts_name_features_plainly_and_keep_the_waterfall_on_the_probability_axis(trained):
    from core.fraud.alerts import short_label

    at = trained
    specs = {json.loads(c.proto.spec)["layout"].get("title", {}).get("text", ""): json.loads(c.proto.spec)
             for c in at.get("plotly_chart")}
    bar = specs["Global importance (mean |SHAP|)"]
    names = list(bar["data"][0]["y"])
    raw = list(bar["data"][0]["customdata"])
    # The engineered windows read as words ("Terminal fraud rate, 30 days"), never as "Term risk 30d".
    assert names == [short_label(n) for n in raw]
    assert not any(n.startswith(("Cust nb", "Term risk", "Amount zscore")) for n in names)
    waterfall = next(s for t, s in specs.items() if t.startswith("Why this prediction"))
    lo, hi = waterfall["layout"]["xaxis"]["range"]
    assert 0 <= lo < hi <= 1
    steps = waterfall["data"][0]["x"][:-1]  # base value, then the pushes; the running total stays a probability
    running = [sum(steps[: i + 1]) for i in range(len(steps))]
    assert min(running) >= -1e-9 and max(running) <= 1 + 1e-9
    # The dependence picker and its charts use the same words.
    assert not any(o.startswith(("Cust nb", "Term risk", "Amount zscore")) for o in at.selectbox(key="fraud.dep_feature").options)
    assert any(t.startswith("SHAP dependence: ") for t in specs)
    # The network's settings sit in the Advanced settings expander, with their defaults and keys.
    box = next(e for e in at.expander if e.label == "Advanced settings")
    assert {w.key for w in box.select_slider} >= {"fraud.width", "fraud.l2", "fraud.lr", "fraud.batch"}
    assert at.select_slider(key="fraud.width").value == 128 and at.select_slider(key="fraud.batch").value == 2048


def test_alert_queue_reasons_have_room_to_wrap(trained):
    at = trained
    table = next(d for d in at.dataframe if "top_reasons" in d.value.columns)
    config = json.loads(table.proto.columns)
    # A wide column and rows of three lines: the three reasons wrap instead of ending in "Terminal fraud ra…".
    assert config["top_reasons"]["width"] == "large"
    assert table.proto.row_height >= 3 * 19
    assert list(table.proto.column_order)[:3] == ["rank", "risk", "top_reasons"]  # on screen, not past the edge


def test_explanation_says_what_would_flip_the_alert(trained):
    from core.fraud.alerts import short_label
    from core.fraud.flip import find_alert_flip, get_flip_features

    at = trained
    run, res = at.session_state["fraud.run"], at.session_state["fraud.local_res"]
    threshold = at.session_state["fraud.review_t"]
    i = int(at.session_state["fraud.local_key"][1])
    features = get_flip_features(res.contributions(0), run.features.numeric, 3)
    expected = find_alert_flip(run.feature_frame_test.iloc[i], predict_fn=run.tabular.predict_proba,
                               threshold=threshold, train_features=run.features.frame.iloc[run.split.train_idx],
                               numeric=run.features.numeric, categorical=run.features.categorical, features=features)
    shown = [e.value.replace("\\", "") for e in [*at.success, *at.info] if "alert threshold" in e.value]
    assert shown == [expected.sentence("EUR")]  # the page shows core's answer for this transaction
    caption = next(c.value for c in at.caption if c.value.startswith("Searched: "))
    assert caption.startswith("Searched: " + "; ".join(short_label(f) for f in features) + ". ")
    at.number_input(key="fraud.flip_k").set_value(1).run()  # fewer features: searched again, no retraining
    assert not at.exception and not errors_besides_trust(at)
    caption = next(c.value for c in at.caption if c.value.startswith("Searched: "))
    assert caption.startswith("Searched: " + short_label(features[0]) + ". ")

"""AppTest of pages/fraud.py: trains on the sample once for the module, shows results (the lift and gains, the
SHAP charts and dependence, what would flip an alert), recomputes the policy instantly, compares imbalance
strategies, and shows st.error (never an exception) for bad uploads. The training runs as a job (inline here,
through the same result files as a worker): the network comes back detached from TensorFlow, and every tab —
performance, the imbalance comparison (its own job), the alert policy, the queue, one transaction's explanation,
scoring a new file, saving the run — works without loading it into Keras. A failure in the job shows its
message; a comparison with no strategy is refused before it is submitted."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from pathlib import Path
from core.jobs.store import DetachedModel
from tests.conftest import errors_besides_trust
from tests.fraud.page_steps import open_with_upload

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fraud.py")


def _button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


def _metric(at, label):
    return next(m for m in at.metric if m.label.startswith(label))


@pytest.fixture(scope="module")
def trained():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    assert _metric(at, "Transactions").value.replace(",", "").isdigit()
    # Two epochs, the fewest alerts explained: the tests below read what the page shows of a training, not
    # how good its network is.
    at.number_input(key="fraud.epochs").set_value(2)
    at.number_input(key="fraud.n_explain").set_value(20)
    _button(at, "Train model").click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    return at


def test_training_shows_metrics_baselines_and_queue(trained):
    at = trained
    assert any("Model trained" in s.value and "weights of epoch" in s.value for s in at.success)
    pr = float(_metric(at, "PR-AUC (headline)").value)
    assert 0 < pr <= 1
    table = next(d.value for d in at.dataframe if "Model" in d.value.columns)
    tab = at.session_state["fraud.run"].tabular
    used = tab.recommended == "ensemble"  # the blend with the best baseline is tried by default
    assert tab.ensemble["checked"] and tab.ensemble["metric"] == "pr_auc"
    assert list(table["Model"]) == ["Keras network", "Logistic regression", "Gradient boosting",
                                    *([tab.ensemble["label"]] if used else [])]
    recommended = at.session_state["fraud.run"].recommended_section()["metrics"]
    assert pr == pytest.approx(recommended["pr_auc"], abs=5e-4)  # the headline tile is the recommended model's
    assert table["PR-AUC"].between(0, 1).all() and "Card precision@100" in table
    # One k everywhere: the run's (the form's, 100 by default) for the tile, the table, the caption and the chart.
    run = at.session_state["fraud.run"]
    assert run.config.k == 100 and not [s for s in at.slider if s.key == "fraud.k"]
    tile = _metric(at, "Card precision@")
    assert tile.label == "Card precision@100 per day"
    shown = table.set_index("Model")["Card precision@100"]
    assert f"{shown[tab.ensemble['label'] if used else 'Keras network']:.3f}" == tile.value  # the recommended row
    caption = next(c.value for c in at.caption if c.value.startswith("Keras network: precision@"))
    assert f"card precision@100 per day {tile.value}" in caption
    # One decision threshold: the table's precision and recall are at the review line, which starts at its optimum.
    review = at.slider(key="fraud.review_t").value
    assert review == pytest.approx(float(_metric(at, "Optimal: alerts").delta.split()[-1]), abs=0.001)
    from core.fraud import service

    assert review == service.decide(run, review_fee=5.0, digits=3).review  # the service's rule, written once
    assert "Threshold" not in table.columns
    y, p = run.test["label"].to_numpy(), run.test["score_network"].to_numpy()
    flagged = p >= review
    assert table["Recall"].iloc[0] == pytest.approx(round((flagged & (y == 1)).sum() / y.sum(), 4), abs=1e-4)
    assert any(f"at the review threshold {review:.3f}" in c.value for c in at.caption)
    # The network is judged against the best baseline with an interval on both ranking metrics.
    verdicts = [b.value for b in [*at.success, *at.info, *at.warning] if "(the best baseline)" in b.value]
    assert sorted(v.split("'s ")[1].split(" is ")[0] for v in verdicts) == ["PR-AUC", "ROC-AUC"]
    assert all("95% interval" in v for v in verdicts)
    table = next(d for d in at.dataframe if "top_reasons" in d.value.columns)
    queue = table.value  # the data (and its CSV) keep the machine names; the headers read in words
    labels = {k: v.get("label") for k, v in json.loads(table.proto.columns).items()}
    assert labels["top_reasons"] == "Top reasons" and labels["label"] == "Fraud (true outcome)"
    assert labels["amount"] == "Amount (€)" and labels["rank"] == "Rank"
    assert len(queue) > 0 and queue["risk"].is_monotonic_decreasing
    assert queue["top_reasons"].iloc[0].count("typical") >= 1
    # Amounts in the reasons carry the page's currency (never a bare "Amount: 57.16").
    amounts = re.findall(r"(?:^|; )(?:Amount|Customer average amount, [^:;]+): ([^;(]+)", "; ".join(queue["top_reasons"]))
    assert amounts and all(a.startswith("€") for a in amounts), amounts[:5]
    assert any(b.label.startswith("Download alert queue") for b in at.get("download_button"))
    assert len(at.get("plotly_chart")) >= 6


# The Performance tab's lift and gains and the Explanations tab's dependence, SHAP charts and alert flip, read on
# the same training before the tests below change the review fee and the thresholds.
def test_lift_and_dependence(trained):
    from core.ml.lift import compute_decile_table

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


def test_policy_recomputes_without_retraining(trained):
    at = trained
    before = _metric(at, "Optimal: savings").value
    at.number_input(key="fraud.fee").set_value(200.0).run()
    assert not at.exception
    after = _metric(at, "Optimal: savings").value
    assert before != after  # a much dearer review changes the optimum...
    assert before.lstrip("-").startswith("€") and after.lstrip("-").startswith("€")  # money with its currency
    assert at.number_input(key="fraud.fee").label == "Review fee per alert (€)"
    bands = next(d.value for d in at.dataframe if "band" in d.value.columns)
    assert bands["transactions"].sum() > 0
    _button(at, "Use the optimal review threshold").click().run()  # the optimum at the dearer review fee
    from core.fraud import service

    assert at.slider(key="fraud.review_t").value == \
        service.decide(at.session_state["fraud.run"], review_fee=200.0, digits=3).review
    at.slider(key="fraud.review_t").set_value(0.95)
    at.slider(key="fraud.block_t").set_value(0.2).run()
    # ...and bad bands say why; the export is refused by the same rule (core.fraud.service.decision_thresholds)
    # rather than quietly raising the block line to the review one.
    refusals = [e.value for e in at.error if "must be at or above the review threshold" in e.value]
    assert len(refusals) == 2 and all("block threshold (0.2)" in r for r in refusals), [e.value for e in at.error]
    assert not any(c.value.startswith("Every transaction of the test period") for c in at.caption)
    at.slider(key="fraud.block_t").set_value(0.99).run()
    # The bands are fine again; what may remain is a trust warning on a review line at risk 0.95.
    assert all(e.icon == ":material/report:" for e in at.error), [e.value for e in at.error]
    assert any("review at risk ≥ 0.950, block at ≥ 0.990" in c.value for c in at.caption)


def test_imbalance_comparison_panel(trained):
    at = trained
    at.multiselect(key="fraud.cmp_methods").set_value(["none", "undersample"])
    at.number_input(key="fraud.cmp_epochs").set_value(1)
    _button(at, "Compare strategies").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "Strategy" in d.value.columns)
    assert list(table["Strategy"]) == ["None", "Random under-sampling"]
    assert (table["Training time (s)"] > 0).all()
    assert any("PR-AUC" in s.value for s in at.success)


def _log(n_days=40, fraud_every=5, start="2024-01-01"):
    rng = np.random.default_rng(0)
    t = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, n_days * 86400, 2000)), unit="s")
    return pd.DataFrame({"timestamp": t.astype(str), "card_id": rng.integers(0, 50, 2000), "shop": rng.integers(0, 30, 2000),
                         "amount": rng.uniform(1, 100, 2000).round(2),
                         "is_fraud": (np.arange(2000) % (2000 // (n_days * 2 // fraud_every)) == 0).astype(int)})


@pytest.mark.parametrize("df, match", [
    (_log().drop(columns="amount"), "Expected an amount column"),
    (_log().assign(timestamp=lambda d: d["timestamp"].where(d.index % 7 > 0, "soon")), "could not be read as a date"),
    (_log().assign(is_fraud=0), "fraud cases in the training period"),
])
def test_bad_uploads_show_errors(df, match):
    at = open_with_upload(df, timeout=120)
    assert any(match in e.value for e in at.error), [e.value for e in at.error]


def test_empty_test_period_shows_error():
    at = open_with_upload(_log(), timeout=120)
    at.date_input(key="fraud.test_start:upload:mine.csv").set_value(pd.Timestamp("2024-06-01").date()).run()
    assert any("transactions in the test period" in e.value for e in at.error)


def test_a_tab_that_fails_to_draw_is_a_message_and_the_save_click_still_saves(trained, tmp_path, monkeypatch):
    from tests.conftest import a_failing_tab_keeps_the_save

    a_failing_tab_keeps_the_save(trained, "fraud", "ui.fraud.alerts.show_alert_queue", "Alert queue",
                                 monkeypatch, tmp_path)


# The training as a job, read last: the tests above leave the page with its network never loaded into Keras.
def test_training_job_result_is_detached_and_every_tab_works_without_keras(trained, tmp_path, monkeypatch):
    at = trained
    run = at.session_state["fraud.run"]
    assert isinstance(run.tabular.model, DetachedModel) and run.tabular.model.onnx is not None
    assert str(at.session_state["fraud.run_job"]).startswith("fraud-")
    assert any("Model trained" in s.value for s in at.success)
    ex = at.session_state["fraud.explain"]
    assert len(ex.alert_positions) == 20 and len(ex.reasons) == 20
    # The tests above used the page's tabs too: none of them loaded its network into Keras, so a load here counts.
    assert run.tabular.model._keras is None
    loads = DetachedModel.keras_loads
    # Performance, alert policy and queue are drawn on every run; change the fee and the review line.
    at.number_input(key="fraud.fee").set_value(50.0).run()
    at.slider(key="fraud.review_t").set_value(0.6).run()
    assert not at.exception, at.exception
    assert any("at the review threshold 0.600" in c.value for c in at.caption)
    assert next(d.value for d in at.dataframe if "top_reasons" in d.value.columns)["risk"].is_monotonic_decreasing
    # Explanations: another transaction's reasons (SHAP through the network's ONNX graph).
    before = at.session_state["fraud.local_res"]
    at.number_input(key="fraud.local_rank").set_value(3).run()
    assert not at.exception, at.exception
    assert at.session_state["fraud.local_res"] is not before
    assert any(m.value.startswith("Top reasons: ") for m in at.markdown)
    at.number_input(key="fraud.flip_k").set_value(2).run()  # what would flip it: the network's risk again
    assert not at.exception, at.exception
    assert any(m.value == "#### What would flip this alert" for m in at.markdown)
    # Imbalance comparison: its own job; the result is shown with the model it was run on.
    at.multiselect(key="fraud.cmp_methods").set_value(["none", "class_weight"])
    at.number_input(key="fraud.cmp_epochs").set_value(1)
    _button(at, "Compare strategies").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "Strategy" in d.value.columns)
    assert list(table["Strategy"]) == ["None", "Class weights"] and table["PR-AUC"].between(0, 1).all()
    assert at.session_state["fraud.run"] is run  # the comparison leaves the trained model as it was
    # Save to workspace: the network's .keras file is copied as it is.
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    at.text_input(key="fraud.ws_name").set_value("job run")
    at.button(key="fraud.ws_save").click().run()
    assert not at.exception, at.exception
    saved = list((tmp_path / "runs").rglob("model.keras"))
    assert len(saved) == 1 and saved[0].read_bytes() == run.tabular.model.keras_bytes
    # The run decides with the page's alert policy: its review line and fee, saved once.
    from core.fraud.service import decision_thresholds
    from core.store.registry import read_metadata

    meta = read_metadata(saved[0].parent)
    review = float(at.session_state["fraud.review_t"])
    assert decision_thresholds(meta)[0] == review and meta["workspace"]["decision"]["review_fee"] == float(
        at.session_state["fraud.fee"] if "fraud.fee" in at.session_state else 5.0)
    # Scoring a new file (the tab's code path: features from the training history, reasons by SHAP).
    from core.fraud.pipeline import score_new_file

    new = pd.read_csv(Path(PAGE).parents[1] / "sample_data" / "fraud_new_month.csv.gz", nrows=200)  # the next days
    scored, X_new = score_new_file(run, new.drop(columns="is_fraud"))
    assert scored["risk"].between(0, 1).all()
    assert len(run.tabular.explain(X_new.iloc[:5]).values) == 5
    assert DetachedModel.keras_loads == loads, "a tab loaded the network into Keras in the server process"


def test_a_comparison_without_strategies_is_refused_before_submitting(trained):
    from core.jobs.manager import get_job_manager

    at = trained
    submitted = len(get_job_manager().jobs(at.session_state["studio.browser"]))
    at.multiselect(key="fraud.cmp_methods").set_value([])
    _button(at, "Compare strategies").click().run()
    assert any("at least one imbalance strategy" in e.value for e in at.error), [e.value for e in at.error]
    assert len(get_job_manager().jobs(at.session_state["studio.browser"])) == submitted


def test_a_data_error_in_the_job_is_shown_and_the_earlier_model_kept(trained, monkeypatch):
    from core.errors import DataValidationError
    import core.fraud.pipeline as pipeline

    def refuse(*_a, **_k):
        raise DataValidationError("Expected something the worker checks; got nothing. Fix: test it.")

    at = trained
    run = at.session_state["fraud.run"]
    monkeypatch.setattr(pipeline, "run_fraud", refuse)  # the inline job runs in this process
    _button(at, "Train model").click().run()
    assert not at.exception, at.exception
    assert any("Expected something the worker checks" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["fraud.run"] is run

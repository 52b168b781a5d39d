"""AppTest tests of the credit page trained once for the module on a small sample: metrics and charts, the
network detached from TensorFlow (every tab, the export and the save work without loading Keras in the server),
lift and gains, dependence, what would flip a decline, the threshold, scorecard, fairness, drift, what-if,
exports and saving, and which data the results belong to. The page before training: test_page_data.py."""

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.jobs.store import DetachedModel
from core.ml.lift import compute_decile_table
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def _labels(at, kind):
    return {w.label: w for w in getattr(at, kind)}


@pytest.fixture(scope="module")
def trained_app():
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception
    ni = _labels(at, "number_input")
    ni["Epochs (early stopping may end sooner)"].set_value(2)
    ni["Use at most this many rows (0 = all)"].set_value(1200)
    ni["Rows explained with SHAP"].set_value(50)
    next(b for b in at.button if b.label == "Train model").click().run()
    return at



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



def test_training_shows_metrics_and_charts(trained_app):
    at = trained_app
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    metrics = {m.label: m.value for m in at.metric}
    for label in ["ROC-AUC", "PR-AUC", "KS statistic", "Gini", "Brier score", "Approval rate", "Bad rate of approved",
                  "Profit-optimal threshold", "Probability of default", "Grade", "Decision"]:
        assert label in metrics
    assert 0.5 < float(metrics["ROC-AUC"]) <= 1.0
    assert metrics["Expected profit (test rows)"].lstrip("-").startswith("€")
    assert at.number_input(key="credit.loss").label == "Loss from approving a defaulter (€)"
    assert any(s.value.startswith("Model trained") for s in at.success)
    # Epochs run and the epoch whose weights were kept are said where the user sees them.
    trained = next(s.value for s in at.success if s.value.startswith("Model trained"))
    assert "of 2 epochs" in trained and "weights of epoch" in trained
    # 1,200 rows are too few for the refit on every training row (from 50,000 fitting rows): none is claimed.
    assert "trained again from scratch" not in trained and "  " not in trained
    assert any("Kept out of this model: `age`, `sex`" in i.value for i in at.info)
    # The network is judged against the best baseline with an interval, never a bare difference.
    verdicts = [b.value for b in [*at.success, *at.info, *at.warning] if "(the best baseline)" in b.value]
    assert len(verdicts) == 2 and all("95% interval" in v for v in verdicts)
    # The verdict and the table name the recommended model: the network, or its blend when that won on validation.
    tab = at.session_state["credit.run"].tabular
    used = tab.recommended == "ensemble"
    assert any(v.startswith("The ensemble's ROC-AUC" if used else "The network's ROC-AUC") for v in verdicts)
    assert not any("earns its place" in b.value for b in [*at.success, *at.info, *at.warning])
    models = next(d.value for d in at.dataframe if list(d.value.columns[:1]) == ["Model"])
    assert list(models.columns[:4]) == ["Model", "ROC-AUC", "PR-AUC", "KS statistic"]
    assert list(models["Model"]) == ["Keras network", "Logistic regression", "Gradient boosting",
                                     *([tab.ensemble["label"]] if used else [])]
    assert tab.ensemble["checked"]  # the blend is tried by default, on the validation rows
    shown = [b.value for b in [*at.success, *at.caption] if "Ensemble used" in b.value or "Ensemble not used" in b.value]
    assert len(shown) == 1 and ("It is the recommended model" in shown[0]) == used
    if used:
        assert f"ROC-AUC {tab.ensemble['test_metrics']['roc_auc']:.3f}" in shown[0]
    else:
        assert shown[0].startswith("Recommended model: the Keras network.")
    charts = at.get("plotly_chart")
    assert len(charts) >= 12  # counts, history, confusion, ROC, PR, calibration, profit, grades, SHAP, ...
    state = at.session_state
    assert state["credit.run"].setup.sensitive == ["age", "sex"]
    assert len(state["credit.shap"].values) == 50



def test_every_tab_works_on_the_detached_network(trained_app, tmp_path, monkeypatch):
    """The training ran as a job: the result comes back with its network detached from TensorFlow, and every
    tab (what-if, export, save) works without loading Keras in the server. First on the trained page, before
    the other tests use its network."""
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    at = trained_app
    assert not at.exception and not errors_besides_trust(at)
    run = at.session_state["credit.run"]
    assert isinstance(run.tabular.model, DetachedModel) and run.tabular.model.onnx is not None
    loads = DetachedModel.keras_loads
    # What-if: an edited applicant is scored and explained again.
    income = next(w for w in at.number_input if w.key and w.key.startswith("credit.wi:0:"))
    original = income.value
    income.set_value(float(income.value) * 3 + 1).run()
    assert not at.exception
    for label in ("Prepare scored CSV (with reason codes for declines)", "Prepare model download"):
        next(b for b in at.button if b.label == label).click().run()
        assert not at.exception and not errors_besides_trust(at)
    next(b for b in at.button if b.label == "Save to workspace").click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert any(s.value.startswith("Saved as run") for s in at.success)
    # The run decides with the page's threshold and costs, saved once in its decision record.
    from core.store.registry import read_metadata

    dec = read_metadata(next(p for p in (tmp_path / "runs").iterdir() if p.is_dir()))["workspace"]["decision"]
    assert (dec["threshold"], dec["loss_default"], dec["margin_good"]) == (
        at.session_state["credit.threshold"], at.session_state["credit.loss"], at.session_state["credit.margin"])
    assert DetachedModel.keras_loads == loads  # no tab needed Keras in this process
    # The saved run holds the network the worker trained: Keras reads it and predicts what ONNX Runtime did.
    from core.store.registry import load_run

    saved = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    keras_model = load_run(saved).model
    x = np.random.default_rng(0).normal(size=(16, keras_model.inputs[0].shape[1])).astype("float32")
    assert np.allclose(np.asarray(keras_model(x)), run.tabular.model(x), atol=1e-5)
    # The applicant as it was, for the tests below that read the what-if.
    next(w for w in at.number_input if w.key == income.key).set_value(original).run()
    assert not at.exception


# The Performance tab's lift and gains, the Explanations tab's dependence and what would flip a decline, read
# at the threshold the training set (the tests below move it).
def test_lift_and_gains_on_the_performance_tab(trained_app):
    at = trained_app
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


def test_dependence_per_feature_in_its_units(trained_app):
    at = trained_app
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


def test_what_would_flip_a_declined_applicant(trained_app):
    at = trained_app
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


def test_profit_tile_has_no_arrow_at_the_optimum_and_the_waterfall_reads_in_units(trained_app):
    import json

    at = trained_app
    next(b for b in at.button if b.label == "Use the profit-optimal threshold").click().run()
    tile = next(m for m in at.metric if m.label == "Expected profit (test rows)")
    assert tile.proto.delta == ""  # nothing changed: no "↑ €0 vs optimal"
    at.slider(key="credit.threshold").set_value(0.9).run()
    tile = next(m for m in at.metric if m.label == "Expected profit (test rows)")
    assert tile.proto.delta.startswith("-") and tile.proto.delta.endswith("vs optimal")
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    waterfall = next(s for s in specs if s["layout"]["title"]["text"].startswith("Why this prediction"))
    labels = [str(y) for y in waterfall["data"][0]["y"]]
    assert not any("_" in y for y in labels)  # plain names, never column names
    assert any(y.startswith("Credit utilisation = ") and y.endswith("%") for y in labels)
    assert all("€" in y for y in labels if y.startswith(("Annual income =", "Loan amount =")))
    lo, hi = waterfall["layout"]["xaxis"]["range"]
    assert 0 <= lo < hi <= 1


def test_threshold_moves_kpis_without_retraining(trained_app):
    at = trained_app
    run_before = at.session_state["credit.run"]
    at.slider(key="credit.threshold").set_value(0.05).run()
    low = {m.label: m.value for m in at.metric}["Approval rate"]
    at.slider(key="credit.threshold").set_value(0.95).run()
    high = {m.label: m.value for m in at.metric}["Approval rate"]
    assert float(low.rstrip("%")) < float(high.rstrip("%"))
    assert at.session_state["credit.run"] is run_before
    assert not at.exception


def test_bad_scorecard_and_bad_psi_upload_show_errors(trained_app):
    at = trained_app
    at.text_input(key="credit.cuts").set_value("520, 500").run()
    assert any("strictly increasing" in e.value for e in at.error)
    at.text_input(key="credit.cuts").set_value("").run()
    at.file_uploader(key="credit.psi_upload").set_value(("new.csv", b"x,y\n1,2\n", "text/csv")).run()
    assert any("missing" in e.value and "feature columns" in e.value for e in at.error)
    assert not at.exception
    ok = at.session_state["credit.run"].test_df.drop(columns=["default"]).to_csv(index=False).encode()
    at.file_uploader(key="credit.psi_upload").set_value(("new.csv", ok, "text/csv")).run()
    # Earlier tests moved the decline line: a trust warning (core.report.trust) on it may remain, no other error.
    assert all(e.icon == ":material/report:" for e in at.error) and not at.exception, [e.value for e in at.error]
    psi = at.session_state["credit.psi_table"]
    assert psi["variable"].iloc[0] == "score" and (psi["status"] == "stable").all()


def test_every_declined_applicant_gets_reason_codes(trained_app):
    at = trained_app
    run = at.session_state["credit.run"]
    at.slider(key="credit.threshold").set_value(0.1).run()
    assert not at.exception
    declined = int((run.p_test >= 0.1).sum())
    assert declined > 50  # more than the 50 rows explained after training
    table = next(d.value for d in at.dataframe if "Reason 1" in d.value.columns)
    assert len(table) == declined and (table["Reason 1"].str.len() > 0).all()
    assert table["Probability of default"].is_monotonic_decreasing  # riskiest first
    assert {"Applicant", "Points", "Reason 4"} <= set(table.columns)


def test_fairness_groups_in_order_and_proxy_features_flagged(trained_app):
    at = trained_app
    at.selectbox(key="credit.fair_attr").set_value("age").run()
    fair = next(d.value for d in at.dataframe if "Four-fifths rule" in d.value.columns)
    groups = [g for g in fair["Age"] if g != "missing"]
    assert groups[0] == "under 25" and groups[-1] == "65+"
    proxies = [w.value for w in at.warning if "stand in for a protected attribute" in w.value]
    assert len(proxies) == 1 and "**Region** (`region`)" in proxies[0]


def test_drift_on_the_bundled_sample_batch(trained_app):
    at = trained_app
    at.toggle(key="credit.psi_sample").set_value(True).run()
    assert not at.exception and not errors_besides_trust(at)
    psi = at.session_state["credit.psi_table"]
    # The next month was generated with a campaign in the North: the regional mix is to watch.
    assert psi.set_index("variable").loc["region", "status"] == "watch"


def test_what_if_fields_have_plain_names_and_whole_numbers_for_counts(trained_app):
    at = trained_app
    fields = {n.label: n for n in at.number_input if n.key and n.key.startswith("credit.wi:")}
    assert "Number of open accounts" in fields and "Debt-to-income ratio" in fields
    assert isinstance(fields["Number of open accounts"].value, int)  # a count, not 3.000
    assert isinstance(fields["Debt-to-income ratio"].value, float)
    assert "`open_accounts`" in fields["Number of open accounts"].help
    before = float(next(m.value for m in at.metric if m.label == "Probability of default"))
    fields["Past delinquencies"].set_value(12).run()
    after = float(next(m.value for m in at.metric if m.label == "Probability of default"))
    assert not at.exception and after > before


def test_exports(trained_app):
    at = trained_app
    next(b for b in at.button if b.label.startswith("Prepare scored CSV")).click().run()
    assert not at.exception
    text = at.session_state["credit.out:csv"][1].decode()
    lines = text.splitlines()
    assert "probability_of_default,score_points,grade,decision,reason_1" in lines[0]
    assert len(lines) == 1 + len(at.session_state["credit.run"].test_df)
    assert any(b.label == "Download scored CSV" for b in at.get("download_button"))
    next(b for b in at.button if b.label == "Prepare model download").click().run()
    assert at.session_state["credit.out:zip"][:2] == b"PK"


def _reasons(at):
    table = next(d.value for d in at.dataframe if "Reason 1" in d.value.columns)
    return [r for k in range(1, 5) for r in table[f"Reason {k}"] if r]


def test_one_decline_rule_for_grades_what_if_and_scored_file(trained_app):
    at = trained_app
    run, threshold = at.session_state["credit.run"], float(at.session_state["credit.threshold"])
    grades = next(d.value for d in at.dataframe if "Grade" in d.value.columns and "Declined" in d.value.columns)
    assert "Review" not in set(grades["Decision"])
    assert int(grades["Declined"].sum()) == int((run.p_test >= threshold).sum())
    split = grades[grades["Decision"].str.startswith("Split at")]
    assert len(split) <= 1 and (split.empty or (split["Approved"] + split["Declined"] == split["Applicants"]).all())
    decision = next(m.value for m in at.metric if m.label == "Decision")
    assert decision in ("Approve", "Decline")  # as the grade table writes it, never APPROVE
    assert any(c.value.startswith(("Grade ", "Every applicant of grade")) and "The line: P(default)" in c.value
               for c in at.caption)


def test_proxies_never_explain_a_decline_unless_marked_and_the_choice_is_saved(trained_app, tmp_path, monkeypatch):
    from core.credit.service import score_chunk as score_credit_chunk
    from core.credit.fairness import proxy_features
    from core.credit.persist import load_credit_model
    from core.credit.reasons import PROXY_NOTE, humanise
    from core.store.registry import list_runs
    from core.workspace.report import build_report_html

    at = trained_app
    run = at.session_state["credit.run"]
    proxies = proxy_features(run)
    assert "region" in proxies  # the sample's region is flagged by its name (and the fairness tab says so)
    names = tuple(humanise(f) for f in proxies)

    def cites_proxy(reason: str) -> bool:
        return reason.startswith(names)

    at.slider(key="credit.threshold").set_value(0.1).run()
    assert at.toggle(key="credit.proxy_out").value is True  # the credit default: proxies kept out
    assert _reasons(at) and not [r for r in _reasons(at) if cites_proxy(r)]
    at.toggle(key="credit.proxy_out").set_value(False).run()
    marked = [r for r in _reasons(at) if cites_proxy(r)]
    assert marked and all(r.endswith(f"({PROXY_NOTE})") for r in marked)
    assert any(r.startswith("Region is") for r in marked)
    assert not [r for r in _reasons(at) if PROXY_NOTE in r and not cites_proxy(r)]
    # Saved with the run, both ways; the Score page and the command line score with the saved choice.
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path))
    saved = {}
    for keep_out in (False, True):
        at.toggle(key="credit.proxy_out").set_value(keep_out).run()
        at.button(key="credit.ws_save").click().run()
        assert not at.exception
        newest = max(list_runs(tmp_path)[0], key=lambda m: m["saved_at"])
        saved[keep_out] = Path(newest["path"])
    for keep_out, path in saved.items():
        ws = load_credit_model(path).metadata["workspace"]
        assert ws["decision"]["proxy_reasons"] == ("left out" if keep_out else "marked")
        fair = ws["fairness"]
        assert set(fair["attributes"]) == {"age", "sex"} and fair["threshold"] == pytest.approx(0.1)
        assert [p["feature"] for p in fair["proxies"]] == proxies
        scored, _ = score_credit_chunk(load_credit_model(path), run.test_df.head(300), threshold=0.1)
        reasons = [r for k in range(1, 5) for r in scored[f"reason_{k}"] if r]
        cited = [r for r in reasons if cites_proxy(r)]
        assert (not cited) if keep_out else (cited and all(r.endswith(f"({PROXY_NOTE})") for r in cited))
    # The model card shows the page's fairness table with plain headers, and no longer says it was not saved.
    card = build_report_html(saved[True])
    assert "Outcomes by age at the decline threshold 0.100" in card and "Outcomes by sex" in card
    assert "Approval rate" in card and "Four-fifths rule" in card and "approval_rate" not in card
    assert "was not saved" not in card and "Reason codes leave these features out" in card


def test_results_say_which_data_they_belong_to(trained_app):
    at = trained_app
    assert any(c.value.startswith(":material/dataset: Results of the model trained on **the bundled sample "
                                  "(credit_applications.csv, 1,200 applications)**") for c in at.caption)
    # Other data on the page (a file that cannot be read, then a good one): the results say they are not for it.
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("broken.csv", b"", "text/csv")).run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "These results are not for the data on this page" in w.value)
    assert "the bundled sample (credit_applications.csv, 1,200 applications)" in warning
    assert "no data is loaded now" in warning
    at.file_uploader(key="credit.upload").set_value(
        ("mine.csv", b"income,debt,default\n" + b"".join(f"{i},{i % 7},{i % 2}\n".encode() for i in range(60)),
         "text/csv")).run()
    assert any("the data now loaded in 'Data & training' is other data" in w.value for w in at.warning)
    # Back on the sample: the label again, and no warning.
    at.radio(key="credit.source").set_value("Bundled sample (5,000 applications)").run()
    assert not [w for w in at.warning if "These results are not for" in w.value]
    assert any("Results of the model trained on" in c.value for c in at.caption)


def test_a_tab_that_fails_to_draw_is_a_message_and_the_save_click_still_saves(trained_app, tmp_path, monkeypatch):
    from tests.conftest import a_failing_tab_keeps_the_save

    a_failing_tab_keeps_the_save(trained_app, "credit", "ui.credit.results.show_performance", "Performance",
                                 monkeypatch, tmp_path)
    assert any(m.label == "ROC-AUC" for m in trained_app.metric)  # the Performance tab draws again

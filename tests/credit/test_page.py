"""AppTest tests of the credit page: it opens, trains on a small sample, shows results and errors."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
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


def test_opens_on_sample_with_schema_and_nothing_trained():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception and not errors_besides_trust(at)
    assert any("5,000 rows" in c.value for c in at.caption)
    assert at.selectbox(key="credit.target:sample").value == "default"
    schema = at.dataframe(key="credit.schema:sample").value.set_index("column")
    assert schema.loc["debt_to_income", "role"] == "numeric"
    assert schema.loc["purpose", "role"] == "categorical"
    assert schema.loc["applicant_id", "role"] == "identifier"
    assert schema.loc["sex", "sensitive"] and not schema.loc["income" if "income" in schema.index else "purpose", "sensitive"]
    assert any("Train a model" in i.value for i in at.info)


def _callout(at):
    return [m.value for m in at.markdown if "Kept out of the model" in m.value]


def test_sensitive_columns_are_called_out_and_one_click_makes_one_a_feature():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    callout = _callout(at)
    assert len(callout) == 1 and "`age`" in callout[0] and "`sex`" in callout[0]
    next(b for b in at.button if b.label == "Use age as a feature").click().run()
    assert not at.exception and not errors_besides_trust(at)
    callout = _callout(at)
    assert len(callout) == 1 and "`age`" not in callout[0] and "`sex`" in callout[0]
    schema = at.dataframe(key="credit.schema:sample:age").value.set_index("column")
    assert not schema.loc["age", "sensitive"] and schema.loc["sex", "sensitive"]
    assert not [b for b in at.button if b.label == "Use age as a feature"]


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


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"a,b,default\n", "no data rows"),
    (b"income,default\n1,0\n2,0\n3,0\n", "only one"),
])
def test_bad_upload_shows_error(content, match):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("bad.csv", content, "text/csv")).run()
    assert not at.exception
    assert any(match in e.value for e in at.error), [e.value for e in at.error]


def _upload(content: bytes) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("mine.csv", content, "text/csv")).run()
    assert not at.exception
    return at


def test_a_numeric_column_with_many_values_is_not_taken_as_the_outcome():
    rows = "\n".join(f"{20000 + 137 * i},{i % 7},{'north' if i % 2 else 'south'}" for i in range(60))
    at = _upload(f"income,dependants,region\n{rows}\n".encode())
    # No column is named like an outcome: the last one is offered; pick the income instead.
    at.selectbox(key="credit.target:upload:" + at.session_state["credit.schema_key"].split(":", 1)[1]).set_value(
        "income").run()
    err = [e.value for e in at.error]
    assert any("holds numbers with 60 different values" in e and "Fix: pick the column" in e for e in err), err
    assert not [b for b in at.button if b.label == "Train model"]  # nothing to train on a measurement


def test_a_file_with_no_usable_feature_is_refused_at_upload():
    rows = "\n".join(f"APP{i},2024-01-{1 + i % 28:02d},{i % 2}" for i in range(40))
    at = _upload(f"applicant_id,applied_on,default\n{rows}\n".encode())
    err = [e.value for e in at.error]
    assert any("No column is left for the model to learn from" in e and "Fix: set the role" in e for e in err), err
    assert not [b for b in at.button if b.label == "Train model"]


def test_good_upload_offers_target_and_positive_value(small_df):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    df = small_df.head(300).assign(default=small_df.head(300)["default"].map({1: "bad", 0: "good"}))
    at.file_uploader(key="credit.upload").set_value(("mine.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception and not errors_besides_trust(at)
    assert any("300 rows" in c.value for c in at.caption)
    target = next(s for s in at.selectbox if s.label.startswith("Outcome column"))
    positive = next(s for s in at.selectbox if s.label.startswith("Value that means default"))
    assert target.value == "default" and positive.value == "bad"
    assert sorted(positive.options) == ["bad", "good"]


def test_a_tab_that_fails_to_draw_is_a_message_and_the_save_click_still_saves(trained_app, tmp_path, monkeypatch):
    from tests.conftest import a_failing_tab_keeps_the_save

    a_failing_tab_keeps_the_save(trained_app, "credit", "ui.credit.results.show_performance", "Performance",
                                 monkeypatch, tmp_path)
    assert any(m.label == "ROC-AUC" for m in trained_app.metric)  # the Performance tab draws again

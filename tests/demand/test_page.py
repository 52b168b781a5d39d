"""The demand page headless (AppTest): trains on the sample, shows results, recomputes the policy
instantly, trains the event classifier, explains a forecast, and shows st.error for bad input."""

import base64
import json

import pytest
from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

from core.demand.labels import SHAP_AXIS, demand_label

from tests.demand.page_steps import PAGE, button, number, train_small


@pytest.fixture(scope="module")
def trained():
    return train_small()


def test_data_report_before_training():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and not errors_besides_trust(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Frequency"] == "daily" and metrics["Series"] == "23"
    assert any("2023-01-01 → 2025-12-31" in m.value for m in at.markdown)
    blend = [c for c in at.checkbox if c.label == "Blend with the best baseline"]
    assert len(blend) == 1 and blend[0].value is True  # the recommended forecast, saved, unless unticked


def test_training_shows_backtest_against_baselines(trained):
    at = trained
    assert not errors_besides_trust(at)
    run = at.session_state["demand.run"]
    assert run.wcfg.horizon == 7
    table = at.dataframe[1].value  # [0] is the data report's issues or none; metrics table next
    names = [s.value for s in at.subheader]
    assert "Backtest: network vs baselines" in names and "Inventory policy" in names
    assert any("Seasonal naive" in str(df.value.index.tolist()) for df in at.dataframe)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"]["title"]["text"] for c in charts if "title" in c["layout"]]
    assert "Backtest error by horizon step" in titles
    assert any(t.endswith("history, backtest and forecast") for t in titles)
    assert table is not None
    # One comparison, the verdict's: every tile sets the network against the best baseline the verdict names.
    verdict = at.session_state["demand.verdicts"][1][0]
    labels = [m.label for m in at.metric]
    ratio = f"{verdict.metric[:1].upper()}{verdict.metric[1:]} vs {verdict.baseline}"
    assert labels.index("WAPE (error / total demand)") < labels.index("MASE (< 1 beats in-sample naive)") < \
        labels.index("Error vs best baseline")
    tiles = {m.label: m for m in at.metric}
    # The tile's label stays short enough for a quarter-width column; the metric and baseline sit beside the value.
    assert tiles["Error vs best baseline"].value == f"{verdict.value / verdict.baseline_value:.0%}"
    assert tiles["Error vs best baseline"].delta == f"vs {verdict.baseline}"
    assert tiles["Error vs best baseline"].help.startswith(ratio + ":")
    # Comparison notes are grey and carry no arrow: nothing went up or down.
    none = type(tiles["P10–P90 coverage"].proto).MetricDirection.Value("NONE")
    assert all(tiles[k].proto.direction == none for k in ("WAPE (error / total demand)", "P10–P90 coverage",
                                                           "Error vs best baseline"))
    assert tiles["WAPE (error / total demand)"].delta.startswith(verdict.baseline + " ")
    other = "seasonal naive" if verdict.baseline == "moving average" else "moving average"
    assert not any(other in f"{m.label} {m.delta or ''}" for m in at.metric)
    nn = run.metrics.iloc[0]
    note = "MAPE not shown" if nn["near_zero_actuals"] else "MAPE is given: no actual is near zero"
    assert any(note in c.value for c in at.caption)
    # Results in tabs like the other scenarios, and the network judged against the best baseline.
    assert [t.label for t in at.tabs] == ["Data & training", "Forecast", "Backtest", "Inventory", "Explanations",
                                          "Export"]
    assert any("Model trained" in s.value for s in at.success)
    verdicts = [b.value for b in [*at.success, *at.info, *at.warning] if "(the best baseline)" in b.value]
    judged = "The recommended blend's " if run.blend else "The network's "  # the verdict judges the saved forecast
    assert len(verdicts) == 1 and verdicts[0].startswith(judged) and "95% interval" in verdicts[0]
    # Which forecast is saved and scored, chosen on the validation periods, said beside the verdict.
    said = [b.value for b in [*at.info, *at.warning] if b.value.startswith("**Recommended forecast")]
    assert run.recommended["checked"] and len(said) == 1
    named = run.recommended["label"] if run.recommended["model"] == "ensemble" else "the Keras quantile network"
    assert named in said[0] and "chosen on the validation periods" in said[0]
    best = run.metrics.iloc[1:]["mae"].idxmin().lower()
    if "wmae" not in run.metrics:
        assert f"for {best} (the best baseline)" in verdicts[0]


def test_policy_recomputes_without_retraining(trained):
    at = trained
    run = at.session_state["demand.run"]
    before = at.metric[-1].value
    at.slider(key="demand.sl").set_value(0.99).run()
    assert not at.exception and at.session_state["demand.run"] is run
    after = at.metric[-1].value  # stock held rises with the service level
    assert before.endswith(" units") and after.endswith(" units")  # stock says what it counts
    assert float(after.removesuffix(" units").replace(",", "")) > float(before.removesuffix(" units").replace(",", ""))


def test_policy_defaults_in_days_with_units_and_the_stock_explained(trained):
    at = trained
    # The sample is daily with a 7-day horizon: 7 days of lead time + 7 of review are shortened to fit.
    assert at.number_input(key="demand.lead").label == "Lead time (days)"
    assert at.number_input(key="demand.review").label == "Review period (days)"
    assert any("Policy: lead time " in c.value and "shortened to 6 + 1" in c.value for c in at.caption)
    assert any(i.value.startswith(("The network's policy holds", "Both policies hold")) for i in at.info)


def test_policy_error_shown(trained):
    at = trained
    at.number_input(key="demand.lead").set_value(6)
    at.number_input(key="demand.review").set_value(5).run()
    assert not at.exception
    assert any("must fit in the forecast horizon (7)" in e.value for e in at.error)
    at.number_input(key="demand.lead").set_value(3)
    at.number_input(key="demand.review").set_value(2).run()
    assert not errors_besides_trust(at)


def test_events_and_shap_panels(trained):
    at = trained
    number(at, "Epochs").set_value(1)
    button(at, "Train event classifier").click().run()
    assert not at.exception and not errors_besides_trust(at)
    assert at.session_state["demand.events"] is not None
    ev_element = next(d for d in at.dataframe if "verdict" in getattr(d.value, "columns", []))
    ev_table = ev_element.value
    labels = {k: v.get("label") for k, v in json.loads(ev_element.proto.columns).items()}
    assert labels["roc_auc_low"] == "ROC-AUC low" and labels["prevalence"] == "Event share"
    assert labels["method"] == "Scores from" and labels["verdict"] == "Verdict"
    chance = ev_table["verdict"] == "no better than chance"
    assert chance.sum() == sum("no better than chance; its alerts" in w.value for w in at.warning)
    button(at, "Explain this forecast").click().run()
    assert not at.exception and not errors_besides_trust(at)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("drivers of P50" in c["layout"].get("title", {}).get("text", "") for c in charts)


def test_dependence_of_one_input_from_the_overall_importance(trained):
    at = trained
    assert any("Compute the overall importance above" in c.value for c in at.caption)
    assert not any(s.label == "Input" for s in at.selectbox)
    button(at, "Compute overall importance").click().run()
    assert not at.exception and not errors_besides_trust(at)
    picker = next(s for s in at.selectbox if s.label == "Input")
    shap = at.session_state["demand.shap_global"].result
    assert picker.options[0] == demand_label(shap.importance()["feature"].iloc[0])  # the most important input first
    assert "Periods ahead" not in picker.options  # the same for every window of an overall importance

    def dependence_chart():
        charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        return next(c for c in charts if c["layout"].get("title", {}).get("text", "").startswith("SHAP dependence:"))

    chart = dependence_chart()
    assert chart["layout"]["yaxis"]["title"]["text"] == SHAP_AXIS
    y = chart["data"][0]["y"]  # plotly sends long arrays as base64 doubles
    assert (len(base64.b64decode(y["bdata"])) // 8 if isinstance(y, dict) else len(y)) == len(shap.values)
    picker.set_value("day of week").run()
    assert not at.exception and not errors_besides_trust(at)
    chart = dependence_chart()
    assert chart["layout"]["title"]["text"] == "SHAP dependence: Day of the week"
    days = chart["layout"]["xaxis"]["ticktext"]
    week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert days == [d for d in week if d in days] and len(days) >= 2
    assert any(c.value.startswith(f"Each of the {len(shap.values):,} training windows") for c in at.caption)


def test_bad_quantity_column_shows_error_and_keeps_results(trained):
    at = trained
    at.selectbox(key="demand.target:sample").set_value("store").run()
    assert not at.exception
    assert any("Quantity column 'store' must be numeric" in e.value for e in at.error)
    assert at.session_state["demand.run"] is not None  # the trained model is not lost


def test_upload_choice_without_a_file_asks_for_one():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="demand.source").set_value("Upload my file").run()
    assert not at.exception and not errors_besides_trust(at)
    assert "Upload a file to forecast your own sales" in at.info[0].value


def _upload(df):
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="demand.source").set_value("Upload my file").run()
    at.file_uploader(key="demand.upload").set_value(("sales.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_upload_shows_the_guessed_roles_and_why():
    from tests.demand.walmart_like import make_walmart_like

    at = _upload(make_walmart_like(stores=2, depts=3, weeks=60))
    assert not errors_besides_trust(at)
    roles = at.dataframe[0].value.set_index("column")
    assert roles.loc["Weekly_Sales", "role"] == "quantity" and "'sales'" in roles.loc["Weekly_Sales", "why"]
    assert roles.loc["Store", "role"] == "series" and roles.loc["Dept", "role"] == "series"
    assert roles.loc["IsHoliday", "role"] == "covariate"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Frequency"] == "weekly" and metrics["Series"] == "6"


def test_upload_without_a_quantity_name_asks_to_pick_it():
    from tests.demand.walmart_like import make_walmart_like

    at = _upload(make_walmart_like(stores=2, depts=3, weeks=60).rename(columns={"Weekly_Sales": "Amount"}))
    assert any("Could not tell which column holds the quantity" in w.value and "['Amount']" in w.value
               for w in at.warning)
    quantity = next(s for s in at.selectbox if s.label == "Quantity column")
    assert quantity.value is None
    assert not at.metric and any("Pick the date and quantity columns" in i.value for i in at.info)
    assert not any(b.label == "Train forecast model" for b in at.button)
    quantity.set_value("Amount").run()
    assert not at.exception and not any("Could not tell" in w.value for w in at.warning)
    assert {m.label: m.value for m in at.metric}["Series"] == "6"


def test_a_tab_that_fails_to_draw_is_a_message_and_the_save_click_still_saves(trained, tmp_path, monkeypatch):
    from tests.conftest import a_failing_tab_keeps_the_save

    a_failing_tab_keeps_the_save(trained, "demand", "ui.demand.results.forecast_tab", "Forecast",
                                 monkeypatch, tmp_path)

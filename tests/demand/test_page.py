"""The demand page headless (AppTest), trained once for the module: it shows results, recomputes the policy
instantly, trains the event classifier, explains a forecast, and shows st.error for bad input. Its training
runs as a job (inline here, a worker process in the app): every tab works with the network as a
``DetachedModel`` on ONNX Runtime, the steps that need Keras itself (the event classifier, SHAP) run as jobs of
their own, and a data error raised in a job is shown as it is."""

import base64
import json
from dataclasses import dataclass

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

from core.demand.forecast import DemandConfig
from core.demand.labels import SHAP_AXIS, demand_label

from tests.demand.page_steps import PAGE, button, number, train_small


@pytest.fixture
def keras_in_jobs(monkeypatch):
    """Keras loads of ``DetachedModel`` inside jobs (the worker process in the app) counted apart from
    the page's own: the list gets each job's loads, and the class counter keeps only the page's."""
    from core.jobs import manager
    from core.jobs.store import DetachedModel

    loads, real = [], manager.run_job

    def counted(folder):
        before = DetachedModel.keras_loads
        try:
            return real(folder)
        finally:
            loads.append(DetachedModel.keras_loads - before)
            DetachedModel.keras_loads = before

    monkeypatch.setattr(manager, "run_job", counted)
    return loads


@dataclass(frozen=True)
class TwoNetworks(DemandConfig):
    """The page's settings with two networks averaged (a class of the module: the job's input is pickled)."""

    members: int = 2


@pytest.fixture(scope="module")
def trained():
    """The page trained small once for the module: the tests below read it in turn (the job tests go through
    every tab on it, then start event classifier trainings that fail on the same page). Its model averages two
    networks instead of the default three: still the averaged model the page detaches, explains and saves, for
    two thirds of the training and of every SHAP computation on it."""
    import ui.demand.train

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ui.demand.train, "DemandConfig", TwoNetworks)
        at = train_small()
    assert at.session_state["demand.run"].config.members == 2
    return at


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


def test_every_tab_works_without_loading_keras_in_the_server(trained, keras_in_jobs, monkeypatch, tmp_path):
    from core.jobs.manager import get_job_manager
    from core.jobs.store import DetachedModel

    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    at = trained
    assert not errors_besides_trust(at)
    run = at.session_state["demand.run"]
    assert isinstance(run.model, DetachedModel) and run.model.onnx_bytes is not None  # predicts on ONNX Runtime
    job = get_job_manager().get(at.session_state["demand.run_job"])
    assert job.state == "done" and job.scenario == "demand" and job.meta["data_name"] == "demand_sales.csv"
    assert any("Model trained" in s.value for s in at.success)
    # The tests above used the page's tabs too: none of them loaded its network into Keras, so a load here counts.
    assert run.model._keras is None
    page_loads = DetachedModel.keras_loads
    jobs_before = len(keras_in_jobs)

    # Forecast, Backtest, Inventory: another series, another metric, another service level.
    at.selectbox(key="demand.series_pick").set_value(run.series_ids[-1]).run()
    at.radio(key="demand.metric").set_value("mase").run()
    at.slider(key="demand.sl").set_value(0.9).run()
    assert not at.exception and not errors_besides_trust(at)
    assert {s.value for s in at.subheader} >= {"Forecast", "Backtest: network vs baselines", "Inventory policy"}
    # Explanations: the event classifier, overall importance and one forecast explained, each a job.
    number(at, "Epochs").set_value(1)
    button(at, "Train event classifier").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert at.session_state["demand.events"] is not None
    at.slider(key="demand.ev_thr").set_value(0.3).run()
    button(at, "Compute overall importance").click().run()
    button(at, "Explain this forecast").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    g, (sid, _, local) = at.session_state["demand.shap_global"], at.session_state["demand.shap_local"]
    assert g.result.values.shape[0] > 0 and np.isfinite(g.result.values).all()
    assert sid == at.selectbox(key="demand.shap_sid").value and local.result.values.shape[0] == 1
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("drivers of P50" in t for t in titles)
    # Export: the model file is the training's own .keras bytes; the run saves to the workspace.
    button(at, "Prepare model file").click().run()
    assert at.session_state["demand.model_bytes"] == run.model.keras_bytes
    button(at, "Save to workspace").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert any(s.value.startswith("Saved as run") for s in at.success)
    assert (next((tmp_path / "runs").iterdir()) / "model.keras").read_bytes() == run.model.keras_bytes

    assert at.session_state["demand.run"] is run  # nothing retrained
    assert DetachedModel.keras_loads == page_loads  # the server never loaded Keras for the network
    # The three Explanations jobs did, in their worker: the counter sees a load when there is one.
    assert len(keras_in_jobs) == jobs_before + 3 and all(n == 1 for n in keras_in_jobs[jobs_before:])


def test_event_level_errors_before_submitting_and_from_the_job_are_shown_and_the_model_kept(trained):
    from core.demand.events import EventConfig, compute_levels
    from core.errors import DataValidationError
    from core.jobs.manager import get_job_manager
    from ui.jobs import BROWSER_KEY

    at = trained
    run = at.session_state["demand.run"]

    def latest_id():
        return getattr(get_job_manager().latest(at.session_state[BROWSER_KEY], "demand.events"), "id", None)

    # The classifier the first test trained (None when this test runs alone) stays through failed trainings.
    events, earlier = at.session_state.get("demand.events"), latest_id()
    # A level of 0 is refused on the page before any job starts.
    with pytest.raises(DataValidationError, match="The event level must be a positive number; got 0.0"):
        compute_levels(run, EventConfig("relative", 0.0))
    number(at, "Level").set_value(0.0)
    number(at, "Epochs").set_value(1)
    button(at, "Train event classifier").click().run()
    assert any("The event level must be a positive number" in e.value for e in at.error)
    assert latest_id() == earlier  # no job started
    # A level no period reaches is found by the job (it builds the windows): its message comes back as it is.
    number(at, "Level").set_value(1e6)
    button(at, "Train event classifier").click().run()
    assert not at.exception
    job = get_job_manager().latest(at.session_state[BROWSER_KEY], "demand.events")
    assert job.id != earlier and job.state == "failed" and job.error["kind"] == "data"
    assert any("No demand events in the training periods at this level" in e.value for e in at.error)
    assert at.session_state.get("demand.events") is events and at.session_state["demand.run"] is run


def test_an_explained_date_outside_the_forecast_is_refused_with_the_range(small_run):
    from core.demand.explain import local_step
    from core.errors import DataValidationError

    sid = small_run.series_ids[0]
    last = small_run.future.loc[small_run.future["series"] == sid, "date"].max()
    with pytest.raises(DataValidationError, match=r"is not in the forecast for .*expected a date between"):
        local_step(small_run, sid, last + np.timedelta64(30, "D"))
    with pytest.raises(DataValidationError, match="was not forecast; pick one of the listed series"):
        local_step(small_run, "nowhere", last)
    assert local_step(small_run, sid, last) == small_run.wcfg.horizon


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

"""The demand page with its training as a job (inline here, a worker process in the app): every tab works
with the network as a ``DetachedModel`` on ONNX Runtime, the steps that need Keras itself (the event
classifier, SHAP) run as jobs of their own, and a data error raised in a job is shown as it is."""


import numpy as np
import pytest

from tests.conftest import errors_besides_trust

from tests.demand.page_steps import button, number, train_small


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


@pytest.fixture(scope="module")
def trained():
    """The page trained small once for the module: the first test goes through every tab on it, the second
    starts event classifier trainings that fail on the same page."""
    return train_small()


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
    g, (sid, date, local) = at.session_state["demand.shap_global"], at.session_state["demand.shap_local"]
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

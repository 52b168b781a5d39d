"""AppTest of the fraud page's training as a job (inline, through the same result files as a worker):
the network comes back detached from TensorFlow, and every tab — performance, the imbalance comparison
(its own job), the alert policy, the queue, one transaction's explanation, scoring a new file, saving
the run — works without loading it into Keras. A failure in the job shows its message; a comparison
with no strategy is refused before it is submitted."""

import numpy as np
import pandas as pd
import pytest

from core.jobs.store import DetachedModel
from tests.conftest import errors_besides_trust
from tests.fraud.page_steps import open_with_upload


def _log(n=2400, days=40, seed=0):
    rng = np.random.default_rng(seed)
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, days * 86400, n)), unit="s")
    amount = rng.uniform(1, 100, n).round(2)
    fraud = (rng.random(n) < 0.04).astype(int)
    amount[fraud == 1] *= 3  # frauds are larger: something to learn
    return pd.DataFrame({"timestamp": t.astype(str), "card_id": rng.integers(0, 60, n),
                         "shop": rng.integers(0, 30, n), "amount": amount, "is_fraud": fraud})


def _button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


@pytest.fixture(scope="module")
def trained():
    at = open_with_upload(_log())
    at.number_input(key="fraud.epochs").set_value(2)
    at.number_input(key="fraud.n_explain").set_value(20)
    _button(at, "Train model").click().run()
    assert not at.exception, at.exception
    assert not errors_besides_trust(at), errors_besides_trust(at)
    return at


def test_training_job_result_is_detached_and_every_tab_works_without_keras(trained, tmp_path, monkeypatch):
    at = trained
    run = at.session_state["fraud.run"]
    assert isinstance(run.tabular.model, DetachedModel) and run.tabular.model.onnx is not None
    assert str(at.session_state["fraud.run_job"]).startswith("fraud-")
    assert any("Model trained" in s.value for s in at.success)
    ex = at.session_state["fraud.explain"]
    assert len(ex.alert_positions) == 20 and len(ex.reasons) == 20
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

    new = _log(n=200, days=3, seed=1)
    new["timestamp"] = (pd.Timestamp("2024-02-10") + pd.to_timedelta(np.arange(200) * 600, unit="s")).astype(str)
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

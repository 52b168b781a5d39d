"""Outcomes coming back: matched by id, unmatched reported, repeats keep the latest, every refusal
says what to fix; and the hooks the HTTP service's routes call."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.monitor import store
from core.monitor.feedback import read_outcomes_file, record_feedback
from core.monitor.hooks import SERVED_LOG, feedback_response
from core.monitor.report import compute_monitor
from core.monitor.spec import read_binary_labels
from tests.monitor.helpers import applications, log_batch, make_run, scored_frame


@pytest.fixture
def run(tmp_path):
    run = make_run(tmp_path / "runs")
    log_batch(run, applications(60, seed=1))
    return run


def test_matched_and_unmatched_ids_are_counted_with_examples_and_nothing_is_dropped(run):
    ids = store.read_table(run, "predictions")["row_id"].tolist()
    outcomes = [{"id": i, "label": 1} for i in ids[:50]] + [{"id": f"nope-{k}", "label": 0} for k in range(7)]
    result = record_feedback(run, {"outcomes": outcomes})
    assert (result.received, result.matched, result.unmatched) == (57, 50, 7)
    assert result.unmatched_examples == [f"nope-{k}" for k in range(5)]
    assert any("7 id(s) match no logged prediction" in n and "nope-0" in n for n in result.notices)
    labels = store.read_table(run, "labels")
    assert len(labels) == 57  # the unmatched labels are kept: they match once their prediction is logged
    log_batch(run, applications(3, seed=2).assign(applicant_id=["nope-0", "nope-1", "nope-2"]))
    report = compute_monitor(run, by="week")
    assert report.periods[-1].realized["labelled_rows"] == 53


def test_a_label_given_twice_keeps_the_latest_with_a_notice(run):
    frame = store.read_table(run, "predictions")
    first = frame["row_id"].iloc[0]
    r1 = record_feedback(run, [{"id": first, "label": 0}, {"id": first, "label": 1}])
    assert r1.repeated == 1 and any("more than once in this upload; the last label" in n for n in r1.notices)
    r2 = record_feedback(run, [{"id": first, "label": 0}], now=store.utc_now() + pd.Timedelta(seconds=5))
    assert r2.replaced == 1 and any("already had a label; the new label replaces" in n for n in r2.notices)
    report = compute_monitor(run)
    assert report.periods[-1].realized["labelled_rows"] == 1
    assert report.periods[-1].realized["default_rate"] == 0.0  # the latest label (0) counts


def test_labels_are_read_in_the_usual_spellings():
    assert read_binary_labels(pd.Series(["1", "0", "yes", "No", True, False, 1.0])).tolist() == [1, 0, 1, 0, 1, 0, 1]
    assert read_binary_labels(pd.Series(["bad", "good", "bad"]), positive="bad", negative="good").tolist() == [1, 0, 1]


def test_a_label_that_is_not_an_outcome_is_refused_with_examples(run):
    ids = store.read_table(run, "predictions")["row_id"].tolist()
    with pytest.raises(DataValidationError, match=r"whether the row was a default: 1 / 0.*got 2 other value\(s\) such as "
                                                  r"'maybe', 'later'. Fix: write the outcome as 1"):
        record_feedback(run, [{"id": ids[0], "label": "maybe"}, {"id": ids[1], "label": "later"}])
    assert len(store.read_table(run, "labels")) == 0  # nothing half-recorded


@pytest.mark.parametrize("body, message", [
    ([], r"Expected at least one outcome; got none"),
    ([{"id": "a"}], r'Expected every outcome to hold "id" and "label"; got 1 that do not'),
    ("A1,1", r"Expected outcomes as a list of"),
    ([{"id": None, "label": 1}], r"Expected an id on every outcome; got 1 empty"),
    ([{"id": "a", "label": None}], r"Expected a label on every outcome; got 1 empty"),
])
def test_malformed_outcomes_are_refused(run, body, message):
    with pytest.raises(DataValidationError, match=message):
        record_feedback(run, body)


def test_an_outcomes_file_is_read_by_the_runs_id_and_target_columns(run):
    new = applications(60, seed=1)  # the same rows as logged, with their outcome
    outcomes = read_outcomes_file(run, new)
    assert list(outcomes.columns) == ["id", "label"] and len(outcomes) == 60
    assert outcomes["id"].tolist() == new["applicant_id"].tolist()
    result = record_feedback(run, outcomes)
    assert result.matched == 60 and result.unmatched == 0
    with pytest.raises(DataValidationError, match=r"Expected a label column in the outcomes file \(default, label, "
                                                  r"outcome\); got columns .*--label-column"):
        read_outcomes_file(run, new.drop(columns="default"))
    with pytest.raises(DataValidationError, match=r"Expected the id column 'ref' in the outcomes file.*--id-column"):
        read_outcomes_file(run, new, id_column="ref")
    with pytest.raises(DataValidationError, match=r"Expected a column of row ids in the outcomes file; got none"):
        read_outcomes_file(run, new.drop(columns="applicant_id"))


def test_ids_read_the_same_however_the_file_stored_them(tmp_path):
    run = make_run(tmp_path / "runs")
    df = applications(5, seed=3)
    df["applicant_id"] = [10000001 + i for i in range(5)]  # numbers when scored
    log_batch(run, df)
    labels = pd.DataFrame({"applicant_id": [str(10000001 + i) + ".0" for i in range(5)], "default": [0, 1, 0, 0, 1]})
    labels["applicant_id"] = labels["applicant_id"].astype(float)  # floats when the labels came back
    result = record_feedback(run, read_outcomes_file(run, labels))
    assert result.matched == 5


def test_the_feedback_route_answers_with_counts_or_a_400_that_says_why(run):
    ids = store.read_table(run, "predictions")["row_id"].tolist()
    status, body = feedback_response(run, json.dumps({"outcomes": [{"id": ids[0], "label": 1},
                                                                   {"id": "ghost", "label": 0}]}).encode())
    assert status == 200 and body["matched"] == 1 and body["unmatched"] == 1 and body["unmatched_examples"] == ["ghost"]
    status, body = feedback_response(run, b"{not json")
    assert status == 400 and "is not JSON" in body["error"]["message"]
    status, body = feedback_response(run, {"labels": []})
    assert status == 400 and 'with "outcomes"' in body["error"]["message"]


def test_the_predict_route_logs_answers_and_returns_their_ids(tmp_path):
    run = make_run(tmp_path / "runs")
    request = applications(4, seed=5, ids=False).drop(columns="default")
    answer = scored_frame(request)[["probability_of_default", "decision"]]  # the service answers predictions only
    out = SERVED_LOG.record(run, request, answer)
    assert "prediction_id" in out.columns and out["prediction_id"].is_unique
    log = store.read_table(run, "predictions")
    assert (log["source"] == "api").all() and set(log["row_id"]) == set(out["prediction_id"])
    assert log["in.x1"].round(4).tolist() == request["x1"].tolist()  # inputs taken from the request
    status, body = feedback_response(run, {"outcomes": [{"id": i, "label": 0} for i in out["prediction_id"]]})
    assert status == 200 and body["matched"] == 4


def test_a_run_without_monitoring_is_refused(tmp_path):
    from core.store.registry import save_run

    other = save_run(tmp_path / "runs", model=None, metadata={"scenario": "nobody"}, run_id="x")
    with pytest.raises(DataValidationError, match=r"Expected a run whose predictions are monitored; got run 'x'"):
        record_feedback(other, [{"id": "a", "label": 1}])


def test_quality_and_demand_read_their_own_outcomes():
    from core.demand.monitoring import MONITOR as demand
    from core.quality.monitoring import MONITOR as quality

    meta = {"ok_class": "ok", "class_names": ["crack", "ok", "pit"]}
    assert quality.read_labels(meta, ["crack", "ok", "PIT", "defect", "good", 1, 0]).tolist() == [1, 0, 1, 1, 0, 1, 0]
    with pytest.raises(DataValidationError, match=r"whether the row was defective.*'dent'"):
        quality.read_labels(meta, ["dent"])
    dmeta = {"column_map": {"date": "date", "target": "units", "series": ["store", "product"], "covariates": []}}
    sales = pd.DataFrame({"date": ["2024-06-03", "2024-06-04"], "store": ["S1", "S1"], "product": ["P1", "P2"],
                          "units": [4, 7]})
    assert demand.ids_from_file(dmeta, sales, None).tolist() == ["S1 / P1|2024-06-03", "S1 / P2|2024-06-04"]
    assert demand.read_labels(dmeta, sales["units"]).tolist() == [4.0, 7.0]
    with pytest.raises(DataValidationError, match=r"Expected the units sold as numbers; got 1 other value"):
        demand.read_labels(dmeta, ["a lot"])
    with pytest.raises(DataValidationError, match=r"Expected the sales file to name each row's series and date"):
        demand.ids_from_file(dmeta, sales.drop(columns="store"), None)
    frame = pd.DataFrame({"label": [10.0, 0.0, 5.0], "score": [8.0, 1.0, 5.0], "out.p10": [6.0, 0.0, 4.0],
                          "out.p90": [12.0, 2.0, 4.5]})
    m = demand.realized(dmeta, frame)
    assert m["mae"] == pytest.approx(1.0) and m["wape"] == pytest.approx(100 * 3 / 15)
    assert m["coverage_p10_p90"] == pytest.approx(100 * 2 / 3)
    q = pd.DataFrame({"label": [1.0, 1.0, 0.0, 0.0], "score": [0.9, 0.2, 0.7, 0.1],
                      "decision": ["reject", "pass", "reject", "pass"]})
    r = quality.realized(meta, q)
    assert r["escape_rate"] == 0.5 and r["false_reject_rate"] == 0.5 and r["defect_rate"] == 0.5
    assert quality.unsupported({"ok_class": None}) and not quality.unsupported(meta)
    assert np.isclose(quality.estimated(meta, q, q["score"].to_numpy())["escape_rate"], (0.2 + 0.1) / 1.9)

"""The monitor's figures against the same figures computed directly from the rows, its alerts and
its JSON, on runs whose "model" is a known function (no TensorFlow)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.data.drift import DriftAccumulator, build_profile, compare_to_profile
from core.errors import DataValidationError
from core.monitor.charts import plot_monitor_decisions, plot_monitor_metric, plot_monitor_psi, plot_monitor_volume
from core.monitor.feedback import read_outcomes_file, record_feedback
from core.monitor.reference import read_reference
from core.monitor.report import compute_monitor
from tests.monitor.helpers import THRESHOLD, applications, log_batch, make_run, score


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "runs")


def _feed(run, df):
    return record_feedback(run, read_outcomes_file(run, df))


def test_figures_per_week_equal_the_same_figures_computed_from_the_rows(run):
    batch = applications(1200, seed=11, start="2024-05-06", days=14)  # two weeks of applications
    log_batch(run, batch)
    _feed(run, batch.iloc[:900])  # outcomes known for three quarters of them so far
    report = compute_monitor(run, by="week")
    assert [p.start.date().isoformat() for p in report.periods] == ["2024-05-06", "2024-05-13"]
    meta = json.loads((run / "metadata.json").read_text())
    ref_scores = read_reference(run)["score"].to_numpy()
    week = pd.to_datetime(batch["application_date"]).dt.to_period("W-SUN").dt.start_time
    labelled = batch.index < 900
    for period in report.periods:
        rows = (week == period.start).to_numpy()
        part, p = batch[rows], score(batch[rows])
        assert period.rows == rows.sum()
        drift = compare_to_profile(meta["workspace"]["profile"], part).set_index("variable")["psi"]
        for col in ("x1", "x2", "region"):
            assert period.psi[col] == pytest.approx(drift[col], abs=1e-12)
        acc = DriftAccumulator(build_profile(pd.DataFrame({"score": ref_scores}), numeric=["score"]))
        acc.update(pd.DataFrame({"score": p}))
        assert period.psi["score"] == pytest.approx(float(acc.result()["psi"].iloc[0]), abs=1e-9)
        lab = rows & labelled
        y, pl = batch.loc[lab, "default"].to_numpy(), score(batch[lab])
        assert period.realized["labelled_rows"] == lab.sum()
        assert period.realized["roc_auc"] == pytest.approx(roc_auc_score(y, pl), abs=1e-12)
        approved = pl < THRESHOLD
        assert period.realized["bad_rate_approved"] == pytest.approx(y[approved].mean())
        assert period.decisions["decline"] == pytest.approx((p >= THRESHOLD).mean())
        assert period.estimated["default_rate"] == pytest.approx(p.mean())  # calibrated scores are used as they are
    assert report.calibration.method == "none" and not report.alerts


def test_drift_decisions_and_a_worse_model_raise_alerts_with_reasons(run):
    shifted = applications(800, seed=12, shift=1.5, start="2024-06-03", days=7)  # x1 moved: more risk
    log_batch(run, shifted)
    flipped = shifted.assign(default=np.random.default_rng(0).integers(0, 2, len(shifted)))  # outcomes unrelated
    _feed(run, flipped)
    report = compute_monitor(run, by="week")
    kinds = {(a.kind, a.subject) for _, a in report.alerts}
    assert {("drift", "score"), ("drift", "x1"), ("performance", "roc_auc")} <= kinds
    assert sum(a.kind == "decisions" for _, a in report.alerts) == 1  # one alert for the mix, naming each move
    reasons = " ".join(a.reason for _, a in report.alerts)
    from core.present.glossary import feature_label

    assert f"Input '{feature_label('x1')}' shifted: PSI" in reasons
    assert "below the test figure's 95% interval" in reasons
    last, ref = report.periods[-1], report.reference_mix
    assert "The decision mix moved against the test rows:" in reasons
    assert f"'decline' from {ref['decline']:.0%} to {last.decisions['decline']:.0%}" in reasons
    assert ("drift", "x2") not in kinds  # an input that did not move raises nothing


def test_an_estimated_drop_is_an_alert_before_any_label(run):
    # Applicants all alike in the inputs the model uses: the ranking has little to work with.
    same = applications(600, seed=13, start="2024-06-10", days=7)
    same["x1"], same["x2"] = 0.0 + np.random.default_rng(1).normal(0, 0.05, len(same)), 0.0
    log_batch(run, same)
    report = compute_monitor(run, by="week")
    period = report.periods[-1]
    assert period.realized == {"labelled_rows": 0}
    assert period.estimated["roc_auc"] < report.test["roc_auc"] - 0.05
    assert any(a.kind == "estimate" and "before any label" in a.reason for a in period.alerts)


def test_the_json_has_the_documented_shape(run):
    batch = applications(300, seed=14, start="2024-05-06", days=3)
    log_batch(run, batch)
    _feed(run, batch)
    data = json.loads(json.dumps(compute_monitor(run, by="day").to_dict()))
    assert {"periods", "reference", "calibration", "notices"} <= set(data)
    first = data["periods"][0]
    assert set(first) >= {"start", "end", "rows", "psi", "realized", "estimated", "alerts"}
    assert first["start"] == first["end"] == "2024-05-06"
    assert set(first["psi"]) == {"x1", "x2", "region", "score"}
    assert set(first["realized"]) == {"labelled_rows", "roc_auc", "bad_rate_approved", "default_rate"}
    assert set(first["estimated"]) == {"roc_auc", "bad_rate_approved", "default_rate"}
    assert sum(p["rows"] for p in data["periods"]) == 300


def test_month_periods_and_the_table_a_person_downloads(run):
    log_batch(run, applications(200, seed=15, start="2024-05-20", days=20))
    report = compute_monitor(run, by="month")
    assert [p.start.date().isoformat() for p in report.periods] == ["2024-05-01", "2024-06-01"]
    assert report.periods[0].end.date().isoformat() == "2024-05-31"
    table = report.table()
    assert list(table["Rows scored"]) == [p.rows for p in report.periods]
    assert {"PSI of the score", "Share approve", "Estimated ROC-AUC", "Alerts"} <= set(table.columns)
    for fig in (plot_monitor_volume(report), plot_monitor_psi(report), plot_monitor_decisions(report)):
        assert len(fig.data) >= 2
    perf = plot_monitor_metric(report, "roc_auc")
    assert [t.name for t in perf.data] == ["Estimated ROC-AUC (before labels)"]  # no outcome yet: no realized line
    # Its legend still names the line, and each end keeps half a period of room for the test line's label.
    assert perf.layout.showlegend is True and list(perf.layout.xaxis.range) == [-0.5, len(report.periods) - 0.5]


def test_rows_without_an_event_time_fall_in_the_period_they_were_scored(run):
    log_batch(run, applications(50, seed=16))
    report = compute_monitor(run, by="day")
    assert len(report.periods) == 1 and report.periods[0].rows == 50
    assert report.periods[0].start.date() == pd.Timestamp.now(tz="UTC").date()


def test_a_run_saved_without_its_test_rows_is_monitored_with_a_notice(tmp_path):
    run = make_run(tmp_path / "runs", reference=False)
    log_batch(run, applications(100, seed=17))
    report = compute_monitor(run)
    assert "score" not in report.periods[0].psi and report.calibration.method == "unchecked"
    assert any("saved without its test rows" in n for n in report.notices)
    assert "x1" in report.periods[0].psi  # inputs still compared with the training profile


def test_an_empty_log_says_what_to_do(run):
    report = compute_monitor(run)
    assert report.periods == [] and any("No predictions logged yet" in n for n in report.notices)


def test_an_unknown_period_is_refused(run):
    with pytest.raises(DataValidationError, match=r"period as one of day, week, month; got 'year'. Fix: e.g. --by week"):
        compute_monitor(run, by="year")


def test_a_period_within_its_own_noise_raises_no_performance_alert():
    from core.credit.monitoring import MONITOR
    from core.monitor.alerts import period_alerts
    from core.monitor.report import Period

    start = pd.Timestamp("2024-05-06")
    noisy = Period(start, start, 500, realized={"labelled_rows": 500, "roc_auc": 0.81}, interval=(0.77, 0.85))
    worse = Period(start, start, 500, realized={"labelled_rows": 500, "roc_auc": 0.71}, interval=(0.67, 0.75))
    few = Period(start, start, 20, realized={"labelled_rows": 20, "roc_auc": 0.5}, interval=(0.3, 0.7))
    kw = dict(spec=MONITOR, test={"roc_auc": 0.837}, interval=(0.817, 0.857), important=[], reference_mix=None,
              labels={})
    assert period_alerts(noisy, **kw) == []  # below the test interval by chance: its own interval holds 0.837
    assert [a.kind for a in period_alerts(worse, **kw)] == ["performance"]
    assert period_alerts(few, **kw) == []  # too few outcomes to judge


def test_a_period_of_few_rows_raises_no_population_alert_and_says_why(tmp_path):
    """Drift, estimate and decision-mix alerts need 200 rows: the same shifted population alerts at 400
    rows and not at 40, where the page says why instead."""
    run = make_run(tmp_path / "runs")
    log_batch(run, applications(40, seed=21, shift=1.5, start="2024-06-03", days=7))
    log_batch(run, applications(400, seed=22, shift=1.5, start="2024-06-10", days=7))
    report = compute_monitor(run, by="week")
    small, large = report.periods
    assert small.rows == 40 and small.psi["x1"] > 0.25 and small.alerts == []
    assert {"drift", "decisions"} <= {a.kind for a in large.alerts}
    assert any("1 period(s) have fewer than 200 rows" in n for n in report.notices)

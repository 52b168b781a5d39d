"""Fraud logs without wall-clock time, and logs shorter than the windows + label delay + a test week.

Generators (all seeded, a few thousand rows):

* ``creditcard_like``: the most common public fraud log's shape: ``Time`` in seconds since the
  first transaction over two days, 28 anonymised components ``V1``..``V28``, ``Amount`` and
  ``Class``; no customer or terminal id. Fraud depends on V1, V4 and V14 and is more frequent at
  night (hours 1-5 of each elapsed day), as in the published log.
* ``short_log``: ``days`` days of a card log with customer and terminal ids and wall-clock dates;
  twenty cards are compromised one after another, each for two days, at five times its amounts.
* ``stepped``: the short log's time replaced by whole steps (one per day) or by hours.
"""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from core.fraud.clock import ORIGIN, Clock, guess_time_unit
from core.fraud.columns import FraudColumns, make_columns, prepare_log
from core.fraud.features import FeatureConfig
from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, run_fraud
from core.fraud.split import fit_to_span, split_by_time

FAST = replace(FRAUD_TABULAR, epochs=2, baselines=("logistic_regression",))


def creditcard_like(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 172_800, n)).astype(float)
    X = rng.normal(size=(n, 28))
    night = ((t % 86_400) / 3_600 >= 1) & ((t % 86_400) / 3_600 < 5)
    logit = -5.5 + 1.2 * X[:, 0] - 1.4 * X[:, 3] - 1.6 * X[:, 13] + 1.5 * night
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame({"Time": t, **{f"V{i + 1}": X[:, i].round(6) for i in range(28)}})
    df["Amount"] = np.round(rng.exponential(60, n) * (1 + 3 * y), 2)
    df["Class"] = y
    return df


def short_log(days: int = 10, n: int = 3000, seed: int = 1, start: str = "2024-05-06") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    secs = np.sort(rng.integers(0, days * 86_400, n))
    card = rng.integers(0, 80, n)
    amount = rng.gamma(2, 20, n)
    # Twenty cards compromised one after another across the span, each for two days.
    start_of = {c: i * days / 20 for i, c in enumerate(rng.choice(80, 20, replace=False))}
    since = np.array([start_of.get(c, np.inf) for c in card]) * 86_400
    fraud = (secs >= since) & (secs < since + 2 * 86_400) & (rng.random(n) < 0.6)
    amount = np.where(fraud, amount * 5, amount)
    return pd.DataFrame({"timestamp": (pd.Timestamp(start) + pd.to_timedelta(secs, unit="s")).astype(str),
                         "card_id": card.astype(str), "terminal_id": rng.integers(0, 40, n).astype(str),
                         "amount": amount.round(2), "is_fraud": fraud.astype(int)})


def stepped(df: pd.DataFrame, unit: str) -> pd.DataFrame:
    t = pd.to_datetime(df["timestamp"])
    elapsed = (t - t.min().normalize()) / pd.Timedelta(days=1)
    value = {"steps": np.floor(elapsed) + 1, "hours": elapsed * 24}[unit]
    return df.drop(columns="timestamp").assign(step=value.to_numpy())


# ---------------------------------------------------------------- the unit: guessed, named, chosen
def test_unit_guess_says_which_unit_and_why():
    cc = creditcard_like()
    unit, why = guess_time_unit(cc["Time"], "Time")
    assert unit == "seconds" and "smallest unit in which the log covers at least a day" in why
    assert "2.0 days" in why and "as minutes it would be 120.0 days" in why
    log = short_log()
    assert guess_time_unit(stepped(log, "steps")["step"], "step")[0] == "steps"  # by the name
    assert guess_time_unit(stepped(log, "steps")["step"], "period")[0] == "steps"  # shared whole values
    assert guess_time_unit(stepped(log, "hours")["step"], "t")[0] == "hours"  # 240 units: a day only as hours
    assert guess_time_unit(pd.Series([0, 3, 9]), "TX_TIME_DAYS")[0] == "days"
    assert guess_time_unit(pd.Series([0, 9e5]), "elapsed_seconds")[0] == "seconds"


def test_make_columns_reads_numbers_as_elapsed_time_with_a_notice_and_takes_an_override():
    cc = creditcard_like()
    cols = make_columns(cc)
    assert (cols.time, cols.amount, cols.target, cols.customer, cols.terminal) == ("Time", "Amount", "Class", None, None)
    assert cols.time_unit == "seconds" and "holds numbers from" in cols.time_notice
    assert "Set the time unit" in cols.time_notice and "there are no weekdays" in cols.time_notice
    chosen = make_columns(cc, time_unit="minutes")
    assert chosen.time_unit == "minutes" and "(as chosen)" in chosen.time_notice
    log = prepare_log(cc, cols)
    assert log["Time"].min() >= ORIGIN and log["Time"].max() < ORIGIN + pd.Timedelta(days=2)
    assert (log["Time"] - ORIGIN).dt.total_seconds().tolist() == sorted(cc["Time"].tolist())
    dates = make_columns(short_log())
    assert dates.time_unit is None and dates.time_notice is None  # dates stay dates


@pytest.mark.parametrize("call, match", [
    (lambda: make_columns(creditcard_like(), time_unit="weeks"), "Expected a time unit of auto, seconds"),
    (lambda: make_columns(short_log(), time_unit="seconds"), "Expected numbers in 'timestamp' for --time-unit"),
    (lambda: prepare_log(creditcard_like(), FraudColumns("Time", "Amount", "Class")),
     "got numbers \\(.*\\), which read as dates would all fall on 1970-01-01. Fix: read them as elapsed time"),
    (lambda: prepare_log(creditcard_like().assign(Time=lambda d: d["Time"].where(d.index % 9 > 0)),
                         FraudColumns("Time", "Amount", "Class", time_unit="seconds")),
     "Expected a time in every row of 'Time' \\(seconds since the log's start\\)"),
    (lambda: prepare_log(creditcard_like().assign(Time=1e12), FraudColumns("Time", "Amount", "Class", time_unit="days")),
     "Expected elapsed times within 200 years"),
])
def test_elapsed_time_errors(call, match):
    with pytest.raises(DataValidationError, match=match):
        call()


def test_split_messages_speak_in_the_logs_unit_not_1970():
    cc = creditcard_like()
    cols = make_columns(cc)
    log = prepare_log(cc, cols)
    with pytest.raises(DataValidationError, match="from 999,999 seconds \\(day 12\\).*the data run from "
                                                  "[0-9,]+ seconds \\(day 1\\) to [0-9,]+ seconds \\(day 2\\)"):
        split_by_time(log, cols, train_start=0, test_start=999_999, gap_days=0)
    with pytest.raises(DataValidationError, match="Expected test-start as a number of seconds since the log's start"):
        split_by_time(log, cols, test_start="2024-01-01", gap_days=0)
    s = split_by_time(log, cols, train_start=0, test_start=86_400, gap_days=0, drop_known_cards=False)
    assert "before 86,400 seconds (day 2)" in s.summary()["train"] and s.summary()["test"].startswith("86,400 seconds")
    assert Clock("steps").point(ORIGIN + pd.Timedelta(days=16)) == "step 16"


# ---------------------------------------------------------------- short logs: fitted, with a notice
def test_a_log_shorter_than_windows_delay_and_test_shrinks_to_fit():
    log = short_log(days=20)
    cols = make_columns(log)
    times = prepare_log(log, cols)["timestamp"]
    cfg, notice = fit_to_span(times, FraudConfig(), cols.clock)
    assert cfg.features.windows == (1, 3, 14) and cfg.gap_days == 7 and cfg.features.delay_days == 7
    assert notice.startswith("The log spans 20.0 days, less than the 30-day history windows + 7-day label delay + "
                             "a 7-day test period (44 days)")
    assert "shrink to 1/3/14 days" in notice and "gap and label delay are kept" in notice
    tight, notice = fit_to_span(prepare_log(short_log(days=8), cols)["timestamp"], FraudConfig(), cols.clock)
    assert tight.gap_days == tight.features.delay_days == 4 and "may flatter the model" in notice
    # Dates chosen by the analyst, or a log long enough: nothing changes.
    assert fit_to_span(times, FraudConfig(test_start="2024-05-20"), cols.clock) == (FraudConfig(test_start="2024-05-20"), None)
    long = prepare_log(short_log(days=50), cols)["timestamp"]
    assert fit_to_span(long, FraudConfig(), cols.clock)[1] is None


def test_short_log_trains_with_its_fitted_windows_and_says_so():
    run = run_fraud(short_log(days=20, n=4000), make_columns(short_log(days=20)), config=FraudConfig(tabular=FAST))
    assert run.config.features.windows == (1, 3, 14)
    assert "cust_nb_tx_14d" in run.features.names and "cust_nb_tx_30d" not in run.features.names
    assert any(n.startswith("The log spans 20.0 days") for n in run.notices)


def test_a_log_of_a_few_days_is_split_in_time_order_without_history_features():
    df = short_log(days=3, n=3000)
    cols = make_columns(df)
    run = run_fraud(df, cols, config=FraudConfig(tabular=FAST))
    assert run.config.features.history is False and run.config.gap_days == 0
    assert not [n for n in run.features.names if n.startswith(("cust_", "term_"))]
    notice = next(n for n in run.notices if n.startswith("The log spans"))
    assert "split in time order, the first three quarters of its span to train" in notice
    assert "no history features" in notice and "labels the team would not have yet" in notice
    span = pd.to_datetime(df["timestamp"])
    cut = span.min() + 0.75 * (span.max() - span.min())
    assert abs(run.split.test_start - cut) < pd.Timedelta(minutes=1)


# ---------------------------------------------------------------- the creditcard-style log end to end
def test_creditcard_style_log_trains_on_its_own_columns_and_says_so():
    cc = creditcard_like()
    run = run_fraud(cc, make_columns(cc), config=FraudConfig(tabular=FAST))
    names = run.features.names
    assert {f"V{i}" for i in range(1, 29)} <= set(names) and "tx_hour" in names
    assert "tx_during_weekend" not in names and "tx_during_night" not in names  # no weekday or clock time
    assert not [n for n in names if n.startswith(("cust_", "term_"))]
    text = " ".join(run.notices)
    assert "read as seconds since the log's start" in text
    assert "No customer / card or terminal / merchant column: the model trains on the log's own columns " \
           "(Amount, V1, V2, V3, V4, V5 and 23 more) and the time of day, with no history features" in text
    assert "too short for a 7-day label delay and a 7-day test period: it is split in time order" in text
    assert run.split.summary()["test"].startswith("129,600 seconds (day 2)")
    assert 0 <= run.metrics["network"]["roc_auc"] <= 1 and run.metrics["network"]["card_precision_at_100"] >= 0


def _cli(capsys, *argv) -> tuple[int, dict | None, str]:
    """``python -m core ...`` in this process (TensorFlow is loaded once): exit code, JSON, standard error."""
    from core.cli import main

    capsys.readouterr()
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if code == 0 and lines else None), out.err


def test_cli_elapsed_seconds_train_save_and_score_a_continuation(tmp_path, capsys):
    cc = creditcard_like(n=3000, seed=3)
    train, later = cc.iloc[:2500], cc.iloc[2500:].drop(columns="Class")
    data, new = tmp_path / "creditcard.csv", tmp_path / "later.csv"
    train.to_csv(data, index=False)
    later.to_csv(new, index=False)
    # The unit guessed and said; split points given as numbers of it.
    code, res, err = _cli(capsys, "train", "--scenario", "fraud", "--data", str(data), "--epochs", "1", "--no-explain",
                          "--train-start", "0", "--test-start", "100000", "--gap-days", "0",
                          "--save", str(tmp_path / "run"))
    assert code == 0, err[-2000:]
    assert "'Time' holds numbers from" in err and "read as seconds since the log's start" in err
    assert res["time_unit"] == "seconds" and res["split"]["test"].startswith("100,000 seconds (day 2)")
    assert any("No customer / card" in n for n in res["data"]["notices"])
    scored = tmp_path / "scored.csv"
    code, summary, err = _cli(capsys, "score", "--model", res["saved_to"], "--data", str(new), "--out", str(scored))
    assert code == 0, err[-2000:]
    got = pd.read_csv(scored)
    assert len(got) == len(later) and got["Time"].tolist() == later["Time"].tolist() and got["risk"].between(0, 1).all()
    # A date where the log counts seconds is refused with a message, never a traceback.
    code, _, err = _cli(capsys, "train", "--scenario", "fraud", "--data", str(data), "--time-unit", "seconds",
                        "--test-start", "2024-01-01")
    assert code == 1 and "Expected test-start as a number of seconds" in err and "Traceback" not in err


def test_stepped_log_counts_windows_in_steps():
    df = stepped(short_log(days=60, n=5000), "steps")
    cols = make_columns(df)
    assert cols.time == "step" and cols.time_unit == "steps"
    run = run_fraud(df, cols, config=FraudConfig(tabular=FAST, features=FeatureConfig()))
    assert "tx_hour" not in run.features.names  # a step has no time of day
    assert "in the last 7 steps" in run.features.descriptions["cust_nb_tx_7d"]
    assert run.split.summary()["test"].startswith("step ")


def test_the_samples_day_rule_speaks_in_the_logs_unit():
    from core.fraud.dayrule import choose_start

    days = pd.DataFrame({"rows": [100] * 60, "frauds": [1] * 60},
                        index=pd.date_range(ORIGIN, periods=60, freq="D"))
    with pytest.raises(DataValidationError, match="test period from step 47 .*reaches back to step 57 only"):
        choose_start(days, 1_100, pd.Timedelta(days=8), gap_days=7, test_start=ORIGIN + pd.Timedelta(days=47),
                     unit="steps")
    start, _ = choose_start(days, 3_000, pd.Timedelta(days=8), gap_days=7, unit="seconds")
    assert Clock("seconds").point(start).endswith("(day 39)")


def test_a_saved_elapsed_run_recognises_its_training_rows_in_a_scored_file(tmp_path):
    from core.serve.batch import score_with_run
    from core.fraud.persist import save_fraud_run
    from core.fraud.summary import build_fraud_summary

    cc = creditcard_like(n=3000, seed=6)
    run = run_fraud(cc, make_columns(cc), config=FraudConfig(tabular=replace(FAST, baselines=())))
    summary = build_fraud_summary(run, name="cc", review_threshold=0.5, review_fee=5.0, data=cc)
    path = save_fraud_run(run, tmp_path, extra_metadata=summary)
    # The log is in time order already, so the split's positions are the file's rows.
    rows = cc.iloc[run.split.train_idx[:40]].drop(columns="Class")
    result = score_with_run(path, rows, settings=None)
    assert result.training_overlap == 40 and len(result.scored) == 40
    later = cc.iloc[run.split.test_idx[:40]].drop(columns="Class")
    assert score_with_run(path, later, settings=None).training_overlap == 0

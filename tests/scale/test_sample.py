"""Fraud training on a log larger than memory: the documented time-aware sample (core/fraud/sample.py).

The log is a glob of weekly Parquet files (the bundled sample's cards, four months). The tests
recompute the documented rule with plain pandas on the whole log and check that the sample read is
exactly those rows, that their window features equal the whole log's, and that the CLI trains on
it with --engine dask and says which rows it used.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.cli import main
from core.errors import DataValidationError
from tests.scale.conftest import SAMPLES

BUDGET = 22_000
REACH = pd.Timedelta(days=38)  # 30-day window + 7-day label delay + 1 day


@pytest.fixture(scope="module")
def weekly_log(tmp_path_factory):
    """(glob of 18 weekly Parquet files, the whole log in file order)."""
    folder = tmp_path_factory.mktemp("weekly")
    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    df = df[df["customer_id"] < "C000150"]
    t = pd.to_datetime(df["timestamp"])
    later = df.assign(timestamp=(t + pd.Timedelta(days=63)).dt.strftime("%Y-%m-%d %H:%M:%S"),
                      transaction_id=df["transaction_id"] + 10 ** 6)
    whole = pd.concat([df, later], ignore_index=True)
    weeks = pd.to_datetime(whole["timestamp"]).dt.to_period("W")
    parts = [g for _, g in whole.groupby(weeks, sort=True)]
    for i, g in enumerate(parts):
        g.to_parquet(folder / f"week{i:02d}.parquet", index=False)
    return str(folder / "week*.parquet"), pd.concat(parts, ignore_index=True)


def documented_start(whole: pd.DataFrame, budget: int) -> pd.Timestamp:
    """The rule, recomputed: the earliest day whose rows from 38 days before it on fit the budget."""
    day = pd.to_datetime(whole["timestamp"]).dt.normalize()
    return next(d for d in sorted(day.unique()) if (day >= d - REACH).sum() <= budget)


def parse(*argv):
    import core.fraud.cli as fraud_cli
    from core.cli import _train_parser

    args = _train_parser(fraud_cli).parse_args(["--scenario", "fraud", *argv])
    return args, fraud_cli.build_config(args)


def test_the_sample_is_the_documented_rows_with_the_whole_logs_features(weekly_log):
    from core.fraud.columns import make_columns, prepare_log
    from core.fraud.features import compute_features
    from core.fraud.sample import read_fraud_sample

    glob, whole = weekly_log
    args, config = parse("--data", glob, "--sample-rows", str(BUDGET), "--chunk-size", "1500")
    said = []
    table, sample = read_fraud_sample(args, config, say=said.append)

    start = documented_start(whole, BUDGET)
    assert sample.train_start == start and sample.history_from == start - REACH
    t = pd.to_datetime(whole["timestamp"])
    pd.testing.assert_frame_equal(table.df, whole[t >= start - REACH].reset_index(drop=True))
    s = sample.summary()
    assert s["file_rows"] == len(whole) and s["files"] == 18 and s["partitions"] > 18
    assert s["rows_read"] == len(table.df) <= BUDGET
    assert s["history_rows"] == int(((t >= start - REACH) & (t < start)).sum())
    assert s["sample_frauds"] == int(whole.loc[t >= start, "is_fraud"].sum()) > 0
    assert s["frauds_left_out"] == int(whole.loc[t < start - REACH, "is_fraud"].sum())
    assert said == [sample.notice()] == table.notices
    assert f"from {start.date()} on" in said[0] and "read as history for the window features only" in said[0]

    # Every sampled row of the training and test periods gets the features the whole log gives it
    # (window sums are differences of running sums, which start at another row: equal to rounding).
    cols = make_columns(whole)

    def features_from(start_day, df):
        log = prepare_log(df, cols)
        frame = compute_features(log, cols, config=config.features).frame
        keep = (log[cols.time] >= start_day).to_numpy()
        return frame[keep].set_index(log.loc[keep, "transaction_id"].to_numpy()).sort_index()

    a, b = features_from(start, whole), features_from(start, table.df)
    assert len(a) == s["sample_rows"]
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)
    assert (a["cust_nb_tx_30d"] == b["cust_nb_tx_30d"]).all() and (a["term_nb_tx_30d"] == b["term_nb_tx_30d"]).all()


def test_window_features_built_on_the_workers_equal_the_in_process_ones(weekly_log, cluster):
    """The training path's features on the cluster: time partitions, each with the earlier rows
    within the 38-day reach (the scaled scorer's schedule and overlap), row by row the same as
    one pass over the whole log."""
    from core.fraud.columns import extra_feature_columns, make_columns, prepare_log
    from core.fraud.features import FeatureConfig, compute_features
    from core.fraud.scale import features_on_cluster

    _, whole = weekly_log
    cols, config = make_columns(whole), FeatureConfig()
    log = prepare_log(whole, cols)
    extra = extra_feature_columns(whole, cols)
    assert extra == ["channel"]  # a text column: the categorical path is covered too
    feats, info = features_on_cluster(cluster[1], log, cols, config=config, extra=extra, rows_per_partition=6000)
    ref = compute_features(log, cols, config=config, extra=extra)

    assert info["partitions"] == -(-len(log) // 6000) == 8 and info["reach_days"] == 38
    assert (feats.numeric, feats.categorical, feats.descriptions) == (ref.numeric, ref.categorical, ref.descriptions)
    assert feats.frame.index.equals(log.index) and list(feats.frame.columns) == list(ref.frame.columns)
    # Means, ratios and z-scores to rounding (a z-score of an amount at its card's mean is a difference
    # of two near-equal numbers: 1e-9 apart at most here).
    pd.testing.assert_frame_equal(feats.frame, ref.frame, check_exact=False, rtol=1e-9, atol=1e-8)
    counted = [c for c in ref.frame if "_nb_tx_" in c or c.startswith("term_risk") or c == "channel"]
    assert (feats.frame[counted] == ref.frame[counted]).all().all()  # counts and fraud rates: exactly
    # The overlap is what makes them equal: the last partition on its own misses its cards' past.
    tail = log.iloc[(info["partitions"] - 1) * 6000:]
    alone = compute_features(tail.reset_index(drop=True), cols, config=config, extra=extra).frame
    assert (alone["cust_nb_tx_30d"].to_numpy() < ref.frame["cust_nb_tx_30d"].iloc[-len(tail):].to_numpy()).any()
    assert info["overlap_rows"] >= (info["partitions"] - 1) * 6000


def test_training_on_a_sample_with_dask(weekly_log, scheduler, capsys):
    glob, whole = weekly_log
    capsys.readouterr()
    code = main(["train", "--scenario", "fraud", "--data", glob, "--sample-rows", str(BUDGET), "--engine", "dask",
                 "--scheduler", scheduler, "--chunk-size", "1500", "--epochs", "1", "--no-explain", "--json"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    res = json.loads(cap.out.strip().splitlines()[-1])
    start = documented_start(whole, BUDGET)
    s = res["data"]["sample"]
    assert s["engine"] == "dask" and s["train_start"] == str(start.date()) and not s["whole_log"]
    assert res["data"]["rows"] == s["rows_read"] and s["rows_read"] + s["rows_left_out"] == len(whole)
    assert res["split"]["train"].startswith(f"{start.date()} ..")
    assert res["split"]["history"].endswith(f"({s['history_rows']:,} rows)")
    assert res["epochs_run"] == 1 and 0 <= res["metrics"]["roc_auc"] <= 1
    assert f"Dask scheduler {scheduler}" in cap.err and "partitions" in cap.err
    assert "Training on a time-aware sample of a log of" in cap.err
    # The sample's window features were built on the workers (two time partitions, one per worker).
    f = s["features"]
    assert f["built_on"] == "dask" and f["partitions"] == 2 and f["reach_days"] == 38 and f["overlap_rows"] > 0
    assert f"Window features built on the Dask workers: 2 time partition(s) of up to {f['rows_per_partition']:,}" \
        in cap.err
    assert any(n.startswith("Training on a time-aware sample") for n in res["data"]["notices"])


def _days(counts: dict[str, int]) -> pd.DataFrame:
    idx = pd.DatetimeIndex(list(counts))
    return pd.DataFrame({"rows": list(counts.values()), "frauds": [1] * len(counts)}, index=idx)


def test_the_rule_and_its_messages():
    from core.fraud.sample import choose_start

    days = _days({str(d.date()): 100 for d in pd.date_range("2024-01-01", periods=100)})
    reach = pd.Timedelta(days=10)
    # 100 rows a day: 5,000 rows hold 50 days, the 10 days of history from 2024-02-20 and 40 from 2024-03-01.
    assert choose_start(days, 5_000, reach, gap_days=7) == (pd.Timestamp("2024-03-01"), None)
    assert choose_start(days, 10_000, reach, gap_days=7) == (None, None)  # the whole log fits
    # A later --train-start is kept; an earlier one is moved to the sample's first day.
    assert choose_start(days, 5_000, reach, gap_days=7, train_start="2024-03-10") == (pd.Timestamp("2024-03-10"), None)
    assert choose_start(days, 5_000, reach, gap_days=7, train_start="2024-01-15") == \
        (pd.Timestamp("2024-03-01"), "2024-01-15")
    with pytest.raises(DataValidationError, match=r"hold at least the last day of the log and the 10 days of "
                                                  r"history its features need \(1,100 rows\); got 1,000. "
                                                  r"Fix: --sample-rows 1,100"):
        choose_start(days, 1_000, reach, gap_days=7)
    with pytest.raises(DataValidationError, match=r"reach back before the test period from 2024-03-05 \(minus the "
                                                  r"7-day gap\).*reaches back to 2024-03-01 only. Fix: --sample-rows "
                                                  r"6,000 or more for a week of training, or a later --test-start"):
        choose_start(days, 5_000, reach, gap_days=7, test_start="2024-03-05")
    with pytest.raises(DataValidationError, match="or a smaller --gap-days"):
        choose_start(days, 2_000, reach, gap_days=7)


def test_bad_sample_options_are_clear(weekly_log, tmp_path):
    from core.fraud.sample import read_fraud_sample

    glob, _ = weekly_log
    args, config = parse("--data", glob, "--sample-rows", "0")
    with pytest.raises(DataValidationError, match="Expected --sample-rows of 1 or more; got 0"):
        read_fraud_sample(args, config)
    args, config = parse("--data", str(tmp_path / "none*.parquet"), "--sample-rows", "10")
    with pytest.raises(DataValidationError, match="to match CSV or Parquet files; it matches none"):
        read_fraud_sample(args, config)
    pd.DataFrame({"timestamp": ["2024-01-01"], "amount": [1.0]}).to_parquet(tmp_path / "a.parquet")
    args, config = parse("--data", str(tmp_path / "a.parquet"), "--sample-rows", "10")
    with pytest.raises(DataValidationError, match="Expected a fraud label column"):
        read_fraud_sample(args, config)


def test_credit_sample_is_the_apps_seeded_sample_whichever_engine_reads_it(tmp_path, scheduler, capsys):
    from argparse import Namespace

    from core.scale.sample import read_uniform_sample

    whole = pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:3000]
    whole["email"] = [f"applicant{i}@example.com" for i in range(len(whole))]  # personal data: left out
    for i in range(3):
        whole.iloc[i * 1000:(i + 1) * 1000].to_parquet(tmp_path / f"day{i}.parquet", index=False)
    glob = str(tmp_path / "day*.parquet")
    expected = whole.drop(columns="email").sample(n=1200, random_state=3).sort_index().reset_index(drop=True)
    for engine in ("local", "dask"):
        args = Namespace(data=glob, sample_rows=1200, engine=engine, scheduler=scheduler, workers=None,
                         chunk_size=400)
        table, summary = read_uniform_sample(args, seed=3, say=lambda _m: None)
        pd.testing.assert_frame_equal(table.df, expected)
        assert summary["file_rows"] == 3000 and summary["rows_read"] == 1200 and summary["partitions"] == 9
        assert summary["engine"] == engine and not summary["whole_file"]
        assert table.notices[0].startswith("Personal data left out: 'email' (e-mail addresses)")
        assert table.notices[1].startswith("Training on a random sample of 1,200 of the file's 3,000 rows")
        assert table.personal == [{"column": "email", "kind": "e-mail addresses", "action": "dropped"}]

    capsys.readouterr()
    code = main(["train", "--scenario", "credit", "--data", glob, "--sample-rows", "1200", "--seed", "3",
                 "--epochs", "1", "--no-explain", "--json", "--chunk-size", "400"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    res = json.loads(cap.out.strip().splitlines()[-1])
    assert res["data"]["rows"] == 1200 and res["data"]["sample"]["file_rows"] == 3000
    assert res["data"]["train_rows"] + res["data"]["test_rows"] == 1200 and 0 <= res["metrics"]["roc_auc"] <= 1
    assert "Training on a random sample of 1,200" in cap.err

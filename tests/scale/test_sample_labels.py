"""Fraud labels spelled otherwise (Y/N, fraud / ok / pending) with --sample-rows: read as training reads a
file that fits in memory (core.fraud.cli._labels), the rule decided on the whole log's counts, so a value
first seen in a late file is read the same way (core/fraud/blocklabels.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import DataValidationError
from tests.audit.leaks import fraud_log


@pytest.fixture(scope="module")
def worded(tmp_path_factory):
    """(glob of three monthly-ish CSV files with labels fraud / ok, and 'pending' only in the last file,
    the whole log in file order)."""
    folder = tmp_path_factory.mktemp("worded")
    df = fraud_log(days=30, per_day=100, seed=3).drop(columns="case_outcome")
    label = np.where(df["is_fraud"] == 1, "fraud", "ok").astype(object)
    late = np.arange(len(df)) >= 2 * len(df) // 3
    label[late & (np.arange(len(df)) % 17 == 0)] = "pending"
    df = df.assign(is_fraud=label)
    third = len(df) // 3
    for i in range(3):
        df.iloc[i * third:(i + 1) * third if i < 2 else len(df)].to_csv(folder / f"part{i}.csv", index=False)
    return str(folder / "part*.csv"), df


def _read(glob, *extra):
    import core.fraud.cli as fraud_cli
    from core.cli import _train_parser
    from core.fraud.sample import read_fraud_sample

    args = _train_parser(fraud_cli).parse_args(["--scenario", "fraud", "--data", glob, "--sample-rows", "5000",
                                                "--chunk-size", "400", *extra])
    return read_fraud_sample(args, fraud_cli.build_config(args), say=lambda _m: None), args


def test_sample_reads_worded_labels_as_the_whole_file_path_does(worded):
    from core.fraud.cli import _labels
    from core.fraud.columns import make_columns

    glob, whole = worded
    (table, sample), args = _read(glob, "--positive", "fraud", "--negative", "ok")
    expected, notices = _labels(whole, make_columns(whole), args)  # the path of a file that fits in memory
    pd.testing.assert_frame_equal(table.df, expected)
    assert set(table.df["is_fraud"]) == {0, 1}
    assert [n for n in table.notices if n in notices] == notices  # the same words, counted over every file
    assert notices[0] == "'is_fraud': 'fraud' read as 1 (the event), 'ok' as 0."
    pending = int((whole["is_fraud"] == "pending").sum())
    assert notices[1].startswith(f"Left out {pending:,} row(s) whose 'is_fraud' is neither 'fraud' (positive) nor "
                                 f"'ok' (negative) ('pending': {pending:,})")
    assert sample.file_rows == len(whole) - pending and sample.file_frauds == int((whole["is_fraud"] == "fraud").sum())


def test_sample_with_a_third_value_seen_only_late_asks_for_the_negative_values(worded):
    glob, whole = worded
    with pytest.raises(DataValidationError, match=r"'is_fraud' must have two values; got 3: 'fraud' \(.*'pending' "
                                                  r"\(.*--positive VALUE --negative VALUE"):
        _read(glob)


@pytest.mark.parametrize("engine", [[], ["--engine", "dask", "--workers", "1"]], ids=["local", "dask"])
def test_cli_trains_on_yes_no_letters_with_sample_rows(worded, tmp_path, capsys, engine):
    _, whole = worded
    path = tmp_path / "yn.csv"
    whole[whole["is_fraud"] != "pending"].assign(is_fraud=lambda d: d["is_fraud"].map({"fraud": "Y", "ok": "N"})) \
        .to_csv(path, index=False)
    code = main(["train", "--scenario", "fraud", "--data", str(path), "--sample-rows", "5000", "--epochs", "1",
                 "--no-explain", "--no-ensemble", "--json", *engine])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert "'is_fraud': 'Y' read as 1 (the event), 'N' as 0." in out["data"]["notices"]
    assert out["data"]["sample"]["file_frauds"] == int((whole["is_fraud"] == "fraud").sum()) > 0
    assert out["data"]["sample"]["engine"] == ("dask" if engine else "local")

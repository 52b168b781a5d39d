"""A fraud run whose customer key is a card number (kept as a keyed pseudonym) scores alike with the
Dask engine: every block pseudonymises the card number with the run's secret, so each block's
history lines up and the output equals the single-process one byte for byte, with no raw number.

Generator: scripts/make_card_log.py, the look-alike of the public card-transaction log (``cc_num``
repeating on every transaction of a card, holder names, street, date of birth, fraud bursts)."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from tests.scale.conftest import ROOT, _train
from tests.scale.test_scenarios import both, same_summary

sys.path.insert(0, str(ROOT / "scripts"))
from make_card_log import make_card_transactions  # noqa: E402


@pytest.fixture(scope="module")
def card_run(work, pytestconfig):
    df = make_card_transactions(120, days=60, seed=4)
    data = work / "card_train.csv"
    df.iloc[:-1500].to_csv(data, index=False)
    later = work / "card_later.csv"
    df.iloc[-1500:].drop(columns="is_fraud").to_csv(later, index=False)
    run = _train(pytestconfig, "--scenario", "fraud", "--data", str(data), "--epochs", "2", "--no-explain",
                 "--save", str(work / "card_run"))
    return run, later, df


def test_keyed_card_numbers_score_alike_on_dask(capsys, tmp_path, card_run, scheduler):
    run, later, df = card_run
    # The file has no id column, so both outputs carry generated prediction ids (new each scoring, logged
    # with the rows): the outputs are the same but for them.
    local, dask, a, b, err = both(capsys, tmp_path, run, later, scheduler, "--chunk-size", "400")
    x, scored = pd.read_csv(local), pd.read_csv(dask)
    assert x["prediction_id"].is_unique and scored["prediction_id"].is_unique
    assert x.drop(columns="prediction_id").to_csv(index=False) == scored.drop(columns="prediction_id").to_csv(index=False)
    assert b["engine"]["partitions"] == 4 and b["prediction_log"]["rows"] == len(scored) == 1500
    same_summary(a, b)
    from core.monitor.store import read_table

    logged = read_table(run, "predictions", "SELECT row_id FROM {t} WHERE row_id IN (SELECT unnest(?))",
                        [list(scored["prediction_id"])])
    assert len(logged) == 1500  # each Dask-scored row once, under the id its output row carries
    # Without the log, the two outputs are the same byte for byte.
    local, dask, *_ = both(capsys, tmp_path, run, later, scheduler, "--chunk-size", "400", "--no-log",
                           name="nolog.csv")
    assert local.read_bytes() == dask.read_bytes()
    hist = pd.read_parquet(run / "history.parquet")
    assert scored["cc_num"].str.startswith("p:").all() and scored["cc_num"].isin(set(hist["cc_num"])).mean() > 0.95
    blob = dask.read_bytes()
    assert not [v for v in df["cc_num"].astype(str).unique() if v.encode() in blob]
    assert "card number kept as the customer / card key" in err


def test_a_sample_of_a_larger_log_keeps_the_card_number_as_the_key(work, pytestconfig):
    df = make_card_transactions(60, days=100, seed=13, fraud_cards=0.2)
    data = work / "card_long.csv"
    df.to_csv(data, index=False)
    run = _train(pytestconfig, "--scenario", "fraud", "--data", str(data), "--epochs", "1", "--no-explain",
                 "--sample-rows", str(int(len(df) * 0.75)), "--chunk-size", "2000", "--save", str(work / "card_sampled"))
    hist = pd.read_parquet(run / "history.parquet")
    assert len(hist) < len(df) and hist["cc_num"].str.startswith("p:").all()
    assert not {"first", "last", "street", "dob"} & set(hist.columns)
    assert (run / "pseudonym.key").is_file()
    blob = b"".join(p.read_bytes() for p in run.rglob("*") if p.name != "pseudonym.key")
    assert not [v for v in df["cc_num"].astype(str).unique() if v.encode() in blob]

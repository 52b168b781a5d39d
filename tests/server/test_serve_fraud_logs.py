"""Fraud logs as they are published, served over HTTP.

A fraud run whose card number is the customer key (kept as a keyed pseudonym, see core/data/pseudonym.py),
served over HTTP: the request's raw card numbers are pseudonymised with the run's secret before scoring, so
each prediction equals ``python -m core score`` on the same rows (the histories line up), and no raw number
comes back in a response, the model description, the server's log or the saved state.

Generator: ``scripts/make_card_log.py``, a look-alike of the public card-transaction log (``cc_num`` card
numbers that pass the Luhn check and repeat on every transaction of the card, holder names, street, date of
birth, merchants, fraud bursts), 70 cards over 50 days; the last 120 transactions are posted.

A run on a log timed in elapsed hours (``core.fraud.clock``) takes times as numbers in that unit: its example
request says so, its predictions equal the batch scorer's, and a time that is not a number is refused with a
fix that names the unit. Generator: ``short_log`` / ``stepped`` of tests/fraud/test_elapsed_time.py (ten days
of a card log with card and terminal ids, twenty cards compromised in turn, time as hours since the start).
"""

from __future__ import annotations

import json
import sys

import httpx
import pandas as pd
import pytest

from core.data.pseudonym import is_pseudonym
from tests.server.conftest import ROOT, cli_score, serving, train
from tests.server.test_serve_keras import assert_same, expected_columns, post

sys.path.insert(0, str(ROOT / "scripts"))
from make_card_log import make_card_transactions  # noqa: E402

LATER = 120


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """(the saved run, the posted rows with raw card numbers, every raw card number of the log)."""
    work = tmp_path_factory.mktemp("keyed")
    log = make_card_transactions(70, days=50, seed=3)
    log.iloc[:-LATER].to_csv(work / "cards.csv", index=False)
    run = train("--scenario", "fraud", "--data", str(work / "cards.csv"), "--epochs", "1", "--no-explain",
                "--save", str(work / "runs" / "cards-1"))
    later = log.iloc[-LATER:].drop(columns="is_fraud").reset_index(drop=True)
    return run, later, {str(v) for v in log["cc_num"].unique()}


def _raw_in(text: str, numbers: set[str]) -> list[str]:
    return [v for v in numbers if v in text]


def test_a_keyed_run_served_pseudonymises_the_card_number_and_never_echoes_it(keyed, tmp_path):
    run, later, numbers = keyed
    meta = json.loads((run / "metadata.json").read_text())
    assert [k["column"] for k in meta["pseudonymised"]] == ["cc_num"]  # the run keeps cc_num as a keyed pseudonym
    state = tmp_path / "state"
    with serving(["--model", str(run), "--runtime", "keras", "--state-dir", str(state), "--snapshot-every", "0"],
                 log=tmp_path / "server.log") as server:
        info = httpx.get(f"{server.url}/v1/models/cards-1", timeout=30)
        assert info.status_code == 200 and "cc_num" in info.json()["input"]["columns"]
        assert not _raw_in(info.text, numbers)
        cols = expected_columns(server, "cards-1")
        rows = later[cols]
        assert rows["cc_num"].astype(str).isin(numbers).all()  # the request carries raw card numbers
        texts, served = [], []
        for part in (rows.iloc[:20], rows.iloc[20:]):  # a first batch, then the rest, kept in the history between
            r = post(server, "cards-1", {"instances": json.loads(part.to_json(orient="records"))})
            assert r.status_code == 200, r.text
            texts.append(r.text)
            served += r.json()["predictions"]
        # The example request (the last card's pseudonym) is valid; posted last, as it joins the history.
        example = post(server, "cards-1", info.json()["input"]["example"])
        assert example.status_code == 200, example.text
        texts.append(example.text)
    assert not _raw_in(" ".join(texts), numbers)
    assert not _raw_in((tmp_path / "server.log").read_text(), numbers)
    served = pd.DataFrame(served)
    assert "cc_num" not in served.columns and len(served) == LATER
    # The same risks and decisions as the batch scorer, which pseudonymises the file with the run's secret: had
    # the service keyed the raw numbers otherwise (or not at all), the cards' histories would not line up.
    rows.to_csv(tmp_path / "later.csv", index=False)
    scored = cli_score(run, tmp_path / "later.csv", tmp_path / "scored.csv")
    assert_same(served, scored, tol=1e-6)
    assert scored["cc_num"].map(is_pseudonym).all()
    history = pd.read_parquet(run / "history.parquet")
    assert scored["cc_num"].isin(set(history["cc_num"])).mean() > 0.9  # the posted cards are known cards
    # The history kept between requests (saved on shutdown) holds pseudonyms only.
    saved = list(state.glob("cards-1.state*"))
    assert saved
    kept = pd.read_parquet(saved[0])
    assert kept["cc_num"].map(is_pseudonym).all() and set(scored["cc_num"]) <= set(kept["cc_num"])
    assert not [v for v in numbers if v.encode() in saved[0].read_bytes()]


def test_an_elapsed_time_run_served_takes_times_in_its_unit(tmp_path):
    from tests.fraud.test_elapsed_time import short_log, stepped

    log = stepped(short_log(days=10, n=1500, seed=4), "hours")
    log.iloc[:-80].to_csv(tmp_path / "hours.csv", index=False)
    run = train("--scenario", "fraud", "--data", str(tmp_path / "hours.csv"), "--time-unit", "hours", "--epochs", "1",
                "--no-explain", "--save", str(tmp_path / "runs" / "hours-1"))
    later = log.iloc[-80:].drop(columns="is_fraud").reset_index(drop=True)
    with serving(["--model", str(run), "--runtime", "keras", "--state-dir", str(tmp_path / "state"),
                  "--snapshot-every", "0"], log=tmp_path / "server.log") as server:
        info = httpx.get(f"{server.url}/v1/models/hours-1", timeout=30).json()
        assert info["input"]["columns"]["step"] == "number"
        example = info["input"]["example"]["instances"][0]
        assert isinstance(example["step"], (int, float)) and example["step"] > log["step"].iloc[-81]
        bad = post(server, "hours-1", {"instances": [{**example, "step": None}]})  # a transaction without a time
        assert bad.status_code == 400 and "send times as numbers of hours since the log's start" in bad.text, bad.text
        rows = later[list(info["input"]["columns"])]
        r = post(server, "hours-1", {"instances": json.loads(rows.to_json(orient="records"))})
        assert r.status_code == 200, r.text
    rows.to_csv(tmp_path / "later.csv", index=False)
    scored = cli_score(run, tmp_path / "later.csv", tmp_path / "scored.csv")
    assert_same(pd.DataFrame(r.json()["predictions"]), scored, tol=1e-6)

"""Personal data that is a key: a card number that is also the customer key is kept as a keyed
pseudonym (HMAC-SHA256 with a secret per session or run), consistently between training and
scoring, and never appears raw in outputs, saved files or the model card.

Generators:

* ``card_log``: the look-alike of the popular public card-transaction log
  (``scripts/make_card_log.py``): ``cc_num`` card numbers that pass the Luhn check and repeat on
  every transaction of the card, holder names, street, date of birth, merchants with categories
  and coordinates, fraud bursts on a few cards.
* ``unique_cards``: the same log with a different card number on every row (a number that
  identifies a transaction, not a customer).
"""

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.datasets import read_table
from core.errors import DataValidationError
from core.fraud.columns import KEY_ROLE, customer_key_rule, keyed_customer, lost_key_notice, make_columns
from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, run_fraud
from core.data.privacy import PersonalDataFilter, detect_personal_columns, protect_personal_data
from core.data.pseudonym import KeyRule, is_pseudonym, new_secret, pseudonymise, repeats_like_key, run_key_rule

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from make_card_log import make_card_transactions  # noqa: E402

FAST = replace(FRAUD_TABULAR, epochs=2, baselines=("logistic_regression",))


@pytest.fixture(scope="module")
def card_log() -> pd.DataFrame:
    return make_card_transactions(140, days=60, seed=2)


def _keys(secret=None, customer=None) -> KeyRule:
    return KeyRule(secret or new_secret(), pick=customer_key_rule(customer), role=KEY_ROLE)


def _read(df: pd.DataFrame, keys: KeyRule):
    return read_table(df.to_csv(index=False).encode(), name="cards.csv", max_rows=None, personal="drop", keys=keys)


def _raw_numbers(df: pd.DataFrame) -> list[str]:
    return [str(v) for v in df["cc_num"].unique()]


def test_keyed_pseudonyms_are_stable_secret_and_idempotent():
    s = pd.Series([4111111111111111, 4111111111111111.0, "4111 1111 1111 1111", "5500-0000-0000-0004", None])
    secret = new_secret()
    p = pseudonymise(s, secret)
    assert p[0] == p[1] == p[2] != p[3] and pd.isna(p[4]) and is_pseudonym(p[0]) and p[0].startswith("p:")
    assert pseudonymise(s, new_secret())[0] != p[0]  # another secret, other pseudonyms
    assert pseudonymise(p, secret).equals(p)  # applying it twice changes nothing
    assert "4111" not in repr(KeyRule(secret, ("cc_num",))) and str(secret) not in repr(KeyRule(secret))
    with pytest.raises(DataValidationError, match="Expected a secret of at least 16 random bytes"):
        pseudonymise(s, b"short")


def test_the_card_number_is_the_key_names_street_and_birth_dates_are_dropped(card_log):
    found = {c.column: c.kind for c in detect_personal_columns(card_log)}
    assert found == {"cc_num": "card", "first": "name", "last": "name", "street": "address", "dob": "birth"}
    assert repeats_like_key(card_log["cc_num"]) and not repeats_like_key(pd.Series(range(100)))
    table = _read(card_log, _keys())
    df = table.df
    assert {"first", "last", "street", "dob"}.isdisjoint(df.columns) and "cc_num" in df.columns
    assert df["cc_num"].map(is_pseudonym).all() and df["cc_num"].nunique() == card_log["cc_num"].nunique()
    assert keyed_customer(df) == "cc_num" and make_columns(df).customer == "cc_num"
    assert ("'cc_num' (card number kept as the customer / card key, replaced by a keyed pseudonym)"
            in table.notices[0])
    assert "Personal data left out: 'first' (people's names), 'last' (people's names), 'street' (street " \
           "addresses), 'dob' (dates of birth)" in table.notices[1]
    key = next(p for p in table.personal if p["column"] == "cc_num")
    assert key["action"] == "kept as the customer / card key, replaced by a keyed pseudonym (HMAC-SHA256)"
    text = df.to_csv(index=False) + " ".join(table.notices) + json.dumps(table.personal)
    assert not [v for v in _raw_numbers(card_log) if v in text]


def test_what_is_a_key(card_log):
    # A number on one row only identifies a transaction: dropped, and the analyst is told what that costs.
    rows = card_log.head(400).copy()
    from make_card_log import _luhn_numbers

    rows["cc_num"] = _luhn_numbers(np.random.default_rng(5), len(rows))
    table = _read(rows, _keys())
    assert "cc_num" not in table.df.columns and lost_key_notice(table.df).startswith("'cc_num' holds personal data")
    assert "no per-customer history features" in lost_key_notice(table.df)
    # A customer id of its own: the card column beside it is not the key and goes.
    with_id = card_log.rename(columns={"cc_num": "card_number"}).assign(customer_id=card_log["cc_num"].rank(method="dense"))
    assert _read(with_id, _keys()).df.columns.tolist().count("card_number") == 0
    # No customer name anywhere: a repeating card column is the key.
    assert _read(card_log.rename(columns={"cc_num": "payment"}), _keys()).df["payment"].map(is_pseudonym).all()
    # The analyst's mapping decides: a name mapped as the customer is kept as a keyed pseudonym.
    assert customer_key_rule("last")(card_log, detect_personal_columns(card_log)) == ["last"]
    assert _read(card_log, _keys(customer="last")).df["last"].map(is_pseudonym).all()


def test_training_and_scoring_pseudonymise_alike_and_never_echo_the_number(card_log, tmp_path):
    from core.fraud.persist import load_fraud_model, save_fraud_run
    from core.fraud.service import pseudonymise_keys, score_chunk
    from core.fraud.summary import build_fraud_summary
    from core.workspace.report import build_report_html

    secret = new_secret()
    train, later = card_log.iloc[:-1500], card_log.iloc[-1500:]
    table = _read(train, _keys(secret))
    cols = make_columns(table.df)
    run = run_fraud(table.df, cols, config=FraudConfig(tabular=FAST))
    assert run.keyed == [{"column": "cc_num", "kind": "card", "role": KEY_ROLE}]
    with pytest.raises(DataValidationError, match="Expected the secret of the keyed pseudonyms"):
        save_fraud_run(run, tmp_path / "nope", extra_metadata={})
    summary = build_fraud_summary(run, name="cards", review_threshold=0.5, review_fee=5.0, data=table.df,
                                  dataset_name="cards.csv")
    path = save_fraud_run(run, tmp_path, extra_metadata=summary, secret=secret)
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["pseudonymised"] == run.keyed and secret.hex() not in json.dumps(meta)
    rule = run_key_rule(path)
    assert rule.columns == ("cc_num",) and rule.secret == secret
    saved = load_fraud_model(path)
    assert str(secret) not in repr(saved) and "cc_num" in repr(saved.keys)
    # Raw numbers in, pseudonyms out; the same risk as for the file read with the run's key rule.
    scored, X = score_chunk(saved, pseudonymise_keys(saved, later.drop(columns="is_fraud")), review=0.5, block=0.9,
                            features=True)
    read_alike = read_table(later.drop(columns="is_fraud").to_csv(index=False).encode(), name="later.csv",
                            max_rows=None, personal="drop", keys=rule).df
    again = score_chunk(saved, pseudonymise_keys(saved, read_alike), review=0.5, block=0.9)
    assert np.allclose(np.sort(scored["risk"]), np.sort(again["risk"]))
    assert scored["cc_num"].map(is_pseudonym).all() and scored["cc_num"].isin(set(saved.history["cc_num"])).all()
    assert X["cust_nb_tx_30d"].mean() > 5  # each card's history lines up with the saved log
    card = build_report_html(path)
    assert "Personal data kept as a key:</b> cc_num (payment card numbers): kept as the customer / card key, " \
           "replaced by a keyed pseudonym (HMAC-SHA256)" in card
    assert "Personal data excluded:</b> first (people&#x27;s names, dropped)" in card
    everything = b"".join(p.read_bytes() for p in path.rglob("*") if p.name != "pseudonym.key")
    written = scored.to_csv(index=False) + card
    leaks = [v for v in _raw_numbers(card_log) if v in written or v.encode() in everything]
    assert not leaks
    (path / "pseudonym.key").unlink()
    with pytest.raises(DataValidationError, match="Expected the run's pseudonym secret \\(pseudonym.key\\)"):
        run_key_rule(path)


def test_model_card_and_saved_summary_say_the_card_number_is_a_keyed_pseudonym(card_log):
    from core.report.runsummary import get_fingerprint

    table = _read(card_log, _keys())
    fp = get_fingerprint(table.df, name="cards.csv")
    entry = next(p for p in fp["personal_data"] if p["column"] == "cc_num")
    assert entry["action"] == "kept as the customer / card key, replaced by a keyed pseudonym (HMAC-SHA256)"


def test_chunk_filter_keeps_the_runs_key_in_every_mode(card_log):
    rule = KeyRule(new_secret(), ("cc_num",), role=KEY_ROLE, kinds=(("cc_num", "card"),))
    part = card_log.head(50)
    for mode in ("drop", "hash", "keep"):
        guard = PersonalDataFilter(mode, keys=rule)
        out = guard.apply(part)
        assert out["cc_num"].map(is_pseudonym).all(), mode
        assert guard.excluded[0]["action"].startswith("kept as the customer / card key")
        assert guard.notice().startswith("Personal data kept as a key: 'cc_num' (card number kept as the customer")
    # A short file whose numbers are not recognised as cards still has its key pseudonymised.
    tiny = pd.DataFrame({"cc_num": ["12", "12", "13"], "amt": [1.0, 2.0, 3.0]})
    assert protect_personal_data(tiny, keys=rule).df["cc_num"].map(is_pseudonym).all()


def test_cli_train_and_chunked_score_line_up_and_write_no_card_number(card_log, tmp_path, capsys):
    from tests.fraud.test_elapsed_time import _cli

    train, later = card_log.iloc[:-1200], card_log.iloc[-1200:].drop(columns="is_fraud")
    data, new = tmp_path / "cards.csv", tmp_path / "later.csv"
    train.to_csv(data, index=False)
    later.to_csv(new, index=False)
    code, res, err = _cli(capsys, "train", "--scenario", "fraud", "--data", str(data), "--epochs", "1", "--no-explain",
                          "--save", str(tmp_path / "run"))
    assert code == 0, err[-2000:]
    assert "card number kept as the customer / card key, replaced by a keyed pseudonym" in err
    assert res["columns"]["customer"] == "cc_num" and "cust_nb_tx_30d" in res["features"]
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    code, summary, err = _cli(capsys, "score", "--model", res["saved_to"], "--data", str(new), "--out", str(one),
                              "--personal-data", "keep")
    assert code == 0, err[-2000:]
    assert summary["personal_data"][0]["action"].startswith("kept as the customer / card key")
    code, _, err = _cli(capsys, "score", "--model", res["saved_to"], "--data", str(new), "--out", str(many),
                        "--chunk-size", "500")
    assert code == 0, err[-2000:]
    a, b = pd.read_csv(one), pd.read_csv(many)
    assert np.allclose(a["risk"], b["risk"], atol=1e-6) and (a["cc_num"] == b["cc_num"]).all()
    hist = pd.read_parquet(Path(res["saved_to"]) / "history.parquet")
    assert a["cc_num"].isin(set(hist["cc_num"])).mean() > 0.95
    raw = set(_raw_numbers(card_log))
    for path in [one, many, *Path(res["saved_to"]).rglob("*")]:
        if path.is_file() and path.name != "pseudonym.key":
            blob = path.read_bytes()
            assert not [v for v in raw if v.encode() in blob], path.name
    assert not [v for v in raw if v in err + json.dumps(res) + json.dumps(summary)]

"""Personal data in an upload: found, kept out (or hashed with a session salt), and absent from
everything a trained and saved run writes: run folder, model card, scored CSV and log lines."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.data.privacy import (detect_personal_columns, hash_values, iban_ok, luhn_ok, new_salt,
                          protect_personal_data)
from tests.conftest import errors_besides_trust

ROOT = Path(__file__).resolve().parents[2]
N = 300


def _card(rng) -> str:
    digits = "4" + "".join(str(d) for d in rng.integers(0, 10, 14))
    return digits + next(str(c) for c in range(10) if luhn_ok(digits + str(c)))


def _iban(rng) -> str:
    bban = "".join(str(d) for d in rng.integers(0, 10, 18))
    check = 98 - int("".join(str(int(ch, 36)) for ch in bban + "DE00")) % 97
    return f"DE{check:02d}{bban}"


def personal_values(n: int = N, seed: int = 7) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    first = ["Alice", "Bram", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gus", "Hana"]
    return {
        "contact_email": [f"{first[i % 8].lower()}.{i}@example.org" for i in range(n)],
        "mobile": [f"+44 7700 {900000 + i:06d}" for i in range(n)],
        "card_number": [_card(rng) for _ in range(n)],
        "account": [_iban(rng) for _ in range(n)],
        "ssn": [f"{100 + i % 600:03d}-{10 + i % 80:02d}-{1000 + i:04d}" for i in range(n)],
        "first_name": [first[i % 8] for i in range(n)],
        "surname": [f"Okafor{chr(97 + i // 26 % 26)}{chr(97 + i % 26)}son" for i in range(n)],
    }


def credit_with_personal_data(n: int = N) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    df = pd.read_csv(ROOT / "sample_data" / "credit_applications.csv").head(n).reset_index(drop=True)
    values = personal_values(n)
    for i, (c, v) in enumerate(values.items()):
        df.insert(1 + i, c, v)
    return df, values


# ---------------------------------------------------------------- detection
def test_each_kind_is_found_and_ordinary_columns_are_not():
    df, values = credit_with_personal_data(120)
    found = {c.column: c.kind for c in detect_personal_columns(df)}
    assert found == {"contact_email": "email", "mobile": "phone", "card_number": "card", "account": "iban",
                     "ssn": "ssn", "first_name": "name", "surname": "name"}


@pytest.mark.parametrize("values", [
    [str(10 ** 15 + 7919 * i) for i in range(200)],  # 16-digit ids: most fail the Luhn check
    [f"2024-01-{1 + i % 28:02d}" for i in range(200)],  # dates are not phone numbers
    [f"{100000 + i}" for i in range(200)],  # six-digit codes
    [f"{i * 1.5:.2f}" for i in range(200)],  # amounts written as text
])
def test_look_alikes_are_not_personal(values):
    assert detect_personal_columns(pd.DataFrame({"v": values})) == []


def test_card_numbers_read_as_integers_are_found():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"pan": [int(_card(rng)) for _ in range(50)], "amount": rng.normal(50, 5, 50)})
    assert [(c.column, c.kind) for c in detect_personal_columns(df)] == [("pan", "card")]


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")


def test_hashing_is_salted_stable_and_keeps_missing_values():
    s = pd.Series(["a@x.org", "b@x.org", "a@x.org", None])
    salt, other = new_salt(), new_salt()
    h = hash_values(s, salt)
    assert h[0] == h[2] != h[1] and h[0].startswith("h:") and pd.isna(h[3])
    assert hash_values(s, other)[0] != h[0]  # another session's salt gives other codes
    from core.errors import DataValidationError

    with pytest.raises(DataValidationError, match="salt of at least 8 bytes.*Fix: create one"):
        hash_values(s, b"")
    with pytest.raises(DataValidationError, match="must be one of \\['drop', 'hash'\\]; got 'keep'. Fix"):
        protect_personal_data(pd.DataFrame({"a": [1]}), mode="keep")


def test_read_table_drops_or_hashes_and_records_only_names():
    from core.data.datasets import read_table

    df, values = credit_with_personal_data(80)
    raw = df.to_csv(index=False).encode()
    dropped = read_table(raw, name="apps.csv", personal="drop")
    assert not set(values) & set(dropped.df.columns)
    assert {p["column"] for p in dropped.personal} == set(values)
    assert dropped.df.attrs["personal_data"] == dropped.personal
    assert "Personal data left out" in dropped.notices[0]
    assert not any(v in " ".join(dropped.notices) for vals in values.values() for v in vals[:5])
    hashed = read_table(raw, name="apps.csv", personal="hash", salt=new_salt())
    assert set(values) <= set(hashed.df.columns)
    assert hashed.df["contact_email"].str.startswith("h:").all()
    assert not hashed.df["card_number"].isin(values["card_number"]).any()
    assert read_table(raw, name="apps.csv").personal == []  # not asked: nothing changed


# ---------------------------------------------------------------- nothing personal in what a run writes
def _needles(values: dict[str, list[str]]) -> set[str]:
    out = set()
    for col, vals in values.items():
        if col == "first_name":
            continue  # eight common first names also occur in ordinary words; the surnames are unique
        for v in vals:
            out.add(v)
            if col in ("card_number", "mobile", "account"):
                out.add(v.replace(" ", ""))
    return out


def test_a_trained_saved_and_reported_run_holds_no_personal_value(tmp_path, capsys, caplog):
    """Train and save with the command line, print the model card, score the same file as the Score
    page does and download it: nothing written or logged holds an e-mail, phone, card, IBAN, SSN or
    surname of the upload."""
    from core.serve.batch import score_with_run
    from core.cli import main
    from core.data.datasets import read_table
    from core.store.registry import read_metadata
    from core.data.safety import safe_csv_bytes
    from core.workspace.report import build_report_html

    caplog.set_level(logging.DEBUG)
    df, values = credit_with_personal_data()
    upload = tmp_path / "applicants.csv"
    df.to_csv(upload, index=False)
    run_dir = tmp_path / "run"
    assert main(["train", "--scenario", "credit", "--data", str(upload), "--save", str(run_dir), "--epochs", "2",
                 "--no-explain", "--json"]) == 0
    report = build_report_html(run_dir)
    scored = score_with_run(run_dir, read_table(upload, max_rows=None, personal="drop").df, max_rows=10_000,
                            reason_rows=20)
    download = safe_csv_bytes(scored.scored)
    logs = capsys.readouterr()

    artefacts = {f"run/{p.relative_to(run_dir)}": p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    artefacts.update({"report.html": report.encode(), "scored.csv": download,
                      "stdout": logs.out.encode(), "stderr": logs.err.encode(), "log": caplog.text.encode()})
    assert len(artefacts) >= 7 and any(k.endswith(".keras") for k in artefacts)
    assert len(scored.scored) == N and "contact_email" in logs.out  # the CLI's JSON names what it left out
    needles = _needles(values)
    leaks = {name: sorted(v for v in needles if v.encode() in blob)[:3] for name, blob in artefacts.items()}
    assert not any(leaks.values()), leaks
    # The saved summary and the card say what was left out, by column and kind only.
    saved = read_metadata(run_dir)["workspace"]["dataset"]["personal_data"]
    assert {p["column"] for p in saved} == set(values)
    assert "Personal data excluded" in report and "contact_email (e-mail addresses, dropped)" in report


def test_exclusions_reach_each_scenarios_data_fingerprint():
    from core.data.datasets import read_table
    from core.demand.data import ColumnMap, load_sales
    from core.fraud.columns import make_columns, prepare_log
    from core.report.runsummary import get_fingerprint

    from tests.hardening.catalogue import demand_frame, fraud_frame

    demand, fraud = demand_frame(), fraud_frame()
    demand["email"] = [f"user{i}@example.org" for i in range(len(demand))]
    fraud["email"] = [f"user{i}@example.org" for i in range(len(fraud))]
    read = {name: read_table(f.to_csv(index=False).encode(), name=f"{name}.csv", max_rows=None, personal="drop").df
            for name, f in (("demand", demand), ("fraud", fraud))}
    sales = load_sales(read["demand"], ColumnMap(date="date", target="units_sold", series=("store",)))
    cols = make_columns(read["fraud"])
    history = prepare_log(read["fraud"], cols)[["timestamp", "amount", "is_fraud"]]
    for frame in (sales.frame, history):
        ds = get_fingerprint(frame, name="x.csv")
        assert ds["personal_data"] == [{"column": "email", "kind": "e-mail addresses", "action": "dropped"}]
        assert "email" not in ds["columns"]


# ---------------------------------------------------------------- the upload on a page
def _session_text(at) -> str:
    """Everything the session holds, as text: frames as CSV, the rest as repr."""
    parts = []
    for k, v in at.session_state.items():
        for item in (v if isinstance(v, (tuple, list)) else [v]):
            parts.append(item.to_csv() if isinstance(item, pd.DataFrame) else repr(item))
    return "\n".join(parts)


def test_credit_upload_leaves_personal_data_out_and_offers_hashing():
    from streamlit.testing.v1 import AppTest

    df, values = credit_with_personal_data(120)
    at = AppTest.from_file(str(ROOT / "pages" / "credit.py"), default_timeout=120)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("applicants.csv", df.to_csv(index=False).encode(),
                                                     "text/csv")).run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert any("Personal data found" in m.value for m in at.markdown)
    choice = next(r for r in at.radio if r.label == "What to do with these columns")
    assert choice.value == "drop"
    held = _session_text(at)
    assert not any(v in held for col, vals in values.items() if col != "first_name" for v in vals)
    schema = next(d for d in at.dataframe if "column" in d.value.columns).value
    assert not set(values) & set(schema["column"])
    choice.set_value("hash").run()
    assert not at.exception
    held = _session_text(at)
    assert not any(v in held for col, vals in values.items() if col != "first_name" for v in vals)
    schema = next(d for d in at.dataframe if "column" in d.value.columns).value
    assert set(values) <= set(schema["column"])  # hashed: present as codes, for grouping or as ids


def test_objects_shared_between_sessions_never_take_an_upload():
    """``st.cache_resource`` / ``st.cache_data`` results are shared by every visitor of the server:
    the cached functions of the pages take no file, frame or upload, only settings."""
    import ast

    allowed = {"image_size", "tensorflow_loaded", "scenario", "path", "name", "seed", "saved_at"}
    cached = {}
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any("cache_" in ast.unparse(d) for d in node.decorator_list):
                cached[f"{path.relative_to(ROOT)}:{node.name}"] = {a.arg for a in node.args.args}
    assert len(cached) >= 4
    assert all(args <= allowed for args in cached.values()), cached


def _privacy_page():
    import streamlit as st

    from ui.privacy import read_upload, upload_key

    up = st.file_uploader("Table", key="f")
    if up is not None:
        key = upload_key(up)
        if st.session_state.get("read_for") != key:
            st.session_state["read_for"] = key
            st.session_state["table"] = read_upload(up, max_rows=None).df
        st.dataframe(st.session_state["table"])


def test_upload_component_drops_by_default_and_hashes_on_request():
    from streamlit.testing.v1 import AppTest

    df, values = credit_with_personal_data(60)
    at = AppTest.from_function(_privacy_page, default_timeout=60)
    at.run()
    at.file_uploader(key="f").set_value(("apps.csv", df.to_csv(index=False).encode(), "text/csv")).run()
    assert not at.exception
    assert any("Personal data found" in m.value for m in at.markdown)
    assert any("contact_email (e-mail addresses)" in c.value for c in at.caption)
    choice = next(r for r in at.radio if r.label == "What to do with these columns")
    assert choice.value == "drop"
    assert not set(values) & set(at.dataframe[0].value.columns)
    choice.set_value("hash").run()
    shown = at.dataframe[0].value
    assert set(values) <= set(shown.columns) and shown["card_number"].str.startswith("h:").all()
    # One notice with the choice, not a second line repeating it.
    assert sum("Personal data found" in m.value for m in at.markdown) == 1
    assert not any("Personal data hashed" in c.value for c in at.caption)
    salt = at.session_state["privacy.salt"]
    assert isinstance(salt, bytes) and len(salt) == 16
    held = _session_text(at)
    assert not any(v in held for col, vals in values.items() if col != "first_name" for v in vals)
    # A second file in the same session is hashed like the first (the same card gets the same code).
    at.file_uploader(key="f").set_value(("more.csv", df.head(5).to_csv(index=False).encode(), "text/csv")).run()
    again = at.dataframe[0].value
    assert again["card_number"].tolist() == shown["card_number"].head(5).tolist()

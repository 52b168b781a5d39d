"""The credit page on files as analysts export them (AppTest): a two-sheet workbook whose sheet is
picked, an outcome with three values whose other values are explained before training, a zip of
several tables, and a failed upload that keeps the file read before it."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def loans(n: int = 240, seed: int = 0) -> pd.DataFrame:
    """Applications with income, loan, region and a status of good / bad / unknown (60 / 30 / 10 %)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(40_000, 9_000, n).round(0), "loan": rng.integers(1_000, 20_000, n),
                         "region": rng.choice(["N", "S", "E"], n),
                         "status": rng.choice(["good", "bad", "unknown"], n, p=[0.6, 0.3, 0.1])})


def two_sheets(df: pd.DataFrame) -> bytes:
    """A workbook whose first sheet is a short list of notes and whose second holds ``df``."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["Loans exported in May", "Status: good / bad / unknown"]}).to_excel(
            xw, sheet_name="About", index=False)
        df.to_excel(xw, sheet_name="Loans", index=False)
    return buf.getvalue()


def _upload(name: str, content: bytes) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value((name, content, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return at


def _by_label(widgets, start: str):
    return next(w for w in widgets if w.label.startswith(start))


def test_second_sheet_three_valued_outcome_left_out_rows_and_training():
    df = loans()
    at = _upload("loans.xlsx", two_sheets(df))
    sheet = _by_label(at.selectbox, "Sheet")
    assert sheet.options == ["About", "Loans"] and sheet.value == "About"
    sheet.set_value("Loans").run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert _by_label(at.selectbox, "Outcome column").value == "status"
    assert _by_label(at.selectbox, "Value that means default").value == "bad"
    counts = next(d.value for d in at.dataframe if "Rows" in d.value.columns)
    assert dict(zip(counts["Value"], counts["Rows"])) == df["status"].value_counts().to_dict()
    assert not [b for b in at.button if b.label == "Train model"]  # nothing trains until the others are explained
    rest = _by_label(at.radio, "The values other than 'bad'")
    rest.set_value("some").run()
    assert _by_label(at.multiselect, "Values that mean repaid").value == ["good"]
    unknown = int((df["status"] == "unknown").sum())
    assert any(f"{unknown:,} rows are left out of training and testing (unknown: {unknown:,})" in c.value
               for c in at.caption)
    at.number_input(key=next(w.key for w in at.number_input if w.label.startswith("Epochs"))).set_value(1)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    run = at.session_state["credit.run"]
    assert len(run.train_df) + len(run.test_df) == len(df) - unknown
    assert int(run.y_train.sum() + run.y_test.sum()) == int((df["status"] == "bad").sum())


def test_counting_every_other_value_as_repaid_keeps_every_row():
    df = loans(seed=1)
    at = _upload("loans.csv", df.to_csv(index=False).encode())
    _by_label(at.radio, "The values other than 'bad'").set_value("all").run()
    assert not [c for c in at.caption if "left out of training" in c.value]
    assert [b for b in at.button if b.label == "Train model"]


def test_zip_of_several_tables_asks_which_then_reads_it():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("2023.csv", loans(50).to_csv(index=False))
        zf.writestr("2024.csv", loans(70).to_csv(index=False))
    at = _upload("export.zip", buf.getvalue())
    assert any("This zip holds 2 tables" in i.value for i in at.info)
    pick = _by_label(at.selectbox, "Table in the zip")
    assert pick.options == ["2023.csv", "2024.csv"] and pick.value is None
    pick.set_value("2024.csv").run()
    assert any("70 rows × 4 columns" in c.value for c in at.caption)


def test_a_failed_upload_keeps_the_file_read_before_it():
    at = _upload("good.csv", loans(60).to_csv(index=False).encode())
    assert any("60 rows × 4 columns" in c.value for c in at.caption)
    at.file_uploader(key="credit.upload").set_value(("broken.xlsx", b"PK\x03\x04broken", "application/octet-stream")).run()
    assert not at.exception
    assert any("cannot be opened" in e.value or "not a readable" in e.value for e in at.error), [e.value for e in at.error]
    assert any("'broken.xlsx' was not loaded. The page keeps using 'good.csv' (60 rows)" in w.value for w in at.warning)
    assert any("60 rows × 4 columns" in c.value for c in at.caption)  # the data is still on the page

"""Files as analysts export them: no header row, missing-value markers, any extension, tables in a
zip, Excel workbooks. Every file is generated here (each test's docstring says how); nothing is
read from disk but what the test writes."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.data.archivefile import TableChoiceNeeded
from core.data.datasets import read_table
from core.data.tablestream import iter_table_chunks
from core.errors import DataValidationError
from core.data.tablefile import has_header


def uci_rows(n: int = 60, seed: int = 0) -> str:
    """A UCI-style credit file: no header, letters and numbers mixed, '?' for missing, '+'/'-' outcome
    in the last of 9 columns (the layout of crx.data)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        a = "?" if i % 17 == 3 else rng.choice(["a", "b"])
        out.append(f"{a},{rng.normal(30, 8):.2f},{rng.gamma(2, 2):.3f},{rng.choice(['u', 'y'])},"
                   f"{int(rng.integers(0, 20))},{rng.choice(['t', 'f'])},{int(rng.integers(0, 900)):05d},"
                   f"{'?' if i % 23 == 5 else int(rng.integers(0, 5000))},{'+' if i % 3 else '-'}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- header or data
def test_a_uci_data_file_without_header_is_read_as_data_with_numbered_columns():
    """Generator: ``uci_rows`` (60 rows, 9 columns, the first row holds values; its letters repeat)."""
    raw = uci_rows().encode()
    t = read_table(raw, name="crx.data")
    assert list(t.df.columns) == [f"column_{i}" for i in range(1, 10)]
    assert len(t.df) == 60  # the first row is a row, not names
    assert t.df["column_2"].dtype.kind == "f" and t.df["column_8"].dtype.kind == "f"  # '?' did not make text
    assert t.df["column_1"].isna().sum() == 4 and t.df["column_8"].isna().sum() == 3
    assert set(t.df["column_9"]) == {"+", "-"}  # the outcome keeps its '-'
    assert any("read as data" in n and "column_9" in n for n in t.notices)
    assert any("'?' read as missing: 7 cell(s) in 2 column(s)" in n for n in t.notices)


@pytest.mark.parametrize("header", [
    "region,income,default",          # names over a word column and numbers
    "id,2019,2020,2021,region,default",  # some names numeric-looking, one over numbers
    "0,1,2",                          # numbered names over words and numbers
    "x_1,x_2,x_3",                    # every column numeric, words on top
])
def test_a_real_header_stays_a_header(header):
    """Generator: a header line over rows of a word column and number columns (one per name)."""
    names = header.split(",")
    rows = []
    for i in range(30):
        cells = [str(i * 3 + j) if j else ("North" if i % 2 else "South") for j in range(len(names))]
        if names[0] == "x_1" or names[0] == "id":
            cells[0] = f"A{i}" if names[0] == "id" else str(i)
        rows.append(",".join(cells))
    t = read_table((header + "\n" + "\n".join(rows)).encode(), name="h.csv")
    assert list(t.df.columns) == names and len(t.df) == 30


def test_rows_counting_up_stay_a_header_and_a_first_row_of_numbers_is_data():
    """Generator: '2019,2020,2021' over numbers (a header), and '5,7,9' over numbers (data)."""
    body = "\n".join(f"{i},{i * 2},{i * 3}" for i in range(1, 40))
    assert list(read_table(f"2019,2020,2021\n{body}".encode(), name="y.csv").df.columns) == ["2019", "2020", "2021"]
    t = read_table(f"5,7,9\n{body}".encode(), name="n.csv")
    assert list(t.df.columns) == ["column_1", "column_2", "column_3"] and len(t.df) == 40


def test_duplicate_header_names_keep_their_message_and_a_headerless_file_with_repeats_is_read():
    """Generator: a header 'a,b,a,default' over numbers (duplicate names), and a headerless file whose
    first row repeats values ('t,t,0,0') as the UCI files do."""
    with pytest.raises(DataValidationError, match=r"Column names must be unique; 'd\.csv' repeats \['a'\]"):
        read_table(b"a,b,a,default\n1,2,3,0\n4,5,6,1\n", name="d.csv")
    t = read_table(b"t,t,0,0,+\nf,t,1,0,-\nt,f,2,3,+\n", name="r.data")
    assert list(t.df.columns) == [f"column_{i}" for i in range(1, 6)] and len(t.df) == 3


def test_has_header_on_typed_cells():
    """Generator: rows as a workbook gives them (numbers, dates and words as Python values)."""
    d = dt.datetime(2024, 1, 1)
    assert has_header([["date", "units"], [d, 3], [d, 4]])
    assert not has_header([[d, 3], [d, 4], [d, 5]])
    assert has_header([["only", "words"], ["a", "b"]])  # nothing shows the first row is data


# ---------------------------------------------------------------- missing markers and extensions
def test_missing_markers_and_a_column_of_signs():
    """Generator: a CSV whose numeric column holds '?', 'NA', 'n/a', '-' and blanks, a word column
    with '-' and a +/- outcome column."""
    raw = b"income,region,outcome\n1200,North,+\n?,-,-\nNA,South,+\nn/a,North,-\n-,South,+\n,North,-\n900,South,+\n"
    t = read_table(raw, name="m.csv")
    assert t.df["income"].tolist()[:1] == [1200.0] and t.df["income"].isna().sum() == 5
    assert t.df["region"].isna().sum() == 1
    assert t.df["outcome"].tolist() == ["+", "-", "+", "-", "+", "-", "+"]


@pytest.mark.parametrize("name", ["loans.data", "loans.txt", "loans.tsv", "loans", "loans.dat", "loans.xyz"])
def test_any_extension_is_read_by_content(name):
    """Generator: the same tab-separated table under six names."""
    raw = b"income\tdefault\n1200\t0\n900\t1\n1500\t0\n"
    assert read_table(raw, name=name).df.shape == (3, 2)


# ---------------------------------------------------------------- zip
def zipped(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (path -> bytes) as zipfile writes it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for k, v in entries.items():
            zf.writestr(k, v)
    return buf.getvalue()


CSV = b"income,default\n1200,0\n900,1\n1500,0\n"


def test_a_zip_of_one_table_is_read_and_documentation_beside_it_is_left_out():
    """Generator: train.csv zipped with a README.txt, a .names file and macOS clutter."""
    raw = zipped({"data/train.csv": CSV, "README.txt": b"about", "crx.names": b"names",
                  "__MACOSX/data/._train.csv": b"\x00\x05"})
    t = read_table(raw, name="train.csv.zip")
    assert t.df.shape == (3, 2) and t.member == "data/train.csv" and t.members == ["data/train.csv"]
    assert any("Read 'data/train.csv' from the zip" in n for n in t.notices)
    assert any("Left out 2 other file(s)" in n for n in t.notices)


def test_a_zip_of_several_tables_needs_one_named():
    """Generator: a zip of train.csv, test.csv and a gzip CSV."""
    raw = zipped({"train.csv": CSV, "test.csv": CSV.replace(b"1200", b"1300"), "old.csv.gz": gzip.compress(CSV)})
    with pytest.raises(TableChoiceNeeded, match=r"holds 3 tables: \['train\.csv', 'test\.csv', 'old\.csv\.gz'\]"
                                                r".*Fix: name one of these \(command line: --member NAME") as exc:
        read_table(raw, name="all.zip")
    assert exc.value.options == ["train.csv", "test.csv", "old.csv.gz"]
    assert read_table(raw, name="all.zip", member="test.csv").df["income"].iloc[0] == 1300
    assert read_table(raw, name="all.zip", member="OLD.csv.gz").df.shape == (3, 2)
    with pytest.raises(DataValidationError, match=r"has no table named 'nope\.csv'; its tables are .*Fix: pass one"):
        read_table(raw, name="all.zip", member="nope.csv")


@pytest.mark.parametrize("entries, match", [
    ({"../evil.csv": CSV}, "points outside the archive.*Re-create the zip from the folder of tables"),
    ({"README.md": b"x"}, r"holds no table: expected a CSV, Excel or Parquet file inside; found \['README\.md'\]"),
    ({"inner.zip": zipped({"a.csv": CSV})}, "is a zip inside the zip 'outer.zip'.*Fix: unzip"),
    ({}, "holds no table"),
])
def test_bad_zips_are_refused_with_the_reason(entries, match):
    """Generator: zips with a path leaving the archive, only documentation, a zip inside, nothing."""
    with pytest.raises(DataValidationError, match=match):
        read_table(zipped(entries), name="outer.zip")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    """Generator: 4 MB of one repeated CSV line deflated to a few KB, read under a 1 MB limit."""
    import core.data.datasets as ds

    monkeypatch.setattr(ds, "MAX_UNPACKED_BYTES", 1024 * 1024)
    bomb = zipped({"big.csv": b"a,b\n" + b"0,0\n" * 1_000_000})
    assert len(bomb) < 50_000
    with pytest.raises(DataValidationError, match=r"'big\.csv' in 'bomb\.zip' unpacks to 4 MB .*expected a table of "
                                                  r"at most 1 MB\. Fix: upload a smaller extract"):
        ds.read_table(bomb, name="bomb.zip")


def test_a_zip_that_lies_about_its_size_or_is_encrypted_or_cut_is_refused():
    """Generator: a stored zip entry whose declared size is patched smaller than its data; a zip
    whose entry carries the encryption flag; a zip of 2,000 random numbers cut after 5,000 bytes."""
    raw = bytearray(zipped({"a.csv": CSV * 100}, compression=zipfile.ZIP_STORED))
    zf = zipfile.ZipFile(io.BytesIO(bytes(raw)))
    info = zf.infolist()[0]
    central = bytes(raw).rindex(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    with pytest.raises(DataValidationError, match=r"is damaged and cannot be unpacked.*Fix: download or compress"):
        read_table(bytes(raw), name="liar.zip")
    enc = bytearray(zipped({"a.csv": CSV}))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = bytes(enc).index(sig)
        flag_at = at + (6 if sig == b"PK\x03\x04" else 8)
        enc[flag_at] |= 0x1
    with pytest.raises(DataValidationError, match="password-protected; expected an unencrypted zip"):
        read_table(bytes(enc), name="locked.zip")
    assert info.file_size == len(CSV) * 100
    with pytest.raises(DataValidationError, match="cannot be opened.*Fix: download or compress it again"):
        noisy = "\n".join(f"{v:.6f}" for v in np.random.default_rng(0).random(2000)).encode()
        read_table(zipped({"a.csv": b"x\n" + noisy})[:5000], name="cut.zip")


def test_member_and_sheet_options_on_files_that_have_none_are_refused():
    """Generator: a plain CSV read with a zip member or a sheet named."""
    with pytest.raises(DataValidationError, match="'x.csv' is a text table; expected one of zip archives. Fix: leave out --member"):
        read_table(CSV, name="x.csv", member="a.csv")
    with pytest.raises(DataValidationError, match="expected one of Excel workbooks. Fix: leave out --sheet"):
        read_table(CSV, name="x.csv", sheet="Sheet1")


# ---------------------------------------------------------------- Excel
def workbook(sheets: dict[str, list[list]], *, merge: dict[str, list[str]] | None = None) -> bytes:
    """An .xlsx written by openpyxl: one sheet per entry, rows as given (None for an empty cell),
    ``merge`` cell ranges per sheet (a title merged across the table)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is not None:
                    ws.cell(row=r, column=c, value=v)
        for rng in (merge or {}).get(title, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def quirky_sheet(n: int = 8) -> list[list]:
    """A sheet as people make them: a merged title, a date line, a blank row, the header on row 4
    starting in column B with an empty spacer column, numbers stored as text, Excel dates, an error
    cell, a blank row inside, a note under the table."""
    rows = [["Loan book 2024"], ["exported 2024-05-01"], [], [None, "applicant", "income", None, "opened", "status",
                                                               "score"]]
    for i in range(n):
        rows.append([None, f"A{i}", f"{1000 * i + 500:,}" if i % 2 else 1000 * i, None, dt.datetime(2024, 1, i + 1),
                     ["good", "bad", "unknown"][i % 3], "#N/A" if i == 2 else i * 1.5])
        if i == 4:
            rows.append([])
    rows += [[], [None, "Source: the bank's ledger"]]
    return rows


def test_a_workbook_with_excel_quirks_is_read_as_its_table():
    """Generator: ``workbook`` with ``quirky_sheet`` (title merged over A1:G1) and a second sheet."""
    raw = workbook({"Loans": quirky_sheet(), "Raw": [["a", "b"], [1, 2]]}, merge={"Loans": ["A1:G1"]})
    t = read_table(raw, name="book.xlsx")
    df = t.df
    assert t.sheet == "Loans" and t.sheets == ["Loans", "Raw"]
    assert list(df.columns) == ["applicant", "income", "opened", "status", "score"]
    assert len(df) == 8
    assert df["income"].dtype.kind in "if" and df["income"].tolist()[:2] == [0, 1500]  # '1,500' stored as text
    assert pd.api.types.is_datetime64_any_dtype(df["opened"]) and df["opened"].iloc[3] == pd.Timestamp("2024-01-04")
    assert df["score"].isna().sum() == 1 and df["score"].dtype.kind == "f"
    notes = " ".join(t.notices)
    for said in ("Read the sheet 'Loans' of 2", "Left out 3 row(s) above the table", "(a title or notes: 'Loan book 2024')",
                 "Left out 1 row(s) below the table", "Left out 2 empty column(s) without a name",
                 "'#N/A' read as missing: 1 cell(s)", "Numbers stored as text read as numbers in 1 column(s): 'income' (4)"):
        assert said in notes, (said, notes)
    assert read_table(raw, name="book.xlsx", sheet="raw").df.to_dict("list") == {"a": [1], "b": [2]}


def test_a_cover_sheet_is_passed_over_and_an_empty_sheet_says_which_others_there_are():
    """Generator: a workbook whose first sheet holds one note, then the table; and an empty sheet."""
    raw = workbook({"About": [["This workbook holds loans"]], "Data": [["x", "y"], [1, 2], [3, 4]], "Empty": []})
    t = read_table(raw, name="b.xlsx")
    assert t.sheet == "Data" and len(t.df) == 2
    with pytest.raises(DataValidationError, match=r"The sheet 'Empty' of 'b\.xlsx' is empty.*Fix: pick a sheet with "
                                                  r"data \('About', 'Data', 'Empty'\)") as exc:
        read_table(raw, name="b.xlsx", sheet="Empty")
    assert exc.value.sheets == ["About", "Data", "Empty"] and exc.value.sheet == "Empty"
    with pytest.raises(DataValidationError, match=r"has no sheet named 'Nope'; its sheets are .*Fix: pass one"):
        read_table(raw, name="b.xlsx", sheet="Nope")


def test_a_sheet_without_header_and_one_with_repeated_names():
    """Generator: a sheet of numbers only (no header row) and one whose header repeats a name."""
    t = read_table(workbook({"S": [[1, 2.5, "x"], [2, 3.5, "y"], [3, 4.5, "x"]]}), name="n.xlsx")
    assert list(t.df.columns) == ["column_1", "column_2", "column_3"] and len(t.df) == 3
    with pytest.raises(DataValidationError, match=r"Column names must be unique; 'd\.xlsx' repeats \['a'\]"):
        read_table(workbook({"S": [["a", "a"], [1, 2]]}), name="d.xlsx")


def test_an_xls_workbook_is_read_with_its_dates():
    """Generator: xlwt writes an .xls with a title row, a header, numbers, dates and words."""
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Loans")
    ws.write(0, 0, "Loan book")
    for j, h in enumerate(["id", "amount", "opened", "status"]):
        ws.write(2, j, h)
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for i in range(5):
        ws.write(3 + i, 0, i)
        ws.write(3 + i, 1, 1000.5 * i)
        ws.write(3 + i, 2, dt.date(2024, 1, i + 1), date)
        ws.write(3 + i, 3, ["good", "bad"][i % 2])
    buf = io.BytesIO()
    wb.save(buf)
    t = read_table(buf.getvalue(), name="loans.xls")
    assert list(t.df.columns) == ["id", "amount", "opened", "status"] and len(t.df) == 5
    assert t.df["id"].tolist() == [0, 1, 2, 3, 4] and t.df["opened"].iloc[2] == pd.Timestamp("2024-01-03")


@pytest.mark.parametrize("make, match", [
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64,
     r"is protected with a password.*Fix: open it in Excel, remove the password"),
    (lambda: zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
     r"is not a readable Excel workbook \(.*\)\. Expected a complete \.xlsx.*Fix: open it in Excel and save it again"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, r"is not a readable Excel workbook"),
    (lambda: zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x00"}), r"Excel binary workbook \(\.xlsb\)"),
    (lambda: zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}, compression=zipfile.ZIP_STORED),
     r"OpenDocument spreadsheet \(\.ods\).*Fix: save it as \.xlsx or CSV"),
])
def test_unreadable_workbooks_say_why(make, match):
    """Generator: an OLE2 container holding an 'EncryptedPackage' stream (what Excel writes for an
    .xlsx with a password), a zip with the workbook parts but broken XML, an empty OLE2 container,
    an .xlsb's parts, an .ods's mimetype entry."""
    with pytest.raises(DataValidationError, match=match):
        read_table(make(), name="book.xlsx")


def test_a_truncated_xlsx_is_refused():
    """Generator: a valid .xlsx cut to its first half."""
    raw = workbook({"S": [["a", "b"]] + [[i, i * 2] for i in range(200)]})
    with pytest.raises(DataValidationError, match="is not a readable Excel workbook"):
        read_table(raw[: len(raw) // 2], name="cut.xlsx")


# ---------------------------------------------------------------- the chunked reader and the block reader
def test_chunked_reader_reads_zips_workbooks_and_headerless_files(tmp_path):
    """Generator: a 2,500-row CSV written plain without header, zipped, zipped with a second table,
    gzipped inside a zip, and as a two-sheet workbook."""
    df = pd.DataFrame({"income": np.arange(2500) * 1.5, "region": ["N", "S"] * 1250, "default": [0, 1] * 1250})
    text = df.to_csv(index=False).encode()
    cases = {"plain.data": df.to_csv(index=False, header=False).encode(), "one.zip": zipped({"t.csv": text}),
             "gz.zip": zipped({"t.csv.gz": gzip.compress(text)}),
             "book.xlsx": workbook({"Notes": [["about"]], "T": [list(df.columns), *df.values.tolist()]})}
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        chunks = list(iter_table_chunks(tmp_path / name, chunk_size=1000))
        assert [len(c) for c in chunks] == [1000, 1000, 500], name
        whole = pd.concat(chunks, ignore_index=True)
        assert whole.iloc[:, 0].sum() == df["income"].sum(), name
        assert chunks[0].attrs["read_notices"], name  # the member, the sheet or the missing header is said
    (tmp_path / "two.zip").write_bytes(zipped({"a.csv": text, "b.csv": text}))
    with pytest.raises(TableChoiceNeeded, match="holds 2 tables"):
        list(iter_table_chunks(tmp_path / "two.zip"))
    assert sum(len(c) for c in iter_table_chunks(tmp_path / "two.zip", member="b.csv")) == 2500


def test_block_reader_names_headerless_columns_as_the_whole_file_reader(tmp_path):
    """Generator: a 3,000-row headerless CSV with '?' markers, cut into blocks of 700 rows."""
    from core.scale.inputs import block_notices, plan_blocks, read_block

    rng = np.random.default_rng(1)
    lines = [f"{rng.normal():.3f},{'?' if i % 50 == 0 else int(rng.integers(0, 9))},{'+' if i % 3 else '-'}"
             for i in range(3000)]
    p = tmp_path / "h.data"
    p.write_text("\n".join(lines) + "\n")
    blocks = list(plan_blocks([p], chunk_size=700))
    parts = [read_block(b) for b in blocks]
    assert [len(x) for x in parts] == [700, 700, 700, 700, 200]
    whole = read_table(p, max_rows=None).df
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole, check_dtype=False)
    assert "column_3" in block_notices(blocks[0])[0]


# ---------------------------------------------------------------- the remaining refusals
def test_a_zip_of_too_many_entries_and_a_workbook_over_the_size_limit(monkeypatch):
    """Generator: a zip of 5 small CSVs read with an entry limit of 3; a workbook read with a
    20 KB unpacked-size limit."""
    from dataclasses import replace

    import core.data.archivefile as af
    import core.data.datasets as ds

    monkeypatch.setattr(af, "TABLE_LIMITS", replace(af.TABLE_LIMITS, max_entries=3))
    with pytest.raises(DataValidationError, match=r"has 5 entries; expected at most 3 in a zip of tables\. Fix: zip only"):
        read_table(zipped({f"t{i}.csv": CSV for i in range(5)}), name="many.zip")
    monkeypatch.setattr(ds, "MAX_UNPACKED_BYTES", 20_000)
    raw = workbook({"S": [["a", "b"]] + [[i, f"text {i}"] for i in range(2000)]})
    with pytest.raises(DataValidationError, match=r"'big\.xlsx' unpacks to \d+ MB .*expected a workbook of at most 0 MB"):
        read_table(raw, name="big.xlsx")


def test_a_sheet_of_names_only_and_a_workbook_without_worksheets(monkeypatch):
    """Generator: a sheet holding a header row and nothing under it; a workbook reader that finds no
    worksheet (what a workbook of chart sheets only gives)."""
    import core.data.excel as ex

    with pytest.raises(DataValidationError, match=r"The sheet 'S' of 'h\.xlsx' has column names but no data rows"):
        read_table(workbook({"S": [["a", "b"]]}), name="h.xlsx")
    monkeypatch.setattr(ex, "_xlsx", lambda raw, name, limit: ([], None))
    with pytest.raises(DataValidationError, match=r"has no worksheets \(only charts, or none\).*Fix: add the data"):
        read_table(workbook({"S": [["a"], [1]]}), name="charts.xlsx")


def test_chunked_reader_refusals(tmp_path):
    """Generator: a CSV streamed with a member or a sheet named; a stored zip whose CSV has the digits of 100 bytes past its first 64 KB changed."""
    (tmp_path / "x.csv").write_bytes(CSV)
    with pytest.raises(DataValidationError, match="'x.csv' is not a zip archive. Fix: leave out --member"):
        list(iter_table_chunks(tmp_path / "x.csv", member="a.csv"))
    with pytest.raises(DataValidationError, match="'x.csv' is not an Excel workbook. Fix: leave out --sheet"):
        list(iter_table_chunks(tmp_path / "x.csv", sheet="S"))
    noisy = "\n".join(f"{v:.6f},{v * 2:.6f}" for v in np.random.default_rng(0).random(40_000)).encode()
    raw = bytearray(zipped({"n.csv": b"a,b\n" + noisy}, compression=zipfile.ZIP_STORED))
    raw[300_000:300_100] = bytes(b if b in b",.\n" else ord("7") for b in raw[300_000:300_100])  # digits changed:
    # the rows still parse, but the checksum at the end of the entry no longer matches
    (tmp_path / "bad.zip").write_bytes(bytes(raw))
    with pytest.raises(DataValidationError, match=r"(damaged|cannot be unpacked).*Fix: compress the file again"):
        list(iter_table_chunks(tmp_path / "bad.zip", chunk_size=5000))


def test_a_parquet_file_or_workbook_inside_a_zip_is_streamed_in_chunks(tmp_path):
    """Generator: a 2,100-row frame written as Parquet and as a workbook, each zipped alone."""
    df = pd.DataFrame({"x": np.arange(2100), "y": ["a", "b", "c"] * 700})
    pq = io.BytesIO()
    df.to_parquet(pq)
    (tmp_path / "p.zip").write_bytes(zipped({"t.parquet": pq.getvalue()}))
    (tmp_path / "w.zip").write_bytes(zipped({"t.xlsx": workbook({"S": [list(df.columns), *df.values.tolist()]})}))
    for name in ("p.zip", "w.zip"):
        chunks = list(iter_table_chunks(tmp_path / name, chunk_size=1000))
        assert [len(c) for c in chunks] == [1000, 1000, 100] and pd.concat(chunks)["x"].sum() == df["x"].sum()

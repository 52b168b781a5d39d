"""The command line on files as analysts export them: a zip of several tables (--member), a
workbook of several sheets (--sheet), an outcome with three values (--positive / --negative), and
those flags where they do not apply. Files are generated from the sample's applications."""

import io
import json
import zipfile

import pandas as pd
import pytest

from core.cli import main


def _json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def _xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook written by pandas through openpyxl, one sheet per frame."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory, small_df):
    """train/score files: a zip of two CSVs, a two-sheet workbook, a CSV with good / bad / unknown."""
    d = tmp_path_factory.mktemp("formats")
    df = small_df.head(800)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2023/applications.csv", df.head(300).to_csv(index=False))
        zf.writestr("2024/applications.csv", df.to_csv(index=False))
    (d / "export.zip").write_bytes(buf.getvalue())
    (d / "book.xlsx").write_bytes(_xlsx({"Notes": pd.DataFrame({"note": ["applications, May"]}),
                                         "Applications": df}))
    status = df["default"].map({1: "bad", 0: "good"}).where(df.index % 10 != 0, "unknown")
    df.assign(default=status).to_csv(d / "three.csv", index=False)
    return d


def test_a_zip_of_several_tables_stops_listing_them_then_trains_on_the_member(files, capsys):
    args = ["train", "--scenario", "credit", "--data", str(files / "export.zip"), "--epochs", "1", "--no-explain",
            "--json"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "holds 2 tables: ['2023/applications.csv', '2024/applications.csv']" in err and "--member NAME" in err
    assert main([*args, "--member", "2024/applications.csv"]) == 0
    out = _json(capsys.readouterr().out)
    assert out["data"]["rows"] == 800
    assert "Read '2024/applications.csv' from the zip 'export.zip'." in out["data"]["notices"]


def test_a_workbook_sheet_is_trained_on_and_scored(files, capsys, tmp_path):
    code = main(["train", "--scenario", "credit", "--data", str(files / "book.xlsx"), "--sheet", "Applications",
                 "--epochs", "1", "--no-explain", "--json", "--save", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    assert _json(capsys.readouterr().out)["data"]["rows"] == 800
    score = ["score", "--model", str(tmp_path / "run"), "--data", str(files / "book.xlsx"),
             "--out", str(tmp_path / "scored.csv"), "--json", "--quiet"]
    assert main(score) == 1  # the first sheet, a note, is not the applications
    assert "The file does not match the model" in capsys.readouterr().err
    assert main([*score, "--sheet", "applications"]) == 0
    out = _json(capsys.readouterr().out)
    assert out["rows"] == 800
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 800


def test_three_outcome_values_need_the_negative_ones_named(files, capsys):
    args = ["train", "--scenario", "credit", "--data", str(files / "three.csv"), "--target", "default",
            "--positive", "bad", "--epochs", "1", "--no-explain", "--json"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "must have two values; got 3: 'bad' (" in err and "'unknown' (80)" in err and "--negative" in err
    assert main([*args, "--negative", "good"]) == 0
    captured = capsys.readouterr()
    out = _json(captured.out)
    assert out["data"]["rows"] == 720 and out["data"]["positive"] == "bad"
    assert "Left out 80 row(s) whose 'default' is neither 'bad' (positive) nor 'good' (negative)" in captured.err
    assert main([*args, "--negative", "good,unknown"]) == 0
    assert _json(capsys.readouterr().out)["data"]["rows"] == 800


@pytest.mark.parametrize("extra, match", [
    (["--sheet", "Applications"], "'three.csv' is a text table; expected one of Excel workbooks. Fix: leave out --sheet"),
    (["--member", "x.csv"], "expected one of zip archives. Fix: leave out --member"),
])
def test_member_and_sheet_where_they_do_not_apply(files, capsys, extra, match):
    assert main(["train", "--scenario", "credit", "--data", str(files / "three.csv"), "--epochs", "1", *extra]) == 1
    assert match in capsys.readouterr().err


def test_member_and_sheet_are_refused_for_images(tmp_path, capsys):
    assert main(["train", "--scenario", "quality", "--data", str(tmp_path), "--sheet", "x"]) == 1
    assert "--sheet name a table in a zip or workbook, but the quality scenario reads images" in capsys.readouterr().err


def test_the_test_file_has_its_own_member_and_sheet_flags(files, capsys):
    args = ["train", "--scenario", "credit", "--data", str(files / "book.xlsx"), "--sheet", "Applications",
            "--epochs", "1", "--no-explain", "--json"]
    assert main([*args, "--test-data", str(files / "export.zip")]) == 1
    err = capsys.readouterr().err
    assert "--test-data: 'export.zip' holds 2 tables" in err and "--test-member NAME" in err
    assert "--member NAME" not in err
    assert main([*args, "--test-data", str(files / "book.xlsx")]) == 1  # its first sheet holds a note
    err = capsys.readouterr().err
    assert "--test-data: expected the column(s) ['default'] of --data; the table read from its sheet 'Notes'" in err
    assert "name the sheet holding the data with --test-sheet NAME" in err
    assert main([*args, "--test-data", str(files / "export.zip"), "--test-member", "2023/applications.csv"]) == 0
    captured = capsys.readouterr()
    assert _json(captured.out)["data"]["test_rows"] == 300
    assert "--test-data: Read '2023/applications.csv' from the zip 'export.zip'." in captured.err


@pytest.mark.parametrize("extra, match", [
    (["--test-member", "a.csv"], "--test-member name a table inside --test-data, but no --test-data was given"),
    (["--test-data", "{d}/three.csv", "--test-sheet", "x"],
     "--test-data: A sheet to read was named, but 'three.csv' is a text table; expected one of Excel workbooks. "
     "Fix: leave out --test-sheet"),
])
def test_test_flags_where_they_do_not_apply(files, capsys, extra, match):
    extra = [e.format(d=files) for e in extra]
    assert main(["train", "--scenario", "credit", "--data", str(files / "three.csv"), "--epochs", "1", *extra]) == 1
    assert match in capsys.readouterr().err


def test_test_flags_are_refused_for_images(tmp_path, capsys):
    assert main(["train", "--scenario", "quality", "--data", str(tmp_path), "--test-data", str(tmp_path),
                 "--test-member", "x"]) == 1
    assert "--test-member name a table in a zip or workbook, but the quality scenario reads images" in \
        capsys.readouterr().err

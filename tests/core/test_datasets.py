import gzip
import io

import numpy as np
import pandas as pd
import pytest

from core.data.datasets import (
    clean_features,
    detect_sensitive,
    infer_roles,
    is_row_number,
    read_table,
    row_number_notices,
    validate_binary_target,
)
from core.errors import DataValidationError


def test_reads_csv_semicolon_and_reports_nothing():
    t = read_table(b"a;b;c\n1;x;2.5\n2;y;3.5\n", name="semi.csv")
    assert list(t.df.columns) == ["a", "b", "c"]
    assert t.df["c"].tolist() == [2.5, 3.5]
    assert t.notices == []


def test_reads_gzip_and_parquet():
    raw = b"a,b\n1,2\n3,4\n"
    assert read_table(gzip.compress(raw), name="x.csv.gz").df.shape == (2, 2)
    buf = io.BytesIO()
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(buf)
    assert read_table(buf.getvalue(), name="x.parquet").df["a"].tolist() == [1, 2, 3]


def test_reads_windows_1252_text():
    t = read_table("name,v\nCaf\u00e9,1\n".encode("cp1252"), name="w.csv")
    assert t.df["name"].iloc[0] == "Caf\u00e9"


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"a,b,c\n", "no data rows"),
        (b"a,b,a\n1,2,3\n", r"repeats \['a'\]"),
        (b"\x00\x01\x02binary", "binary data"),
        (b"a,b\n1,2\n3,4,5,6\n", "same number of fields"),
    ],
)
def test_read_errors_say_what_is_wrong(raw, match):
    with pytest.raises(DataValidationError, match=match):
        read_table(raw, name="up.csv")


def test_unreadable_encoding():
    # 0x81 is undefined in Windows-1252 and invalid UTF-8.
    with pytest.raises(DataValidationError, match="neither UTF-8 nor Windows-1252"):
        read_table(b"a,b\n\x81\x8d,1\n", name="enc.csv")


def test_bad_parquet():
    with pytest.raises(DataValidationError, match="not a readable Parquet"):
        read_table(b"PAR1garbage", name="x.parquet")


def test_large_file_is_sampled_with_notice():
    raw = ("x\n" + "\n".join(str(i) for i in range(1000))).encode()
    t = read_table(raw, name="big.csv", max_rows=100, seed=1)
    assert len(t.df) == 100
    assert "1,000 rows" in t.notices[0] and "100" in t.notices[0]
    assert read_table(raw, name="big.csv", max_rows=100, seed=1).df.equals(t.df)


def test_infer_roles():
    n = 60
    df = pd.DataFrame({
        "customer_id": np.arange(n),
        "income": np.linspace(1, 2, n),
        "purpose": ["car", "home", "edu"] * 20,
        "opened": pd.date_range("2020-01-01", periods=n).astype(str),
        "comment": [f"free text comment number {i} about the applicant" for i in range(n)],
        "amount_text": [str(i) for i in range(n - 1)] + ["n/a"],
    })
    roles = infer_roles(df)
    assert roles == {
        "customer_id": "identifier", "income": "numeric", "purpose": "categorical",
        "opened": "date", "comment": "text", "amount_text": "numeric",
    }


def test_clean_features_coerces_junk_and_drops_useless_columns():
    df = pd.DataFrame({"x": ["1", "2", "abc", None], "empty": [None] * 4, "const": [5] * 4, "c": list("abab")})
    out, roles, notices = clean_features(df, {"x": "numeric", "empty": "numeric", "const": "numeric", "c": "categorical"})
    assert out["x"].tolist()[:2] == [1.0, 2.0] and np.isnan(out["x"].iloc[2])
    assert set(roles) == {"x", "c"}
    text = " ".join(notices)
    assert "1 value(s) are not numbers (e.g. 'abc')" in text
    assert "'empty' is empty in every row; dropped." in text
    assert "'const' has the same value in every row" in text


def test_detect_sensitive():
    assert detect_sensitive(["income", "sex", "Gender", "age_band", "marital_status", "purpose"]) == [
        "sex", "Gender", "age_band", "marital_status"]


def test_validate_binary_target_guesses_positive():
    df = pd.DataFrame({"t": ["good", "bad", "good"]})
    y, pos = validate_binary_target(df, "t")
    assert pos == "bad" and y.tolist() == [0, 1, 0]


def test_validate_binary_target_errors():
    df = pd.DataFrame({"t": ["no", "yes", "maybe"], "one": [1, 1, 1]})
    with pytest.raises(DataValidationError, match=r"must have two values; got 3: 'maybe' \(1 row\), 'no' \(1\), 'yes' \(1\)\. Pick the positive value"):
        validate_binary_target(df, "t")
    y, _ = validate_binary_target(df, "t", positive="yes")
    assert y.tolist() == [0, 1, 0]
    with pytest.raises(DataValidationError, match="is not in the data"):
        validate_binary_target(df, "missing")
    with pytest.raises(DataValidationError, match="has only one class"):
        validate_binary_target(df, "one")
    with pytest.raises(DataValidationError, match="does not occur"):
        validate_binary_target(df, "t", positive="perhaps")
    with pytest.raises(DataValidationError, match="is empty in 1 row"):
        validate_binary_target(pd.DataFrame({"t": [0, 1, None]}), "t")


def test_unnamed_leading_index_column_is_an_identifier_with_a_notice():
    # What DataFrame.to_csv writes by default: an empty header over the row numbers 1 .. n.
    n = 80
    body = "".join(f"{i},{i % 7},{(i * 37) % 101 / 10}\n" for i in range(1, n + 1))
    df = read_table((",target,x\n" + body).encode(), name="cs-training.csv").df
    assert df.columns[0] == "Unnamed: 0"
    roles = infer_roles(df)
    assert roles["Unnamed: 0"] == "identifier" and roles["x"] == "numeric"
    assert row_number_notices(df, roles) == [
        "'Unnamed: 0' holds row numbers (1 … 80, one per row), not data; kept out of the model as an identifier."]
    # An unnamed column from a small file is still a row number, whatever the count.
    small = read_table(b",a\n0,5\n1,6\n2,7\n", name="s.csv").df
    assert infer_roles(small)["Unnamed: 0"] == "identifier"


def test_plain_row_number_sequences_are_identifiers_and_measurements_are_not():
    rng = np.random.default_rng(0)
    n = 60
    df = pd.DataFrame({
        "row": rng.permutation(n),  # 0 .. n-1 in any order
        "seq": np.arange(1, n + 1, dtype=float),  # 1 .. n stored as floats
        "amount": rng.integers(100, 10_000, n),
        "gappy": np.arange(n) * 2,  # distinct integers, but not a row count
        "dup": np.r_[np.arange(n - 1), 0],  # a repeat: not one per row
    })
    roles = infer_roles(df)
    assert roles["row"] == roles["seq"] == "identifier"
    assert roles["amount"] == roles["gappy"] == roles["dup"] == "numeric"
    assert row_number_notices(df, {"amount": "identifier"}) == []  # only row numbers get the notice
    # In a table of 50 rows or fewer, a 1 .. n column may be a measurement, so it stays a feature.
    assert infer_roles(pd.DataFrame({"k": np.arange(1, 31)}))["k"] == "numeric"
    assert not is_row_number(pd.Series([1.0, 2.0, np.nan], name="Unnamed: 0"))


def test_numeric_column_with_many_values_is_no_outcome():
    import pandas as pd

    from core.data.datasets import check_outcome_column, validate_binary_target

    df = pd.DataFrame({"income": [1000.0 + 17 * i for i in range(30)], "grade": [i % 5 for i in range(30)]})
    with pytest.raises(DataValidationError, match=r"holds numbers with 30 different values .*Fix: pick the column"):
        check_outcome_column(df, "income")
    # Naming a 'positive' income does not make it an outcome either.
    with pytest.raises(DataValidationError, match="a yes/no outcome has two values"):
        validate_binary_target(df, "income", positive=1000.0)
    # A coded outcome with a few values is still offered (the analyst picks the positive one).
    assert check_outcome_column(df, "grade") == [0, 1, 2, 3, 4]

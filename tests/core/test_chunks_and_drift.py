"""Reading files in chunks (flat-memory batch scoring) and PSI counted chunk by chunk."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from core.data.datasets import read_table
from core.data.tablestream import iter_table_chunks
from core.data.drift import DriftAccumulator, build_profile, compare_to_profile
from core.errors import DataValidationError


def _frame(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(50, 10, n).round(2),
                         "region": rng.choice(["north", "south", "east"], n),
                         "note": ["caf\u00e9"] * n})


@pytest.mark.parametrize("suffix, sep", [(".csv", ","), (".csv", ";"), (".csv.gz", "\t"), (".parquet", None)])
def test_chunks_reassemble_the_whole_file(tmp_path, suffix, sep):
    df = _frame(1234)
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        text = df.to_csv(index=False, sep=sep)
        path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    chunks = list(iter_table_chunks(path, chunk_size=500))
    assert [len(c) for c in chunks] == [500, 500, 234]
    back = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(back, read_table(path, max_rows=None).df, check_dtype=False)
    assert back["note"].iloc[0] == "caf\u00e9"


def test_chunks_read_windows_1252_and_strip_a_utf8_bom(tmp_path):
    p = tmp_path / "w.csv"
    p.write_bytes("name,v\nCaf\u00e9,1\n".encode("cp1252"))
    assert next(iter_table_chunks(p))["name"].iloc[0] == "Caf\u00e9"
    b = tmp_path / "bom.csv"
    b.write_bytes(b"\xef\xbb\xbfname,v\nx,1\n")
    assert list(next(iter_table_chunks(b)).columns) == ["name", "v"]


@pytest.mark.parametrize("content, match", [
    (b"", "is empty"),
    (b"a,b\n", "no data rows"),
    (b"a,a\n1,2\n", "Column names must be unique"),
    (b"\x00\x01binary", "not a text table"),
])
def test_chunk_reader_errors_say_what_is_wrong(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(DataValidationError, match=match):
        list(iter_table_chunks(p))


def test_chunk_reader_missing_file_and_bad_chunk_size(tmp_path):
    with pytest.raises(DataValidationError, match="File not found"):
        list(iter_table_chunks(tmp_path / "nope.csv"))
    (tmp_path / "ok.csv").write_bytes(b"a\n1\n")
    with pytest.raises(DataValidationError, match="Chunk size must be at least 1"):
        list(iter_table_chunks(tmp_path / "ok.csv", chunk_size=0))


def test_chunk_reader_reports_a_ragged_row_past_the_first_chunk(tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("a,b\n" + "1,2\n" * 300 + "1,2,3,4\n")
    with pytest.raises(DataValidationError, match="every row has the same number of fields"):
        list(iter_table_chunks(p, chunk_size=100))


def test_drift_accumulated_over_chunks_equals_the_whole_file():
    train = _frame(3000, seed=0)
    profile = build_profile(train, numeric=["income"], categorical=["region"])
    new = _frame(2000, seed=1)
    new.loc[:700, "income"] += 15  # a shifted part
    new.loc[:100, "region"] = "west"  # a category unseen in training
    acc = DriftAccumulator(profile)
    for i in range(0, len(new), 300):
        acc.update(new.iloc[i:i + 300])
    whole = compare_to_profile(profile, new)
    pd.testing.assert_frame_equal(acc.result(), whole)
    assert acc.rows == 2000
    assert whole.set_index("variable").loc["income", "status"] == "shifted"
    same = compare_to_profile(profile, train).set_index("variable")
    assert (same["psi"] < 1e-6).all() and (same["status"] == "stable").all()

"""Row hashes: which rows of a file a model was trained on, by value, not by file."""

import numpy as np
import pandas as pd

from core.data.rowhash import compute_row_hashes, count_overlap, hashes_to_bytes, load_hashes


def test_same_rows_hash_alike_whatever_their_types(tmp_path):
    train = pd.DataFrame({"income": [1200.0, 3400.5, np.nan, 50.0], "purpose": ["car", "home", "car", None],
                          "n": [1, 2, 3, 4]})
    # The same values as a CSV would bring them back: strings, ints, padded text, other column order.
    new = pd.DataFrame({"n": ["3", "9", "1", "2"], "purpose": [" car", "car", "car", "home"],
                        "income": ["", "1200", "1200", "3400.5"], "extra": [0, 0, 0, 0]})
    cols = ["income", "purpose", "n"]
    path = tmp_path / "h.npy"
    path.write_bytes(hashes_to_bytes(compute_row_hashes(train, cols)))
    saved = load_hashes(path)
    assert saved.dtype == np.uint64 and len(saved) == 4
    # Rows 0 (= train row 2), 2 (= train row 0) and 3 (= train row 1) are training rows; row 1 is not.
    assert count_overlap(saved, new, cols) == 3
    assert count_overlap(saved, new.iloc[[1]], cols) == 0
    # A changed value is a different row.
    changed = new.copy()
    changed.loc[3, "income"] = "3400.6"
    assert count_overlap(saved, changed, cols) == 2


def test_no_hashes_or_a_bad_file_count_nothing(tmp_path):
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not an array")
    assert load_hashes(bad) is None and load_hashes(tmp_path / "missing.npy") is None
    assert count_overlap(None, pd.DataFrame({"a": [1]}), ["a"]) == 0
    assert len(compute_row_hashes(pd.DataFrame({"a": []}), ["a"])) == 0


def test_a_junk_value_elsewhere_in_the_column_does_not_hide_matching_rows():
    train = pd.DataFrame({"x": [1.0, 2.0]})
    new = pd.DataFrame({"x": ["1", "abc", "2.0"]})
    saved = compute_row_hashes(train, ["x"])
    assert count_overlap(saved, new, ["x"]) == 2

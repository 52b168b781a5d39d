"""``core.data.columncheck``'s check of a file's or a request's values: a value counts as unreadable only when it
is there (not missing, not blank) and cannot be read as the column's kind; a column whose values all read skips
the pass over its text."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.columncheck import CATEGORY, DATE, NUMBER, _unreadable


@pytest.mark.parametrize("kind, values, unreadable", [
    (DATE, ["2025-05-01 13:45:07"], [False]),  # a fraud request's time: every value reads
    (DATE, ["2025-05-01", None, "  ", "not a date"], [False, False, False, True]),
    (DATE, ["", None], [False, False]),  # nothing read, nothing there
    (NUMBER, ["1,200", "x", None, " ", "3.5"], [False, True, False, False, False]),
    (NUMBER, ["12", "3.5"], [False, False]),
    (CATEGORY, ["a", None], [False, False]),
])
def test_only_present_values_that_do_not_read_are_unreadable(kind, values, unreadable):
    s = pd.Series(values, dtype=object, index=range(10, 10 + len(values)))
    got = _unreadable(s, kind)
    assert got.tolist() == unreadable and got.index.equals(s.index) and got.dtype == bool


def test_a_column_whose_values_all_read_skips_the_text_pass(monkeypatch):
    calls = []
    real = pd.Series.astype

    def astype(self, dtype, *a, **kw):
        calls.append(dtype)
        return real(self, dtype, *a, **kw)

    monkeypatch.setattr(pd.Series, "astype", astype)
    assert not _unreadable(pd.Series(["2025-05-01 13:45:07", "2025-05-02"], dtype=object), DATE).any()
    assert str not in calls  # no values as text
    assert _unreadable(pd.Series(["2025-05-01", "soon"], dtype=object), DATE).tolist() == [False, True]
    assert str in calls  # a value not read: the text pass tells a blank from an unreadable value

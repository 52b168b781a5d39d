"""Property-based hostile input: Hypothesis builds CSV uploads and zip archives from random pieces
(delimiters, encodings, quoting, line endings, NaN / inf / huge numbers, dates in many formats,
duplicate and empty headers, control characters, long cells, thousands of columns, cut-off bytes;
nested zips, traversal paths, symlinks, high-ratio members, renamed and truncated images) and runs
each through every loader of its scenario and the Score page's column check. The property: a clean
result or a clear ``DataValidationError``, never another exception.

Settings are small and derandomised, so the run is the same every time and stays short.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import stat
import zipfile

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hardening import catalogue as C
from tests.hardening import pipelines as P

# HARDENING_EXAMPLES / HARDENING_EXPLORE=1 widen a one-off local search; the suite runs the fixed 20.
SETTINGS = settings(derandomize=not os.environ.get("HARDENING_EXPLORE"),
                    max_examples=int(os.environ.get("HARDENING_EXAMPLES", "20")), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

DATES = ["2024-03-01", "01/03/2024", "03/01/2024", "1.3.2024", "20240301", "Mar 1, 2024", "2024-03-01T10:00:00Z",
         "2024-03-01T10:00:00+05:30", "2024-W09-5", "9999-12-31", "0000-00-00", "1970-01-01 00:00:00.123456789"]
SPECIAL_CELLS = ["NaN", "nan", "inf", "-inf", "Infinity", "1e308", "1e400", "-1e400", str(10 ** 30), "9" * 300,
                 "-0", "", " ", "NULL", "N/A", "?", "-", "\x01\x02", "\x1b[2J", "a\nb", 'he said "hi"', "a,b;c|d\te",
                 '=HYPERLINK("http://x","y")', "<img src=x onerror=alert(1)>", "@SUM(A1)", "+1", "\u202eevil",
                 "\ufeff", "x" * 20_000, *DATES]
cells = st.one_of(st.sampled_from(SPECIAL_CELLS), st.text(max_size=12),
                  st.floats(allow_nan=True, allow_infinity=True), st.integers(-10 ** 30, 10 ** 30), st.booleans())
headers = st.one_of(st.sampled_from(["", " ", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "Unnamed: 0",
                                     "date", "amount", "default", "a\nb", "\x00"]), st.text(max_size=8))


@st.composite
def csv_uploads(draw, scenario: str) -> bytes:
    """A CSV upload: the scenario's valid file with random damage at the cell, header and byte level."""
    df = C.BASE[scenario]().astype(object)
    df = df.head(draw(st.sampled_from([0, 1, 3, 20, len(df)])))
    for _ in range(draw(st.integers(0, 6))):
        if len(df):
            df.iat[draw(st.integers(0, len(df) - 1)), draw(st.integers(0, df.shape[1] - 1))] = draw(cells)
    cols = list(df.columns)
    for _ in range(draw(st.integers(0, 2))):
        cols[draw(st.integers(0, len(cols) - 1))] = draw(st.one_of(headers, st.sampled_from(cols)))
    df.columns = cols
    extra = draw(st.sampled_from([0, 0, 0, 2, 2_500]))
    if extra:
        df = pd.concat([df, pd.DataFrame(0, index=df.index, columns=[f"x{i}" for i in range(extra)])], axis=1)
    sep = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    text = df.to_csv(index=False, sep=sep, quoting=quoting,
                     lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    raw = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"])),
                      errors="replace")
    damage = draw(st.sampled_from(["none", "none", "cut", "bytes", "gzip", "cut gzip"]))
    if damage == "cut":
        raw = raw[:draw(st.integers(0, len(raw)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    elif damage.endswith("gzip"):
        raw = gzip.compress(raw)
        if damage == "cut gzip":
            raw = raw[:draw(st.integers(2, max(2, len(raw) - 1)))]
    return raw


@pytest.mark.parametrize("scenario", ["credit", "fraud", "demand"])
def test_random_csv_uploads_are_read_or_refused_clearly(scenario):
    @SETTINGS
    @given(raw=csv_uploads(scenario))
    def check(raw):
        for loader in P.LOADERS[scenario]:
            outcome = P.outcome(loader, raw)
            assert outcome == "ok" or outcome.startswith("refused: ")

    check()


def test_a_table_that_is_read_has_usable_columns():
    from core.data.datasets import MAX_COLUMNS, read_table
    from core.errors import DataValidationError

    seen = {"ok": 0, "refused": 0}

    @SETTINGS
    @given(raw=csv_uploads("credit"))
    def check(raw):
        try:
            df = read_table(raw, name="x.csv").df
        except DataValidationError as exc:
            P.check_message(exc)
            seen["refused"] += 1
            return
        seen["ok"] += 1
        assert 0 < df.shape[1] <= MAX_COLUMNS and len(df) > 0
        assert df.columns.is_unique
        assert not any("\x00" in str(c) for c in df.columns)

    check()
    # Both outcomes happen: the strategy makes readable and unreadable files.
    assert seen["ok"] > 0 and seen["refused"] > 0


# ---------------------------------------------------------------- zips
FOLDERS = ["ok", "scratch", "ok/sub", "../..", "/abs", "C:", "__MACOSX", ".hidden", "a\\..\\..", "é" * 40]
EXTENSIONS = [".png", ".jpg", ".jpeg", ".bmp", ".zip", ".csv", ".txt", "", ".PNG"]


@st.composite
def zip_members(draw) -> tuple[str, bytes, bool]:
    folder = draw(st.sampled_from(FOLDERS))
    name = draw(st.text(alphabet="abcxyz_-. 0123", min_size=1, max_size=12)) + draw(st.sampled_from(EXTENSIONS))
    kind = draw(st.sampled_from(["png", "png", "jpeg", "cut jpeg", "random", "empty", "nested zip", "zeros",
                                 "labels csv"]))
    if kind == "png":
        data = C.image_bytes(colour=draw(st.integers(0, 255)))
    elif kind == "jpeg":
        data = C.image_bytes("JPEG", colour=draw(st.integers(0, 255)))
    elif kind == "cut jpeg":
        full = C.image_bytes("JPEG")
        data = full[:draw(st.integers(0, len(full) - 1))]
    elif kind == "random":
        data = draw(st.binary(max_size=200))
    elif kind == "empty":
        data = b""
    elif kind == "nested zip":
        data = C._zip_with()
    elif kind == "zeros":  # compresses more than 100:1 once above 1 MB: the bomb rule
        data = b"\x00" * draw(st.sampled_from([10, 2 * 1024 * 1024]))
    else:
        data = b"file,label\n" + f"{name},{draw(headers)}\n".encode("utf-8", "replace")
    return f"{folder}/{name}", data, draw(st.integers(0, 9)) == 0


@st.composite
def zip_uploads(draw) -> bytes:
    base = draw(st.booleans())
    members = draw(st.lists(zip_members(), min_size=0, max_size=6))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))) as zf:
        if base:
            for k, v in C.good_images().items():
                zf.writestr(k, v)
        for name, data, link in members:
            info = zipfile.ZipInfo(name)
            if link:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    raw = buf.getvalue()
    if draw(st.integers(0, 5)) == 0:
        raw = raw[:draw(st.integers(0, len(raw)))]
    return raw


def test_random_zip_uploads_are_read_or_refused_clearly():
    @settings(derandomize=True, max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(raw=zip_uploads())
    def check(raw):
        for loader in P.LOADERS["quality"]:
            outcome = P.outcome(loader, raw)
            assert outcome == "ok" or outcome.startswith("refused: ")

    check()

"""Turning an uploaded table's bytes into text pandas can read, and reading dates: the checks
every reader shares (``core.data.datasets.read_table``, the chunked reader, the Dask block reader).

What a file is, from its first bytes whatever its name (``sniff_kind``: gzip, zip, Excel, Parquet
or text); encodings (UTF-8 with or without BOM, UTF-16 with or without BOM, Windows-1252), gzip
with a cap on the unpacked size (a gzip bomb is refused, not unpacked), classic Mac line endings,
zero bytes inside text, the delimiter, the header (unique names, at most ``MAX_COLUMNS``; a first
row that holds values like the rows below is data, ``has_header``), decimal commas in semicolon
files, missing-value markers (``?``, ``-``, ``NA`` …, ``read_missing_markers``), Parquet cells that
hold lists or bytes, and dates in many formats and time zones. Each problem is a
``DataValidationError`` saying what was expected, what came and what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list

_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")
_DELIMITERS = ",;\t|"
# A table wider than this is not a case for the studio's models (and every per-column step would
# take minutes on a shared server): refused with a message instead.
MAX_COLUMNS = 2_000
# A gzip upload may unpack to at most this much (a few KB can unpack to gigabytes: a gzip bomb).
MAX_UNPACKED_BYTES = 1_000 * 1024 * 1024


def _utf16(raw: bytes) -> str | None:
    """"utf-16" for text with a UTF-16 byte-order mark, "utf-16-le" / "utf-16-be" for UTF-16
    without one (every other byte of plain text is then zero), else None."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    head = raw[:4096]
    if len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def _detect_encoding(raw: bytes, name: str) -> str:
    """The first of UTF-16 (by its byte-order mark or zero bytes) / UTF-8 / UTF-8 with BOM /
    Windows-1252 that reads ``raw``; a clear error for binary data or text in none of them."""
    wide = _utf16(raw)
    if wide:
        try:
            raw.decode(wide)
        except UnicodeDecodeError:
            pass
        else:
            return wide
    if b"\x00" in raw[:4096]:
        raise DataValidationError(
            f"'{name or 'the file'}' is not a text table: it contains binary data. "
            "Upload a CSV (comma, semicolon or tab separated) or a Parquet file."
        )
    for enc in _ENCODINGS:
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    raise DataValidationError(
        f"Could not read '{name or 'the file'}' as text: it is neither UTF-8 nor Windows-1252. "
        "Save it again as CSV UTF-8."
    )


def _decode(raw: bytes, name: str) -> str:
    text = raw.decode(_detect_encoding(raw, name))
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        row = text.count("\n", 0, text.index("\x00")) + 1
        raise DataValidationError(
            f"'{name or 'the file'}' is not a clean text table: line {row:,} holds binary zero bytes (a damaged or "
            "partly binary file). Expected plain text throughout. Fix: export the table again as CSV UTF-8."
        )
    if "\r" in text and "\n" not in text:
        # Classic Mac line endings: one 'line' for every reader below unless turned into newlines.
        text = text.replace("\r", "\n")
    return text


def _gunzip(raw: bytes, name: str, limit: int) -> bytes:
    """Unpack a gzip upload, never more than ``limit`` bytes (a gzip bomb is refused, not unpacked)."""
    out = bytearray()
    try:
        while raw:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while True:
                chunk = d.decompress(raw, 1024 * 1024)
                out.extend(chunk)
                if len(out) > limit:
                    raise DataValidationError(
                        f"'{name}' unpacks to more than {limit / 1024 ** 2:,.0f} MB (from {len(raw) / 1024 ** 2:,.1f} MB "
                        "compressed); expected a table that fits the server's memory. Fix: upload a smaller extract "
                        "or score it from the command line in chunks.")
                raw = d.unconsumed_tail
                if not raw or d.eof:
                    break
            if not d.eof:
                raise EOFError("the compressed data ends early")
            raw = d.unused_data  # a second gzip member follows (concatenated files)
            if raw and raw[:2] != b"\x1f\x8b":
                break
    except (OSError, EOFError, zlib.error) as exc:
        raise DataValidationError(
            f"'{name}' looks gzip-compressed but cannot be unpacked ({exc}). Expected a complete .gz file. "
            "Fix: compress the file again, or upload the CSV itself.") from exc
    return bytes(out)


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


# ---------------------------------------------------------------- what a file is, by its first bytes
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .xls workbooks (and of encrypted .xlsx)


def sniff_kind(raw: bytes) -> str:
    """``"gzip"``, ``"zip"``, ``"xlsx"`` (a zip holding a workbook), ``"ole2"`` (an .xls workbook, or an
    .xlsx saved with a password), ``"parquet"`` or ``"text"``: from the content, never the file's name."""
    if raw[:2] == b"\x1f\x8b":
        return "gzip"
    if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        # An Office Open XML workbook is a zip whose first entries are its content types and the
        # workbook part; their names sit in the first local headers, near the start of the file.
        head = raw[:65536]
        parts = (b"xl/workbook.", b"xl/worksheets/", b"xl/styles.xml", b"xl/theme/", b"xl/sharedStrings.xml")
        return "xlsx" if any(p in head for p in parts) or (b"[Content_Types].xml" in head and b"xl/" in head) \
            else "zip"
    if raw[:8] == _OLE2:
        return "ole2"
    if raw[:4] == b"PAR1":
        return "parquet"
    return "text"


# ---------------------------------------------------------------- header or data in the first row
@dataclass(frozen=True)
class TextLayout:
    """How a text table is laid out: its delimiter, whether the first row names the columns, the
    column names (the header's, or ``column_1`` … ``column_N`` for a file without one) and the
    decimal mark."""

    delimiter: str
    header: bool
    names: list[str]
    decimal: str = "."

    def notices(self, name: str) -> list[str]:
        return [] if self.header else [headerless_notice(name, len(self.names))]


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}.*)?$")
# Cells that mean "no value": pandas' own defaults (exact case: "none" is a category in many files),
# '?' (the UCI convention) and the error values Excel shows in a cell. A lone '-' is one too, except
# in a column of +/- signs (see ``read_missing_markers``).
MISSING_MARKERS = frozenset({"", "?", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "<NA>",
                             "#NA", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"})
_SAMPLE_ROWS = 200  # rows below the first one compared with it


def cell_kind(v: Any) -> str:
    """``missing``, ``number``, ``date``, ``flag`` (a true/false cell of a workbook) or ``text``."""
    if v is None or (isinstance(v, float) and v != v):
        return "missing"
    if isinstance(v, bool):
        return "flag"
    if isinstance(v, (int, float, np.number)):
        return "number"
    if isinstance(v, (dt.date, dt.datetime, dt.time, pd.Timestamp)):
        return "date"
    t = str(v).strip()
    if t in MISSING_MARKERS or t == "-":
        return "missing"
    if _NUMBER.match(t):
        return "number"
    return "date" if _DATE.match(t) else "text"


def _column_kind(kinds: list[str]) -> str | None:
    """The kind nine in ten of a column's filled cells share; None when mixed or empty."""
    filled = [k for k in kinds if k != "missing"]
    if not filled:
        return None
    kind, n = Counter(filled).most_common(1)[0]
    return kind if n >= 0.9 * len(filled) else None


def _counting_up(cells: list) -> bool:
    """Three or more whole numbers counting up by one (0 1 2 …, 2019 2020 2021): column names a
    program or a person numbered, almost never a row of measurements."""
    nums = []
    for c in cells:
        if cell_kind(c) == "number":
            try:
                nums.append(float(str(c).replace(",", ".")))
            except ValueError:
                return False
    return len(nums) >= 3 and all(b - a == 1 and float(a).is_integer() for a, b in zip(nums, nums[1:]))


def has_header(rows: list[list]) -> bool:
    """Whether the first of ``rows`` names the columns rather than holding values.

    The first row is data when no cell of it contradicts its column below (a word over a column of
    numbers or dates is a name; a number over a column of words is a name too), at least one of its
    cells is a number or date over a column of them, and the words it has are values of their
    columns rather than new ones. A row counting up 0 1 2 … or 2019 2020 2021 stays a header.
    A file of words only keeps its first row as the header: nothing shows it is data.
    """
    first, body = rows[0], rows[1:_SAMPLE_ROWS + 1]
    if not body:
        return True
    data_votes = header_votes = 0
    for j, cell in enumerate(first):
        column = [r[j] for r in body if j < len(r)]
        col_kind = _column_kind([cell_kind(v) for v in column])
        kind = cell_kind(cell)
        if kind == "missing" or col_kind is None:
            continue
        if kind != col_kind:
            return True
        if kind != "text":
            data_votes += 1
            continue
        values = {str(v).strip() for v in column if v is not None}
        if str(cell).strip() in values:
            data_votes += 1
        elif len(values) <= 0.5 * len(column):
            header_votes += 1  # a word that is not one of a categorical column's values: its name
    return data_votes == 0 or header_votes > data_votes or _counting_up(first)


def headerless_names(n: int) -> list[str]:
    return [f"column_{i}" for i in range(1, n + 1)]


def headerless_notice(name: str, n: int) -> str:
    return (f"The first row of '{name}' holds values like the rows below it, not column names, so it is read as "
            f"data and the {n} columns are named column_1 … column_{n}. Name the outcome by its column, "
            f"e.g. column_{n}.")


def text_layout(text: str, name: str) -> TextLayout:
    """Delimiter, header (or none) and decimal mark of a text table, from its first records.

    A header's names must be unique (``_check_unique``) and at most ``MAX_COLUMNS``; a file whose
    first row is data (``has_header``) gets the names ``column_1`` … ``column_N`` instead."""
    delimiter = _sniff_delimiter(text)
    rows: list[list[str]] = []
    try:
        # Records, not lines: a quoted value may hold a line break.
        for row in csv.reader(io.StringIO(text[:2_000_000]), delimiter=delimiter, skipinitialspace=True):
            if row:
                rows.append(row)
            if len(rows) > _SAMPLE_ROWS or len(rows[0] if rows else ()) > MAX_COLUMNS:
                break
    except csv.Error as exc:
        if not rows:
            raise DataValidationError(
                f"Could not read the header row of '{name or 'the file'}' ({exc}). Expected one line of column "
                "names. Fix: save the file again as CSV UTF-8.") from exc
    first = rows[0] if rows else []
    if len(first) > MAX_COLUMNS:
        raise _too_wide(name, len(first))
    decimal = "," if _decimal_comma(text, delimiter) else "."
    if len(rows) > 1 and not has_header(rows):
        return TextLayout(delimiter, False, headerless_names(max(len(r) for r in rows)), decimal)
    header = [h.strip() for h in first]
    _check_unique(header, name)
    return TextLayout(delimiter, True, header, decimal)


def _check_header(text: str, delimiter: str, name: str) -> list[str]:
    """The column names of a text table (``text_layout``'s, for callers that know the delimiter)."""
    return text_layout(text, name).names


# ---------------------------------------------------------------- missing-value markers
def read_missing_markers(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Text cells that mean "no value" (``MISSING_MARKERS``: ``?``, ``NA``, ``n/a``, Excel's ``#N/A``
    …, and a lone ``-``) made missing, in place; a column left with numbers only becomes numeric.

    A column whose values are ``+`` / ``-`` signs (an outcome such as UCI's) keeps its ``-``: there
    it is a value. Returns the frame and one notice per marker found, with counts and columns.
    """
    found: dict[str, dict[str, int]] = {}
    for i, c in enumerate(df.columns):
        s = df.iloc[:, i]
        if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
            continue
        text = s.map(lambda v: v.strip() if isinstance(v, str) else None)
        marker = text.isin(MISSING_MARKERS)
        dash = text == "-"
        if dash.any():
            values = set(text.dropna().unique()) - MISSING_MARKERS
            if "+" in values or values <= {"-", "+"}:
                dash[:] = False  # a column of signs: '-' is a value
        hit = marker | dash
        if not hit.any():
            continue
        for m, n in text[hit].value_counts().items():
            found.setdefault(str(m) or "(blank)", {})[str(c)] = int(n)
        cleaned = s.where(~hit)
        numbers = pd.to_numeric(cleaned, errors="coerce")
        df.isetitem(i, numbers if numbers.notna().sum() == cleaned.notna().sum() else cleaned)
    notices = []
    for m, cols in found.items():
        names = ", ".join(list(cols)[:6]) + (f" and {len(cols) - 6} more" if len(cols) > 6 else "")
        notices.append(f"'{m}' read as missing: {sum(cols.values()):,} cell(s) in {len(cols)} column(s) ({names}).")
    return df, notices


_NESTED = (list, tuple, dict, set, np.ndarray, bytes, bytearray)


def _as_text(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        return str(v.tolist())
    return str(v) if isinstance(v, _NESTED) else v


def _plain_cells(df: pd.DataFrame) -> list[str]:
    """Turn Parquet cells holding lists, maps or bytes into text, in place (the models read
    numbers, categories and dates; a list in a cell breaks counting distinct values). Returns
    the names of the columns changed."""
    changed = []
    for i, c in enumerate(df.columns):
        s = df.iloc[:, i]
        if s.dtype == object and bool(s.map(lambda v: isinstance(v, _NESTED)).any()):
            df.isetitem(i, s.map(_as_text))
            changed.append(str(c))
    return changed


def _check_unique(names: list[str], name: str) -> None:
    seen, dups = set(), []
    for h in names:
        if h in seen and h not in dups:
            dups.append(h)
        seen.add(h)
    if dups:
        raise DataValidationError(
            f"Column names must be unique; '{name or 'the file'}' repeats {short_list(dups)}. "
            "Rename the repeated columns and upload again."
        )


def _too_wide(name: str, n: int) -> DataValidationError:
    return DataValidationError(
        f"'{name or 'the file'}' has {n:,} columns; expected at most {MAX_COLUMNS:,}. Fix: keep the columns the "
        "model should learn from (and the outcome) and upload again.")


def _decimal_comma(text: str, delimiter: str) -> bool:
    """Whether a semicolon-separated file writes decimals with a comma (1234,56), as European
    spreadsheets do: such numbers must not be read as text and then stripped of the comma."""
    if delimiter != ";":
        return False
    sample = "\n".join(text.splitlines()[1:200])
    return bool(re.search(r"(^|;)\s*-?\d+,\d+\s*(;|$)", sample, re.MULTILINE))


# The range a pandas nanosecond timestamp can hold; dates outside it (year 9999, year 1) are unreadable.
_TS_MIN, _TS_MAX = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")


def parse_datetimes(s: pd.Series, *, formats: tuple[str, ...] = ("ISO8601", "mixed"),
                    local: bool = False) -> pd.Series:
    """``s`` as naive ``datetime64[ns]`` timestamps, missing (NaT) where a value cannot be read.

    Tries each format in turn (ISO 8601 is fast; "mixed" reads anything else) and keeps the first
    that reads every value. Values with different time zones are converted to UTC; dates outside
    1677-2262 (what a nanosecond timestamp can hold) count as unreadable instead of overflowing.
    Times with one time zone are converted to UTC, or keep their wall-clock time with ``local``
    (a sales date stays the date written).
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        t = s
    else:
        t = None
        for fmt in formats:
            try:
                got = pd.to_datetime(s, errors="coerce", format=fmt)
            except (ValueError, TypeError, OverflowError):
                try:  # mixed time zones (+02:00 beside Z): one common clock, UTC
                    got = pd.to_datetime(s, errors="coerce", format=fmt, utc=True)
                except (ValueError, TypeError, OverflowError):
                    continue
            t = got
            if not t.isna().any():
                break
        if t is None:
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_localize(None) if local else t.dt.tz_convert(None)
    in_range = (t >= _TS_MIN) & (t <= _TS_MAX)
    return t.where(in_range).astype("datetime64[ns]")

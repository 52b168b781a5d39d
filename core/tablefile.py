"""Turning an uploaded table's bytes into text pandas can read, and reading dates: the checks
every reader shares (``core.datasets.read_table``, the chunked reader, the Dask block reader).

Encodings (UTF-8 with or without BOM, UTF-16 with or without BOM, Windows-1252), gzip with a cap
on the unpacked size (a gzip bomb is refused, not unpacked), classic Mac line endings, zero bytes
inside text, the delimiter, the header (unique names, at most ``MAX_COLUMNS``), decimal commas in
semicolon files, Parquet cells that hold lists or bytes, and dates in many formats and time zones.
Each problem is a ``DataValidationError`` saying what was expected, what came and what to do.
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.safety import short_list

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


def _check_header(text: str, delimiter: str, name: str) -> list[str]:
    try:
        # The first record, not the first line: a quoted header name may hold a line break.
        first = next(csv.reader(io.StringIO(text[:2_000_000]), delimiter=delimiter), [])
    except csv.Error as exc:
        raise DataValidationError(
            f"Could not read the header row of '{name or 'the file'}' ({exc}). Expected one line of column names. "
            "Fix: save the file again as CSV UTF-8.") from exc
    if len(first) > MAX_COLUMNS:
        raise _too_wide(name, len(first))
    header = [h.strip() for h in first]
    _check_unique(header, name)
    if any(h == "" for h in header) and len(header) > 1:
        # An unnamed first column is a typical saved index; name it instead of failing.
        pass
    return header


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

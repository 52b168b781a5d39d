"""Reading a table file from disk in chunks, for files too large to hold in memory (batch scoring
and training samples from the command line), with the checks and formats of ``read_table``.

Text tables (any extension, a first row of values read as data), gzip and a CSV inside a zip are
streamed: encoding, delimiter and header are checked on the first 64 KB, then pandas reads the
rest chunk by chunk, so memory stays flat whatever the file's length. Parquet is read by record
batches. An Excel workbook, or a Parquet or workbook inside a zip, is read whole (a sheet holds at
most 1,048,576 rows) and handed out in chunks. The first chunk carries what was noticed while
reading (``df.attrs["read_notices"]``: the zip member read, the sheet, no header row).
"""

from __future__ import annotations

import csv
import gzip
import re
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from core.errors import DataValidationError
from core.data.tablefile import (MAX_COLUMNS, _check_unique, _decode, _detect_encoding, _plain_cells, _too_wide, _utf16,
                            read_missing_markers, sniff_kind, text_layout)

_HEAD = 65536


# Each table file a command reads, with the flags naming the table inside it (a zip's member, a workbook's sheet).
TABLE_FLAGS = {"data": ("--data", "--member", "--sheet"),
               "test": ("--test-data", "--test-member", "--test-sheet"),
               "covariates": ("--covariates-file", "--covariates-member", "--covariates-sheet")}


def _attr(flag: str) -> str:
    return flag[2:].replace("-", "_")


def choice_of(args, file: str = "data") -> dict:
    """The ``member`` / ``sheet`` options of the flags naming the table inside ``file`` (a key of
    ``TABLE_FLAGS``: ``--member`` / ``--sheet`` for --data, ``--test-member`` / ``--test-sheet`` ...)."""
    _, member, sheet = TABLE_FLAGS[file]
    return {"member": getattr(args, _attr(member), None), "sheet": getattr(args, _attr(sheet), None)}


def _own_flags(text: str, file: str) -> str:
    """``text`` (a message or notice written for --data) naming the member / sheet flags of ``file``."""
    _, member, sheet = TABLE_FLAGS[file]
    text = re.sub(r"(?<![\w-])--member\b", member, text)
    return re.sub(r"(?<![\w-])--sheet\b", sheet, text)


def read_file_of(args, file: str, **options):
    """``read_table`` of the file given for ``file`` (``--test-data``, ``--covariates-file`` ...) with
    the table its own flags name. Its messages and notices name that file and those flags, so an
    analyst told that a test zip holds several tables reads ``--test-member NAME``, not ``--member``."""
    from core.data.datasets import read_table

    path_flag = TABLE_FLAGS[file][0]
    try:
        table = read_table(getattr(args, _attr(path_flag)), **options, **choice_of(args, file))
    except DataValidationError as exc:
        if file != "data":
            exc.args = (f"{path_flag}: {_own_flags(str(exc), file)}", *exc.args[1:])
        raise
    if file != "data":
        table.notices = [f"{path_flag}: {_own_flags(n, file)}" for n in table.notices]
    return table


def require_columns(table, file: str, columns) -> None:
    """Stop when the table read for ``file`` lacks any of ``columns``; when it came from a workbook of
    several sheets or a zip of several tables, say which one was read and which flag picks another."""
    missing = [c for c in columns if c not in table.df.columns]
    if not missing:
        return
    path_flag, member, sheet = TABLE_FLAGS[file]
    found = [str(c) for c in table.df.columns]
    where, fix = "", f"give {path_flag} a file with {'these columns' if len(missing) > 1 else 'this column'}"
    if len(table.sheets) > 1:
        where = f" from its sheet '{table.sheet}' (its sheets are {table.sheets})"
        fix = f"name the sheet holding the data with {sheet} NAME, or {fix}"
    elif len(table.members) > 1:
        where = f" from '{table.member}' in the zip (its tables are {table.members})"
        fix = f"name the table holding the data with {member} NAME, or {fix}"
    raise DataValidationError(
        f"{path_flag}: expected the column(s) {missing} of --data; the table read{where} has {found[:12]}"
        f"{' ...' if len(found) > 12 else ''}. Fix: {fix}.")


def iter_table_chunks(path, *, chunk_size: int = 50_000, member: str | None = None,
                      sheet: str | None = None) -> Iterator[pd.DataFrame]:
    """Read a table file from disk in chunks of ``chunk_size`` rows (see the module's notes).

    Yields DataFrames with fresh column names (stripped) and missing-value markers read as
    missing; raises ``DataValidationError`` for the same problems ``read_table`` reports.
    """
    p = Path(path)
    if not p.exists():
        raise DataValidationError(f"File not found: '{p}'. Check the path.")
    if chunk_size < 1:
        raise DataValidationError(f"Chunk size must be at least 1 row; got {chunk_size}. Fix: pass e.g. 50000.")
    name = p.name
    with open(p, "rb") as fh:
        head = fh.read(_HEAD)
    kind = sniff_kind(head)
    if kind == "zip":
        from core.data.archivefile import open_table_member

        zf, info, notices = open_table_member(p, member=member)
        with zf:
            inner = f"{name}/{info.filename}"
            with zf.open(info) as fh:
                first = fh.read(_HEAD)
            kind = sniff_kind(first)
            if kind == "gzip":
                yield from _text_chunks(lambda: gzip.open(zf.open(info), "rb"), inner, chunk_size, notices)
            elif kind == "text":
                yield from _text_chunks(lambda: zf.open(info), inner, chunk_size, notices)
            else:
                from core.data.datasets import parse_table_bytes
                from core.data.tablefile import MAX_UNPACKED_BYTES

                with zf.open(info) as fh:
                    data = fh.read(MAX_UNPACKED_BYTES + 1)
                if len(data) > MAX_UNPACKED_BYTES:
                    raise DataValidationError(
                        f"'{inner}' unpacks to more than {MAX_UNPACKED_BYTES / 1024 ** 2:,.0f} MB; expected a Parquet "
                        "file or workbook that fits in memory. Fix: put a CSV in the zip instead (it is read in "
                        "chunks).")
                table = parse_table_bytes(data, inner, sheet=sheet, _inside=name)
                yield from _frame_chunks(table.df, chunk_size, [*notices, *table.notices])
        return
    if member is not None:
        raise DataValidationError(f"A member to read was named, but '{name}' is not a zip archive. Fix: leave out "
                                  "--member for this file.")
    if kind in ("xlsx", "ole2"):
        from core.data.datasets import parse_table_bytes

        table = parse_table_bytes(p.read_bytes(), name, sheet=sheet)
        yield from _frame_chunks(table.df, chunk_size, table.notices)
        return
    if sheet is not None:
        raise DataValidationError(f"A sheet to read was named, but '{name}' is not an Excel workbook. Fix: leave out "
                                  "--sheet for this file.")
    if kind == "parquet" or name.lower().endswith(".parquet"):
        yield from _iter_parquet(p, chunk_size)
        return
    opener = (lambda: gzip.open(p, "rb")) if kind == "gzip" else (lambda: open(p, "rb"))
    yield from _text_chunks(opener, name, chunk_size, [])


def _frame_chunks(df: pd.DataFrame, chunk_size: int, notices: list[str]) -> Iterator[pd.DataFrame]:
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise DataValidationError("The table has column names but no data rows. Upload a file with data.")
    for start in range(0, len(df), chunk_size):
        part = df.iloc[start:start + chunk_size].reset_index(drop=True)
        if start == 0:
            part.attrs["read_notices"] = list(notices)
        yield part


def _text_chunks(opener: Callable, name: str, chunk_size: int, notices: list[str]) -> Iterator[pd.DataFrame]:
    from core.data.datasets import csv_header_options

    try:
        with opener() as fh:
            head = fh.read(_HEAD)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataValidationError(
            f"'{name}' looks compressed but cannot be unpacked ({exc}). Expected a complete .gz or .zip file. "
            "Fix: compress the file again, or pass the CSV itself.") from exc
    if len(head.strip()) == 0:
        raise DataValidationError(f"'{name}' is empty: expected a header row and data rows. Upload a file with data.")
    if len(head) == _HEAD and b"\n" in head:
        # Sniff whole lines only: a multi-byte character may be cut at the 64 KB mark.
        cut = head.rindex(b"\n") + 1
        if _utf16(head) and cut % 2:
            cut += 1  # UTF-16 writes a newline as two bytes: keep both
        head = head[:cut]
    # pandas drops a UTF-8 byte-order mark itself, as read_table's parser does.
    encoding = _detect_encoding(head, name)
    layout = text_layout(_decode(head, name), name)
    delimiter = layout.delimiter
    n = 0
    try:
        with opener() as fh:
            reader = pd.read_csv(fh, sep=delimiter, skipinitialspace=True, low_memory=False, encoding=encoding,
                                 chunksize=chunk_size, decimal=layout.decimal, **csv_header_options(layout))
            with reader:
                for chunk in reader:
                    chunk.columns = [str(c).strip() for c in chunk.columns]
                    chunk, marked = read_missing_markers(chunk)
                    if n == 0:
                        chunk.attrs["read_notices"] = [*notices, *layout.notices(name), *marked]
                    n += len(chunk)
                    yield chunk
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"Could not read '{name}' past row {n:,}: the text is not {encoding} throughout ({exc.reason}). "
            "Save the whole file again as CSV UTF-8."
        ) from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataValidationError(
            f"Could not read '{name}' past row {n:,}: the compressed data is damaged ({exc}). Expected a complete "
            ".gz or .zip file. Fix: compress the file again, or pass the CSV itself.") from exc
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError, EOFError, zlib.error) as exc:
        raise DataValidationError(
            f"Could not split '{name}' into columns with delimiter {delimiter!r} after row {n:,}: "
            f"{str(exc).splitlines()[0]}. Check that every row has the same number of fields."
        ) from exc
    if n == 0:
        raise DataValidationError(f"'{name}' has column names but no data rows. Upload a file with data.")


def _iter_parquet(p: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:
        raise DataValidationError(
            f"'{p.name}' is not a readable Parquet file ({str(exc).splitlines()[0][:200]}). Expected a complete "
            "Parquet file or a CSV. Fix: export the table again, or save it as CSV UTF-8.") from exc
    _check_unique([str(c).strip() for c in pf.schema_arrow.names], p.name)
    if len(pf.schema_arrow.names) > MAX_COLUMNS:
        raise _too_wide(p.name, len(pf.schema_arrow.names))
    if pf.metadata.num_rows == 0:
        raise DataValidationError(f"'{p.name}' has column names but no data rows. Upload a file with data.")
    for batch in pf.iter_batches(batch_size=chunk_size):
        chunk = batch.to_pandas()
        chunk.columns = [str(c).strip() for c in chunk.columns]
        _plain_cells(chunk)
        chunk, _ = read_missing_markers(chunk)
        yield chunk

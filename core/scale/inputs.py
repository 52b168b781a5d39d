"""What ``--data`` names, cut into row blocks that workers read themselves.

``--data`` may be one file, a glob (``logs/2024-*.csv``) or a Parquet folder. Each file is cut
into blocks of ``chunk_size`` rows, the same blocks the single-process scorer reads one after the
other (``core.data.tablestream.iter_table_chunks``):

- plain CSV: the byte offset where every ``chunk_size``-th record starts, found in one pass over
  the bytes that counts newlines outside quoted fields; a worker reads and parses its byte range
  with the file's header, delimiter and encoding;
- Parquet: a worker reads the row groups that overlap its row range;
- gzip CSV cannot be cut without unpacking it from the start, so this process unpacks it in
  blocks and hands each block to the cluster; so too a table inside a zip and an Excel workbook
  (``--member`` / ``--sheet`` name which one);
- a text file whose first row is data (no header) is cut the same way, its columns named
  ``column_1`` … as ``read_table`` names them.

Workers read the files by path: on several machines the paths must be on storage they all see.
"""

from __future__ import annotations

import glob
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from core.errors import DataValidationError

_SCAN_BLOCK = 1 << 23  # 8 MB of CSV at a time while looking for record starts
_CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".gz")


@dataclass(frozen=True)
class Block:
    """One partition of the input: rows (or bytes) ``start``..``stop`` of ``path``."""

    index: int
    kind: str  # "csv" (byte range), "parquet" (row range) or "frame" (rows read here)
    path: str
    start: int = 0
    stop: int = 0
    header: bytes = b""
    sep: str = ","
    encoding: str = "utf-8"
    frame: Any = None
    names: tuple | None = None  # the column names of a CSV without a header row (its first row is data)
    # The run's core.data.privacy.PersonalDataFilter (columns found on the first block), applied as the block is read.
    personal: Any = None


def find_input_files(data) -> list[Path]:
    """The files ``--data`` names: one file, the files a glob matches, or a Parquet folder's parts."""
    text = str(data)
    p = Path(text)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.parquet") if f.is_file() and not _hidden(f.relative_to(p)))
        if not files:
            raise DataValidationError(
                f"Expected Parquet files (*.parquet) in the folder '{p}'; found none. "
                "Fix: point --data to a CSV or Parquet file, a glob like 'logs/*.csv', or a folder of .parquet parts.")
        return files
    if any(ch in text for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
        if not files:
            raise DataValidationError(
                f"Expected the glob '{text}' to match CSV or Parquet files; it matches none. "
                "Fix: check the folder and the pattern (quote it so the shell does not expand it).")
        return files
    if not p.exists():
        raise DataValidationError(f"File not found: '{p}'. Check the path.")
    return [p]


def _hidden(rel: Path) -> bool:
    return any(part.startswith((".", "_")) for part in rel.parts)


def plan_blocks(files: list[Path], *, chunk_size: int, member: str | None = None,
                sheet: str | None = None) -> Iterator[Block]:
    """Blocks of ``chunk_size`` rows over ``files`` in order, numbered from 0 (``member`` / ``sheet``:
    the table to read in a zip or a workbook).

    Raises ``DataValidationError`` for the same unreadable files ``iter_table_chunks`` rejects.
    """
    if chunk_size < 1:
        raise DataValidationError(f"Chunk size must be at least 1 row; got {chunk_size}. Fix: pass e.g. 50000.")
    index = 0
    for f in files:
        for block in _file_blocks(Path(f), chunk_size, member, sheet):
            yield Block(index=index, **{k: v for k, v in block.items()})
            index += 1


def _file_blocks(p: Path, chunk_size: int, member: str | None = None, sheet: str | None = None) -> Iterator[dict]:
    from core.data.tablefile import sniff_kind

    with open(p, "rb") as fh:
        kind = sniff_kind(fh.read(65536))
    if kind in ("gzip", "zip", "xlsx", "ole2") or member is not None or sheet is not None:
        from core.data.tablestream import iter_table_chunks

        for chunk in iter_table_chunks(p, chunk_size=chunk_size, member=member, sheet=sheet):
            yield {"kind": "frame", "path": str(p), "frame": chunk.reset_index(drop=True)}
        return
    if kind == "parquet" or p.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            n = pq.ParquetFile(p).metadata.num_rows
        except Exception as exc:
            raise DataValidationError(f"'{p.name}' is not a readable Parquet file ({exc}).") from exc
        if n == 0:
            raise DataValidationError(f"'{p.name}' has column names but no data rows. Upload a file with data.")
        for start in range(0, n, chunk_size):
            yield {"kind": "parquet", "path": str(p), "start": start, "stop": min(n, start + chunk_size)}
        return
    yield from _csv_blocks(p, chunk_size)


def _csv_format(p: Path):
    """The encoding and ``core.data.tablefile.TextLayout`` (delimiter, header or column names)
    ``iter_table_chunks`` would use (same checks, same errors)."""
    from core.data.tablefile import _detect_encoding, text_layout

    with open(p, "rb") as fh:
        head = fh.read(65536)
    if len(head.strip()) == 0:
        raise DataValidationError(f"'{p.name}' is empty: expected a header row and data rows. Upload a file with data.")
    if len(head) == 65536 and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]
    encoding = _detect_encoding(head, p.name)
    return encoding, text_layout(head.decode(encoding), p.name)


def _record_start_blocks(p: Path, size: int) -> Iterator[np.ndarray]:
    """The byte offsets where records start, one array per 8 MB read (the header's included).

    A newline inside a quoted field ("..."), with quotes doubled inside, does not end a record;
    blank lines are not records (pandas skips them too). Only one block of the file and its
    offsets are held at a time, so planning a file of any length keeps memory flat.
    """
    quotes_before, next_start = 0, 0
    prev = np.zeros(0, np.uint8)  # the block before, for a record that started in it
    with open(p, "rb") as fh:
        for lo in range(0, size, _SCAN_BLOCK):
            block = np.frombuffer(fh.read(_SCAN_BLOCK), dtype=np.uint8)
            nl = np.flatnonzero(block == 10)
            q = np.flatnonzero(block == 34)
            if len(q) or quotes_before % 2:  # a quoted field may go on from the block before
                inside = (quotes_before + np.searchsorted(q, nl)) % 2 == 1
                nl = nl[~inside]
            quotes_before += len(q)
            ends = nl.astype(np.int64) + lo
            if lo + len(block) >= size and (not len(ends) or ends[-1] < size - 1):
                ends = np.r_[ends, size]  # the last record, without a newline at the end of the file
            if len(ends):
                starts = np.r_[next_start, ends[:-1] + 1]
                next_start = int(ends[-1]) + 1
                length = ends - starts
                one = np.flatnonzero(length == 1)  # a record of one byte is blank when it is a CR
                first = np.array([block[s - lo] if s >= lo else prev[s - lo + len(prev)] for s in starts[one]],
                                 dtype=np.uint8)
                blank = length == 0
                blank[one] = first == 13
                yield starts[~blank]
            prev = block


def record_starts(p: Path) -> np.ndarray:
    """Byte offsets where each record of a CSV starts (the header's included), and the file's size last."""
    size = p.stat().st_size
    if size == 0:
        return np.array([0], dtype=np.int64)
    return np.r_[np.concatenate([np.zeros(0, np.int64), *_record_start_blocks(p, size)]), size].astype(np.int64)


def _csv_blocks(p: Path, chunk_size: int) -> Iterator[dict]:
    """Blocks of ``chunk_size`` data rows, found in one pass that keeps only every block's first
    offset (not every row's)."""
    encoding, layout = _csv_format(p)
    size = p.stat().st_size
    # seen: data records counted so far; a file whose first row is data has no header record to skip
    header_seen, edges, seen = not layout.header, [], 0
    for starts in (_record_start_blocks(p, size) if size else ()):
        if not header_seen and len(starts):  # the first record is the header; data rows follow it
            header_seen, starts = True, starts[1:]
        idx = np.arange(seen, seen + len(starts))
        edges.extend(int(x) for x in starts[idx % chunk_size == 0])
        seen += len(starts)
    if seen == 0:  # a header and no data
        raise DataValidationError(f"'{p.name}' has column names but no data rows. Upload a file with data.")
    with open(p, "rb") as fh:
        header = fh.read(edges[0])
    edges.append(size)
    for a, b in zip(edges[:-1], edges[1:]):
        yield {"kind": "csv", "path": str(p), "start": int(a), "stop": int(b), "header": header,
               "sep": layout.delimiter, "encoding": encoding, "names": None if layout.header else tuple(layout.names)}


def read_block(block: Block) -> pd.DataFrame:
    """The rows of ``block`` as ``iter_table_chunks`` gives them (column names stripped, fresh index)."""
    if block.kind == "frame":
        df = block.frame
    elif block.kind == "parquet":
        df = _read_parquet_rows(Path(block.path), block.start, block.stop)
    else:
        with open(block.path, "rb") as fh:
            fh.seek(block.start)
            raw = fh.read(block.stop - block.start)
        names = {} if block.names is None else {"header": None, "names": list(block.names), "index_col": False}
        try:
            df = pd.read_csv(io.BytesIO(block.header + raw), sep=block.sep, skipinitialspace=True,
                             low_memory=False, encoding=block.encoding, **names)
        except UnicodeDecodeError as exc:
            raise DataValidationError(
                f"Could not read '{Path(block.path).name}' in bytes {block.start:,}-{block.stop:,}: the text is not "
                f"{block.encoding} throughout ({exc.reason}). Save the whole file again as CSV UTF-8.") from exc
        except (pd.errors.ParserError, ValueError) as exc:
            raise DataValidationError(
                f"Could not split '{Path(block.path).name}' into columns with delimiter {block.sep!r} in bytes "
                f"{block.start:,}-{block.stop:,}: {str(exc).splitlines()[0]}. Check that every row has the same "
                "number of fields.") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if block.kind != "frame":  # a frame block was read by iter_table_chunks, which does this itself
        from core.data.tablefile import read_missing_markers

        df, _ = read_missing_markers(df)
    if block.personal is not None:
        df = block.personal.apply(df)
    return df.reset_index(drop=True)


def _read_parquet_rows(p: Path, start: int, stop: int) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(p)
    groups, offset, first = [], 0, None
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset + n > start and offset < stop:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    table = pf.read_row_groups(groups) if groups else pa.table({})
    return table.slice(start - (first or 0), stop - start).to_pandas()


def block_notices(block: Block) -> list[str]:
    """What reading the block's file noticed: the table read from a zip or sheet, a first row of data."""
    if block.kind == "frame":
        return list(getattr(block.frame, "attrs", {}).get("read_notices", []))
    if block.kind == "csv" and block.names is not None:
        from core.data.tablefile import headerless_notice

        return [headerless_notice(Path(block.path).name, len(block.names))]
    return []


def read_here(path) -> bool:
    """Whether the file's blocks are read in this process (gzip, a zip, a workbook): its blocks
    cannot be counted before they are read."""
    from core.data.tablefile import sniff_kind

    with open(path, "rb") as fh:
        return sniff_kind(fh.read(65536)) in ("gzip", "zip", "xlsx", "ole2")


def is_gzip(path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_text(path):
    """A binary reader of a possibly gzip-compressed file."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")

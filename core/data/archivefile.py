"""Tables inside a zip, as data portals ship them (``train.csv.zip``, ``cs-training.csv.zip``).

A zip holding one table (CSV of any extension, Excel or Parquet) is read directly; documentation
beside it (``README``, ``.names``, ``.pdf`` …) and operating-system clutter (``__MACOSX``, hidden
files) are left out with a notice. A zip holding several tables needs the one to read named
(``member``): without it ``TableChoiceNeeded`` lists them, so the page can offer a pick and the
command line can say ``--member NAME``.

The archive gets the checks of the quality scenario's image zips (``core.quality.archive``): at
most 20,000 entries, no path that leaves the archive, no links, no password; and the size limit
of a gzip upload (``core.data.tablefile.MAX_UNPACKED_BYTES``), checked on the declared size before
anything is unpacked and again while reading, so a zip bomb is refused rather than unpacked.
Nothing is ever written to disk.
"""

from __future__ import annotations

import io
import sys
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path, PurePosixPath

from core.errors import DataValidationError
from core.quality.archive import ArchiveLimits, CorruptMember, _read_capped, _skip_entry, check_entries, check_member
from core.data.safety import short_list

MB = 1024 * 1024
# The image zips' entry limit; sizes are capped per call (``limit``: the gzip limit when the table is
# held in memory, none when it is streamed). A table compresses far better than an image (a column
# of zeros by 1,000:1), so the ratio alone does not make a bomb here: the unpacked size does, as for gzip.
TABLE_LIMITS = ArchiveLimits(max_ratio=float("inf"), max_archive_bytes=sys.maxsize, max_total_bytes=sys.maxsize,
                             max_member_bytes=sys.maxsize)
# Files that travel with a table but are not one: documentation, pictures, code.
_DOC_SUFFIXES = {".names", ".md", ".pdf", ".doc", ".docx", ".html", ".htm", ".rtf", ".xml", ".json", ".png",
                 ".jpg", ".jpeg", ".gif", ".svg", ".py", ".r", ".ipynb", ".sql", ".yml", ".yaml", ".log"}
_DOC_STEMS = ("readme", "license", "licence", "index", "description", "changelog", "notice", "copying")


class TableChoiceNeeded(DataValidationError):
    """A zip holds several tables and none was named. ``options`` are their paths in the archive."""

    def __init__(self, message: str, *, options: list[str]):
        super().__init__(message)
        self.options = options


def _is_table(path: PurePosixPath) -> bool:
    stem = path.name.lower()
    return path.suffix.lower() not in _DOC_SUFFIXES and not stem.startswith(_DOC_STEMS)


def _open(source, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source if isinstance(source, (str, Path)) else io.BytesIO(source))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise DataValidationError(
            f"'{name}' looks like a zip archive but cannot be opened ({exc}). Expected a complete .zip file. "
            "Fix: download or compress it again, or upload the table itself.") from exc


def _tables(zf: zipfile.ZipFile, name: str) -> tuple[list[zipfile.ZipInfo], list[str]]:
    """(the entries that hold a table, the names of the other files), after the safety checks."""
    infos = zf.infolist()
    if len(infos) > TABLE_LIMITS.max_entries:
        raise DataValidationError(
            f"'{name}' has {len(infos):,} entries; expected at most {TABLE_LIMITS.max_entries:,} in a zip of tables. "
            "Fix: zip only the table you want to use.")
    files = [i for i in infos if not i.is_dir()]
    check_entries(files, what="files", example="data/train.csv", source="folder of tables")
    files = [i for i in files if not _skip_entry(PurePosixPath(i.filename.replace("\\", "/")))]
    tables = [i for i in files if _is_table(PurePosixPath(i.filename.replace("\\", "/")))]
    return tables, [i.filename for i in files if i not in tables]


def _choose(tables: list[zipfile.ZipInfo], others: list[str], name: str, member: str | None) -> zipfile.ZipInfo:
    names = [i.filename for i in tables]
    if member is not None:
        wanted = str(member).strip().replace("\\", "/")
        for match in (lambda n: n == wanted, lambda n: PurePosixPath(n).name == wanted,
                      lambda n: n.lower() == wanted.lower() or PurePosixPath(n).name.lower() == wanted.lower()):
            hits = [i for i in tables if match(i.filename)]
            if len(hits) == 1:
                return hits[0]
        raise DataValidationError(
            f"'{name}' has no table named '{member}'; its tables are {short_list(names, width=80)}. "
            "Fix: pass one of these names exactly.")
    if not tables:
        raise DataValidationError(
            f"'{name}' holds no table: expected a CSV, Excel or Parquet file inside; found "
            f"{short_list(others, width=80) if others else 'no files'}. Fix: zip the table itself, or upload it unzipped.")
    if len(tables) > 1:
        raise TableChoiceNeeded(
            f"'{name}' holds {len(tables)} tables: {short_list(names, width=80)}. Expected one table, or the one to "
            "read named. Fix: name one of these (command line: --member NAME; on a page: pick it in the list shown "
            "with the upload).", options=names)
    return tables[0]


def _too_big(info: zipfile.ZipInfo, name: str, limit: int) -> DataValidationError:
    return DataValidationError(
        f"'{info.filename}' in '{name}' unpacks to {info.file_size / MB:,.0f} MB (from {info.compress_size / MB:,.1f} MB "
        f"compressed); expected a table of at most {limit / MB:,.0f} MB. Fix: upload a smaller extract or score it "
        "from the command line in chunks.")


def _checked(zf: zipfile.ZipFile, name: str, member: str | None, limit: int | None):
    """(the entry to read, the notices) after every check that comes before unpacking."""
    tables, others = _tables(zf, name)
    info = _choose(tables, others, name, member)
    if limit is not None and info.file_size > limit:
        raise _too_big(info, name, limit)
    check_member(info, TABLE_LIMITS)  # a password, before anything is read
    notices = [f"Read '{info.filename}' from the zip '{name}'."]
    if others:
        notices.append(f"Left out {len(others)} other file(s) of the zip that are not tables: "
                       f"{short_list(others, limit=5, width=60)[1:-1]}.")
    return info, notices


def unzip_table(raw: bytes, name: str, *, member: str | None = None,
                limit: int) -> tuple[bytes, str, list[str], list[str]]:
    """(the table's bytes, its path in the zip, notices, every table's path) of the zip ``raw``.

    Reads at most ``limit`` bytes (the declared size is checked first, then the bytes read: a
    header that lies about its size ends as a damaged entry). Raises ``TableChoiceNeeded`` for
    several tables and no ``member``, ``DataValidationError`` for everything else.
    """
    zf = _open(raw, name)
    with zf:
        info, notices = _checked(zf, name, member, limit)
        try:
            data = _read_capped(zf, info, replace(TABLE_LIMITS, max_member_bytes=limit))
            if zlib.crc32(data) != info.CRC:
                # A header that understates the size stops the read early without an error: the checksum tells.
                raise CorruptMember(info.filename, f"{len(data):,} bytes read do not match its checksum")
        except CorruptMember as exc:
            raise DataValidationError(
                f"'{info.filename}' in '{name}' is damaged and cannot be unpacked ({exc.reason}). Expected a "
                "complete zip. Fix: download or compress it again, or upload the table itself.") from exc
        return data, info.filename, notices, [i.filename for i in _tables(zf, name)[0]]


def open_table_member(path: Path, *, member: str | None = None, limit: int | None = None):
    """(the open ``ZipFile``, the entry to read, notices) of a zip on disk, for reading the table
    as a stream (the chunked scorer); the same checks as ``unzip_table``. Streamed, the table is
    never held whole, so its size is capped only when ``limit`` is given, as for a gzip file read
    in chunks. Close the zip after."""
    zf = _open(path, Path(path).name)
    try:
        info, notices = _checked(zf, Path(path).name, member, limit)
    except BaseException:
        zf.close()
        raise
    return zf, info, notices

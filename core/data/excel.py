"""Excel workbooks as analysts save them: ``.xlsx`` (openpyxl) and ``.xls`` (xlrd), both imported
only here, when a workbook is read.

A sheet is turned into the table it holds, whatever else is on it: a title or notes above the
header (left out, with a notice), a sheet whose first row is already data (columns named
``column_1`` …, as for a text file without a header), empty rows and spacer columns, notes below
the table, cells Excel shows as errors (``#N/A``, ``#DIV/0!``: missing), dates kept as dates,
numbers stored as text read as numbers, and columns mixing numbers and words kept as words. The
first sheet with data is read unless another is named; the sheet names come back for a pick.
A workbook saved with a password, a damaged one, an ``.xlsb`` or an ``.ods`` gets a clear message.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list, short_text
from core.data.tablefile import (MAX_COLUMNS, _check_unique, _too_wide, cell_kind, has_header, headerless_names,
                            headerless_notice, read_missing_markers)

_HEADER_SEARCH = 80  # rows at the top of a sheet searched for the header (a title and notes come before it)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([, ]\d{3})+(\.\d+)?$")


@dataclass
class SheetTable:
    """One sheet read as a table, the workbook's sheet names and which one was read."""

    df: pd.DataFrame
    sheet: str
    sheets: list[str]
    notices: list[str] = field(default_factory=list)


def _password(name: str) -> DataValidationError:
    return DataValidationError(
        f"'{name}' is protected with a password, so it cannot be read. Expected a workbook that opens without "
        "one. Fix: open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password: "
        "clear it), save, and upload it again; or save the sheet as CSV UTF-8.")


def _damaged(name: str, exc: Exception) -> DataValidationError:
    why = short_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 160)
    return DataValidationError(
        f"'{name}' is not a readable Excel workbook ({why}). Expected a complete .xlsx or .xls file as Excel saves "
        "it. Fix: open it in Excel and save it again, or save the sheet as CSV UTF-8.")


def read_workbook(raw: bytes, name: str, *, kind: str, sheet: str | None = None, limit: int) -> SheetTable:
    """The table on ``sheet`` (default: the first sheet with data) of an Excel workbook.

    ``kind`` is ``core.data.tablefile.sniff_kind``'s ``"xlsx"`` or ``"ole2"``; ``limit`` caps the
    workbook's unpacked size (an .xlsx is a zip: a bomb is refused before it is opened).
    """
    if kind == "ole2":
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise _password(name)  # an .xlsx saved with a password is an encrypted OLE2 container
        names, get_rows = _xls(raw, name)
    else:
        names, get_rows = _xlsx(raw, name, limit)
    if not names:
        raise DataValidationError(f"'{name}' has no worksheets (only charts, or none). Expected a sheet with a "
                                  "table. Fix: add the data on a sheet, or save it as CSV UTF-8.")
    notices: list[str] = []
    if sheet is not None:
        chosen = _match_sheet(names, sheet, name)
        rows = _trim(get_rows(chosen))
    else:
        # The first sheet that holds a table: a cover sheet with a title or a note is passed over.
        chosen, rows = names[0], _trim(get_rows(names[0]))
        for other in names[1:]:
            if sum(1 for r in rows if r) >= 2:
                break
            more = _trim(get_rows(other))
            if sum(1 for r in more if r) >= 2:
                chosen, rows = other, more
        if len(names) > 1:
            notices.append(f"Read the sheet '{chosen}' of {len(names)} ({short_list(names, limit=6)[1:-1]}); pick "
                           "another sheet on the page or with --sheet NAME.")
    if not rows:
        exc = DataValidationError(
            f"The sheet '{chosen}' of '{name}' is empty. Expected a table with a header row and data rows. Fix: "
            + (f"pick a sheet with data ({short_list(names, limit=6)[1:-1]})." if len(names) > 1 else
               "put the data on the sheet, or upload another file."))
        exc.sheets, exc.sheet = names, chosen
        raise exc
    try:
        df, more = _to_frame(rows, name, chosen)
    except DataValidationError as exc:
        exc.sheets, exc.sheet = names, chosen  # a page offers the other sheets beside the message
        raise
    return SheetTable(df=df, sheet=chosen, sheets=names, notices=[*notices, *more])


def _match_sheet(names: list[str], wanted: str, name: str) -> str:
    for match in (lambda n: n == wanted, lambda n: n.strip() == str(wanted).strip(),
                  lambda n: n.strip().lower() == str(wanted).strip().lower()):
        hits = [n for n in names if match(n)]
        if len(hits) == 1:
            return hits[0]
    raise DataValidationError(f"'{name}' has no sheet named '{wanted}'; its sheets are {short_list(names)}. "
                              "Fix: pass one of these names exactly.")


def _xlsx(raw: bytes, name: str, limit: int):
    if b"xl/workbook.bin" in raw[:65536]:
        raise DataValidationError(
            f"'{name}' is an Excel binary workbook (.xlsb), which is not read here. Expected .xlsx, .xls, CSV or "
            "Parquet. Fix: open it in Excel and save it as .xlsx (Excel Workbook) or CSV UTF-8.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _damaged(name, exc) from exc
    if unpacked > limit:
        raise DataValidationError(
            f"'{name}' unpacks to {unpacked / 1024 ** 2:,.0f} MB (from {len(raw) / 1024 ** 2:,.1f} MB); expected a "
            f"workbook of at most {limit / 1024 ** 2:,.0f} MB. Fix: save the sheet you need as CSV, or upload a "
            "smaller extract.")
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheets = {ws.title: ws for ws in wb.worksheets}
    except Exception as exc:  # openpyxl raises many kinds for a damaged file (zip, XML, missing parts)
        raise _damaged(name, exc) from exc

    def rows(title: str) -> list[list]:
        ws = sheets[title]
        ws.reset_dimensions()  # some writers declare a wrong size (A1:A1); read every row there is
        try:
            return [list(r) for r in ws.iter_rows(values_only=True)]
        except Exception as exc:
            raise _damaged(name, exc) from exc

    return list(sheets), rows


def _xls(raw: bytes, name: str):
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=raw, on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise _password(name) from exc
        raise _damaged(name, exc) from exc
    except Exception as exc:  # a damaged compound file
        raise _damaged(name, exc) from exc

    def cell(c):
        if c.ctype == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate.xldate_as_datetime(c.value, book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                return None
        if c.ctype == xlrd.XL_CELL_NUMBER:
            return int(c.value) if float(c.value).is_integer() and abs(c.value) < 2 ** 53 else c.value
        if c.ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(c.value)
        if c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            return None
        return c.value

    def rows(title: str) -> list[list]:
        try:
            sh = book.sheet_by_name(title)
            return [[cell(c) for c in sh.row(r)] for r in range(sh.nrows)]
        except Exception as exc:
            raise _damaged(name, exc) from exc

    return book.sheet_names(), rows


def _empty(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _trim(rows: list[list]) -> list[list]:
    """Rows without trailing empty cells, and without the empty rows after the last filled one."""
    out = []
    for r in rows:
        n = len(r)
        while n and _empty(r[n - 1]):
            n -= 1
        out.append(list(r[:n]))
    while out and not out[-1]:
        out.pop()
    return out


def _header_at(rows: list[list]) -> int:
    """The first row with at least half as many filled cells as the widest of the rows near the top:
    a title, a date or a note above the table fills one or two cells, the header all of them."""
    filled = [sum(not _empty(v) for v in r) for r in rows[:_HEADER_SEARCH]]
    widest = max(filled)
    need = 1 if widest == 1 else max(2, math.ceil(widest / 2))
    return next((i for i, n in enumerate(filled) if n >= need), 0)


def _name(v, j: int) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    elif isinstance(v, dt.datetime):
        v = v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    return str(v).strip() if not _empty(v) else f"Unnamed: {j}"


def _to_frame(rows: list[list], name: str, sheet: str) -> tuple[pd.DataFrame, list[str]]:
    notices = []
    top = _header_at(rows)
    if top:
        above = next((str(v) for r in rows[:top] for v in r if not _empty(v)), "")
        notices.append(f"Left out {top} row(s) above the table on sheet '{sheet}' (a title or notes"
                       + (f": '{short_text(above, 60)}'" if above else "") + ").")
    rows = [r for r in rows[top:] if r]  # empty rows inside the table are no data
    width = max(len(r) for r in rows)
    if width > MAX_COLUMNS:
        raise _too_wide(name, width)
    rows = [r + [None] * (width - len(r)) for r in rows]
    notes = 0
    while len(rows) > 2 and width >= 3 and sum(not _empty(v) for v in rows[-1]) == 1 \
            and cell_kind(next(v for v in rows[-1] if not _empty(v))) == "text":
        rows.pop()  # "Source: …" under the table, often merged across it
        notes += 1
    if notes:
        notices.append(f"Left out {notes} row(s) below the table on sheet '{sheet}' holding only a note.")
    header = has_header(rows)
    names = [_name(v, j) for j, v in enumerate(rows[0])] if header else headerless_names(width)
    body = rows[1:] if header else rows
    keep = [j for j in range(width) if not (names[j].startswith("Unnamed: ") and all(_empty(r[j]) for r in body))]
    if len(keep) < width:
        notices.append(f"Left out {width - len(keep)} empty column(s) without a name on sheet '{sheet}'.")
    names = [names[j] for j in keep]
    if header:
        _check_unique(names, name)
    else:
        names = headerless_names(len(keep))
        notices.append(headerless_notice(f"{name}' sheet '{sheet}", len(keep)))
    if not body:
        raise DataValidationError(f"The sheet '{sheet}' of '{name}' has column names but no data rows "
                                  f"({len(names)} columns, 0 rows). Upload a file with data.")
    df = pd.DataFrame([[r[j] for j in keep] for r in body], columns=names, dtype=object)
    df, marked = read_missing_markers(df)
    return _typed(df, notices + marked)


def _typed(df: pd.DataFrame, notices: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Each column as its cells' type: dates, numbers (with numbers stored as text), true/false, or
    text (a column mixing numbers and words becomes words, as a CSV reader would read it)."""
    as_text: dict[str, int] = {}
    for i, c in enumerate(df.columns):
        s = df.iloc[:, i]
        if s.dtype != object:
            continue
        filled = s[s.notna()]
        if filled.empty:
            df.isetitem(i, pd.to_numeric(s, errors="coerce"))
            continue
        kinds = filled.map(lambda v: "date" if isinstance(v, (dt.date, dt.datetime)) else
                           "flag" if isinstance(v, bool) else
                           "number" if isinstance(v, (int, float, np.number)) else "text")
        if (kinds == "date").all():
            df.isetitem(i, pd.to_datetime(s, errors="coerce"))
        elif (kinds == "flag").all():
            if not s.isna().any():
                df.isetitem(i, s.astype(bool))
        elif kinds.isin(["number", "text"]).all():
            text = filled[kinds == "text"].astype(str).str.strip()
            plain = text.where(~text.str.match(_THOUSANDS), text.str.replace(r"[, ]", "", regex=True))
            numbers = pd.to_numeric(plain, errors="coerce")
            if numbers.notna().all():
                values = s.copy()
                values[text.index] = numbers
                df.isetitem(i, pd.to_numeric(values, errors="coerce"))
                if len(text):
                    as_text[str(c)] = len(text)
            elif (kinds == "number").any():
                df.isetitem(i, s.map(lambda v: v if v is None or isinstance(v, str) else _plain(v)))
        else:
            df.isetitem(i, s.map(lambda v: None if v is None else _plain(v)))
    if as_text:
        cols = ", ".join(f"'{c}' ({n:,})" for c, n in list(as_text.items())[:6])
        notices.append(f"Numbers stored as text read as numbers in {len(as_text)} column(s): {cols}.")
    return df, notices


def _plain(v) -> str:
    """A cell as text, written as Excel shows it (12 not 12.0, a date without midnight)."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date().isoformat()
    return str(v)

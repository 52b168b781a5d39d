"""Reading uploads and sample files, schema inference and validation with plain-words errors.

``read_table`` reads a table however it was exported: CSV of any extension (or none), gzip, a zip
holding one table or several (``member`` names the one), Excel workbooks (``sheet``), Parquet;
the byte-level checks are in ``core.data.tablefile``, zips in ``core.data.archivefile``, workbooks in
``core.data.excel``, the chunked reader in ``core.data.tablestream`` and the outcome column in
``core.data.outcome`` (their public names are importable from here too).
"""

from __future__ import annotations

import hashlib

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.data.safety import short_list
# The byte-level checks live in core.data.tablefile; they are imported here for read_table and the
# chunked reader, and for code that imported them from this module before.
from core.data.tablefile import (  # noqa: F401
    MAX_COLUMNS, MAX_UNPACKED_BYTES, _check_header, _check_unique, _decimal_comma, _decode,
    _detect_encoding, _gunzip, _plain_cells, _sniff_delimiter, _too_wide, _utf16, parse_datetimes,
    read_missing_markers, sniff_kind, text_layout,
)
from core.data.outcome import (  # noqa: F401  (the outcome helpers' old home)
    MAX_OUTCOME_NUMBERS, POSITIVE_HINTS, check_outcome_column, get_target_values, guess_positive,
    validate_binary_target,
)

ROLES = ("numeric", "categorical", "date", "identifier", "text")
DEFAULT_MAX_ROWS = 200_000
SENSITIVE_PATTERN = re.compile(
    r"(^|[_\W])(sex|gender|race|ethnic\w*|religion|nationality|marital\w*|age_band|age_group|"
    r"personal_status\w*|foreign\w*|disab\w*|pregnan\w*)($|[_\W])",
    re.IGNORECASE,
)
@dataclass
class LoadedTable:
    """A table read from a file, with notices about what was changed while reading it."""

    df: pd.DataFrame
    notices: list[str] = field(default_factory=list)
    name: str = ""
    # Columns of personal data dropped or hashed on reading: [{"column", "kind", "action"}], no values.
    personal: list[dict] = field(default_factory=list)
    # A workbook's sheet names and the one read; a zip's tables and the one read (for a pick).
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    members: list[str] = field(default_factory=list)
    member: str | None = None
    sha256: str | None = None  # of the file's bytes as uploaded or read (a zip's or gzip's own bytes)


def _to_bytes(source: Any) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        p = Path(source)
        if not p.exists():
            raise DataValidationError(f"File not found: '{p}'. Check the path.")
        return p.read_bytes(), p.name
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), ""
    if hasattr(source, "getvalue"):  # Streamlit UploadedFile, BytesIO
        return bytes(source.getvalue()), getattr(source, "name", "") or ""
    if hasattr(source, "read"):
        return source.read(), getattr(source, "name", "") or ""
    raise DataValidationError(f"Expected a file path or uploaded file; got {type(source).__name__}.")


def read_table(source: Any, *, name: str | None = None, max_rows: int | None = DEFAULT_MAX_ROWS,
               seed: int = 0, personal: str | None = None, salt: bytes | None = None, keys=None,
               member: str | None = None, sheet: str | None = None) -> LoadedTable:
    """Read a table file into a DataFrame, whatever its name says: CSV / text (a first row of values
    is data, with columns ``column_1`` …), gzip, a zip of tables (``member``: which one, when it
    holds several), an Excel workbook (``sheet``: default the first with data) or Parquet.

    Raises ``DataValidationError`` for an empty file, a header without rows, an unreadable encoding
    or delimiter and duplicate column names; ``core.data.archivefile.TableChoiceNeeded`` (one) for a zip
    of several tables without ``member``. Missing-value markers (``?``, ``-``, ``NA``, ``n/a``) are
    read as missing. Files above ``max_rows`` are sampled (seeded), with a notice.
    ``personal="drop"`` / ``"hash"`` (with the session's ``salt``) removes or hashes the columns
    that hold personal data (``core.data.privacy``) before the frame is returned; what was done is in
    ``LoadedTable.personal`` and ``df.attrs["personal_data"]`` (column names and kinds only).
    ``keys`` (a ``core.data.pseudonym.KeyRule``) keeps personal columns that are keys as keyed pseudonyms.
    """
    raw, detected = _to_bytes(source)
    name = name or detected or "the file"
    table = parse_table_bytes(raw, name, member=member, sheet=sheet)
    df, notices = table.df, table.notices
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise DataValidationError(
            f"'{name}' has column names but no data rows ({len(df.columns)} columns, 0 rows). "
            "Upload a file with data."
        )
    if max_rows and len(df) > max_rows:
        notices.append(
            f"The file has {len(df):,} rows; the app uses a random sample of {max_rows:,} "
            "(seeded, so the same sample every time)."
        )
        df = df.sample(n=max_rows, random_state=seed).sort_index().reset_index(drop=True)
    excluded: list[dict] = []
    if personal is not None:
        from core.data.privacy import protect_personal_data

        result = protect_personal_data(df, mode=personal, salt=salt, keys=keys)
        df, excluded = result.df, result.excluded
        notices = [*result.notices, *notices]
        # Travels with the frame (copies and row subsets keep attrs) so a saved run's summary can list it.
        df.attrs["personal_data"] = excluded
    # The file's bytes as uploaded (before unpacking a gzip or zip): what `sha256sum` of it prints. Travels
    # with the frame and its row subsets, so a saved run records which file it was trained on.
    df.attrs["source_sha256"] = table.sha256 = hashlib.sha256(raw).hexdigest()
    table.df, table.notices, table.name, table.personal = df, notices, name, excluded
    return table


def _not_for(option: str, kind: str, name: str) -> DataValidationError:
    flag, what = ("--member", "zip archives") if option == "member" else ("--sheet", "Excel workbooks")
    return DataValidationError(
        f"A {option} to read was named, but '{name}' is {kind}; expected one of {what}. Fix: leave out {flag} "
        "for this file.")


_KIND_WORDS = {"parquet": "a Parquet file", "text": "a text table", "zip": "a zip archive", "xlsx": "an Excel workbook",
               "ole2": "an Excel workbook", "gzip": "a gzip file"}


def parse_table_bytes(raw: bytes, name: str, *, member: str | None = None, sheet: str | None = None,
                      _inside: str | None = None) -> LoadedTable:
    """The table in ``raw`` (no row cap, no personal-data step): ``read_table``'s reader."""
    kind = sniff_kind(raw)
    if kind == "gzip":
        raw = _gunzip(raw, name, MAX_UNPACKED_BYTES)
        kind = sniff_kind(raw)
    if len(raw.strip()) == 0:
        raise DataValidationError(f"'{name}' is empty: expected a header row and data rows. Upload a file with data.")
    if kind == "zip":
        if b"opendocument" in raw[:200]:
            raise DataValidationError(
                f"'{name}' is an OpenDocument spreadsheet (.ods), which is not read here. Expected CSV, Excel "
                "(.xlsx, .xls) or Parquet. Fix: save it as .xlsx or CSV UTF-8 and upload that.")
        if _inside is not None:
            raise DataValidationError(
                f"'{name}' is a zip inside the zip '{_inside}'. Expected a table inside the zip. Fix: unzip the "
                "outer archive and upload the inner one.")
        from core.data.archivefile import unzip_table

        data, path, notices, members = unzip_table(raw, name, member=member, limit=MAX_UNPACKED_BYTES)
        table = parse_table_bytes(data, f"{name}/{path}", sheet=sheet, _inside=name)
        table.notices, table.members, table.member = [*notices, *table.notices], members, path
        return table
    if member is not None and _inside is None:
        raise _not_for("member", _KIND_WORDS[kind], name)
    if kind in ("xlsx", "ole2"):
        from core.data.excel import read_workbook

        book = read_workbook(raw, name, kind=kind, sheet=sheet, limit=MAX_UNPACKED_BYTES)
        return LoadedTable(df=book.df, notices=book.notices, sheets=book.sheets, sheet=book.sheet)
    if sheet is not None:
        raise _not_for("sheet", _KIND_WORDS[kind], name)
    notices: list[str] = []
    if kind == "parquet" or name.lower().endswith(".parquet"):
        try:
            import pyarrow.parquet as pq

            _check_unique([str(c) for c in pq.ParquetFile(io.BytesIO(raw)).schema_arrow.names], name)
            df = pd.read_parquet(io.BytesIO(raw))
        except DataValidationError:
            raise
        except Exception as exc:
            raise DataValidationError(
                f"'{name}' is not a readable Parquet file ({str(exc).splitlines()[0][:200]}). Expected a complete "
                "Parquet file or a CSV. Fix: export the table again, or save it as CSV UTF-8.") from exc
        if df.shape[1] > MAX_COLUMNS:
            raise _too_wide(name, df.shape[1])
        nested = _plain_cells(df)
        if nested:
            notices.append(f"{len(nested)} column(s) hold lists or binary values ({short_list(nested)}); read as text.")
    else:
        df, notices = _read_text(raw, name)
    df, marked = read_missing_markers(df)
    return LoadedTable(df=df, notices=[*notices, *marked])


def _read_text(raw: bytes, name: str) -> tuple[pd.DataFrame, list[str]]:
    text = _decode(raw, name)
    layout = text_layout(text, name)
    delimiter = layout.delimiter
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True, low_memory=False,
                         decimal=layout.decimal, **csv_header_options(layout))
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError) as exc:
        raise DataValidationError(
            f"Could not split '{name}' into columns with delimiter {delimiter!r}: {str(exc).splitlines()[0]}. "
            "Check that every row has the same number of fields."
        ) from exc
    lines = text.split("\n", 2)[:2]
    spaced = len(lines) == 2 and any(lines[0].count(d) >= 1 and lines[0].count(d) == lines[1].count(d)
                                     for d in " :")
    if df.shape[1] <= 1 and len(layout.names) <= 1 and (any(d in text[:2000] for d in ";\t|") or spaced):
        raise DataValidationError(
            f"Could not detect the delimiter of '{name}': everything landed in one column. Expected commas, "
            "semicolons, tabs or pipes between fields. Fix: save the file as comma- or semicolon-separated CSV."
        )
    if df.shape[1] > MAX_COLUMNS:
        raise _too_wide(name, df.shape[1])
    return df, layout.notices(name)


def csv_header_options(layout) -> dict:
    """``pandas.read_csv`` options for a text table's header: its first row, or ``layout.names``
    for a file whose first row is data (every field kept: no column becomes the index)."""
    return {} if layout.header else {"header": None, "names": layout.names, "index_col": False}


def _numeric_share(s: pd.Series) -> float:
    vals = s.dropna()
    if len(vals) == 0:
        return 0.0
    return float(pd.to_numeric(vals.astype(str).str.replace(",", "", regex=False), errors="coerce").notna().mean())


def _date_share(s: pd.Series) -> float:
    vals = s.dropna().astype(str).head(500)
    if len(vals) == 0 or not vals.str.contains(r"\d{2,4}[-/.]\d{1,2}", regex=True).mean() > 0.9:
        return 0.0
    parsed = parse_datetimes(vals, formats=("mixed",))
    return float(parsed.notna().mean())


_UNNAMED = re.compile(r"^Unnamed: \d+$|^index$|^level_\d+$", re.IGNORECASE)


def is_row_number(s: pd.Series, name: Any = None) -> bool:
    """Whether a column is a saved row number rather than data.

    Two kinds: a column pandas names ``Unnamed: 0`` (the empty header ``to_csv`` writes over the
    index, or a spreadsheet's unnamed first column) holding distinct whole numbers, and any
    column holding exactly the whole numbers 0 .. n-1 or 1 .. n once each (in any order), which
    no measurement does by chance in a table of more than 50 rows.
    """
    name = s.name if name is None else name
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or s.isna().any() or len(s) == 0:
        return False
    v = s.to_numpy()
    if not (pd.api.types.is_integer_dtype(s) or bool(np.all(np.isfinite(v)) and np.all(np.mod(v, 1) == 0))):
        return False
    if not s.is_unique:
        return False
    if _UNNAMED.match(str(name)):
        return True
    lo, hi = float(v.min()), float(v.max())
    return len(s) > 50 and lo in (0.0, 1.0) and hi - lo == len(s) - 1


def row_number_notices(df: pd.DataFrame, roles: dict[str, str]) -> list[str]:
    """Plain-words notices for the identifier columns that are saved row numbers."""
    out = []
    for c, role in roles.items():
        if role == "identifier" and c in df.columns and is_row_number(df[c], c):
            v = df[c]
            out.append(f"'{c}' holds row numbers ({v.min():,.0f} … {v.max():,.0f}, one per row), not data; "
                       "kept out of the model as an identifier.")
    return out


def infer_roles(df: pd.DataFrame) -> dict[str, str]:
    """Guess a role for each column: numeric, categorical, date, identifier or text.

    Row numbers saved with the data (``Unnamed: 0``, or a 0 .. n-1 / 1 .. n sequence) are
    identifiers, see ``is_row_number``."""
    roles: dict[str, str] = {}
    n = len(df)
    for c in df.columns:
        s = df[c]
        if is_row_number(s, c):
            roles[c] = "identifier"
            continue
        nunique = s.nunique(dropna=True)
        unique_ratio = nunique / max(1, s.notna().sum())
        id_name = bool(re.search(r"(^|_)(id|uuid|key)$|^id_|_id_|number$", str(c), re.IGNORECASE))
        if pd.api.types.is_bool_dtype(s):
            roles[c] = "categorical"
        elif pd.api.types.is_datetime64_any_dtype(s):
            roles[c] = "date"
        elif pd.api.types.is_numeric_dtype(s):
            is_int = pd.api.types.is_integer_dtype(s) or bool((s.dropna() % 1 == 0).all())
            roles[c] = "identifier" if (id_name and is_int and unique_ratio > 0.5) or (
                is_int and unique_ratio == 1.0 and n > 50 and id_name) else "numeric"
        elif _numeric_share(s) >= 0.9:
            roles[c] = "numeric"
        elif _date_share(s) >= 0.9:
            roles[c] = "date"
        elif unique_ratio > 0.9 and n > 20:
            avg_len = s.dropna().astype(str).str.len().mean()
            roles[c] = "text" if avg_len > 30 or s.dropna().astype(str).str.contains(" ").mean() > 0.5 else "identifier"
        elif s.dropna().astype(str).str.len().mean() > 60:
            roles[c] = "text"
        else:
            roles[c] = "categorical"
    return roles


def detect_sensitive(columns) -> list[str]:
    """Columns whose names suggest a protected attribute (sex, age band, race, ...)."""
    return [c for c in columns if SENSITIVE_PATTERN.search(str(c)) or str(c).lower() in {"age", "sex", "gender"}]


def clean_features(df: pd.DataFrame, roles: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Coerce numeric columns (junk text becomes missing), drop empty and constant columns.

    Returns the cleaned frame, the updated roles and plain-words notices for the analyst.
    """
    df = df.copy()
    roles = dict(roles)
    notices: list[str] = []
    for c, role in list(roles.items()):
        if c not in df.columns:
            raise DataValidationError(f"Column '{c}' has a role but is not in the data. Check the column list.")
        if role == "numeric" and not pd.api.types.is_numeric_dtype(df[c]):
            raw = df[c]
            coerced = pd.to_numeric(raw.astype(str).str.replace(",", "", regex=False).where(raw.notna()),
                                    errors="coerce")
            bad = raw.notna() & coerced.isna()
            if bad.any():
                examples = short_list(raw[bad].astype(str).unique(), limit=3)[1:-1]
                notices.append(
                    f"'{c}': {int(bad.sum())} value(s) are not numbers (e.g. {examples}); treated as missing."
                )
            df[c] = coerced
        if role in ("numeric", "categorical"):
            s = df[c]
            if s.isna().all():
                notices.append(f"'{c}' is empty in every row; dropped.")
                roles.pop(c)
            elif s.nunique(dropna=True) <= 1 and not s.isna().any():
                notices.append(f"'{c}' has the same value in every row ({s.iloc[0]!r}); dropped.")
                roles.pop(c)
    return df, roles, notices

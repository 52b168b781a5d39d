"""Reading uploads and sample files, schema inference and validation with plain-words errors."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.safety import short_list
# The byte-level checks live in core.tablefile; they are imported here for read_table and the
# chunked reader, and for code that imported them from this module before.
from core.tablefile import (  # noqa: F401
    MAX_COLUMNS, MAX_UNPACKED_BYTES, _check_header, _check_unique, _decimal_comma, _decode,
    _detect_encoding, _gunzip, _plain_cells, _sniff_delimiter, _too_wide, _utf16, parse_datetimes,
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
               seed: int = 0, personal: str | None = None, salt: bytes | None = None) -> LoadedTable:
    """Read a CSV (optionally gzip) or Parquet file into a DataFrame.

    Raises ``DataValidationError`` for an empty file, a header without rows, an unreadable encoding
    or delimiter and duplicate column names. Files above ``max_rows`` are sampled (seeded), with a
    notice. ``personal="drop"`` / ``"hash"`` (with the session's ``salt``) removes or hashes the
    columns that hold personal data (``core.privacy``) before the frame is returned; what was done
    is in ``LoadedTable.personal`` and ``df.attrs["personal_data"]`` (column names and kinds only).
    """
    raw, detected = _to_bytes(source)
    name = name or detected or "the file"
    notices: list[str] = []
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, name, MAX_UNPACKED_BYTES)
    if len(raw.strip()) == 0:
        raise DataValidationError(f"'{name}' is empty: expected a header row and data rows. Upload a file with data.")
    if raw[:4] == b"PAR1" or name.lower().endswith(".parquet"):
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
        text = _decode(raw, name)
        delimiter = _sniff_delimiter(text)
        header = _check_header(text, delimiter, name)
        decimal = "," if _decimal_comma(text, delimiter) else "."
        try:
            df = pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True, low_memory=False,
                             decimal=decimal)
        except (pd.errors.ParserError, ValueError, csv.Error, OverflowError) as exc:
            raise DataValidationError(
                f"Could not split '{name}' into columns with delimiter {delimiter!r}: {str(exc).splitlines()[0]}. "
                "Check that every row has the same number of fields."
            ) from exc
        lines = text.split("\n", 2)[:2]
        spaced = len(lines) == 2 and any(lines[0].count(d) >= 1 and lines[0].count(d) == lines[1].count(d)
                                         for d in " :")
        if df.shape[1] <= 1 and len(header) <= 1 and (any(d in text[:2000] for d in ";\t|") or spaced):
            raise DataValidationError(
                f"Could not detect the delimiter of '{name}': everything landed in one column. Expected commas, "
                "semicolons, tabs or pipes between fields. Fix: save the file as comma- or semicolon-separated CSV."
            )
        if df.shape[1] > MAX_COLUMNS:
            raise _too_wide(name, df.shape[1])
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
        from core.privacy import protect_personal_data

        result = protect_personal_data(df, mode=personal, salt=salt)
        df, excluded = result.df, result.excluded
        notices = [*result.notices, *notices]
        # Travels with the frame (copies and row subsets keep attrs) so a saved run's summary can list it.
        df.attrs["personal_data"] = excluded
    return LoadedTable(df=df, notices=notices, name=name, personal=excluded)


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


POSITIVE_HINTS = ("1", "1.0", "true", "yes", "y", "bad", "default", "defaulted", "fraud", "defect", "positive")


def get_target_values(df: pd.DataFrame, target: str) -> list:
    """Distinct values of the target column (for the positive-value selector)."""
    if target not in df.columns:
        raise DataValidationError(
            f"Target column '{target}' is not in the data; the columns are {short_list(df.columns, limit=20)}. "
            "Pick the column that holds the outcome."
        )
    return sorted(df[target].dropna().unique().tolist(), key=str)


def guess_positive(values) -> Any:
    """The value most likely to mean 'event happened' (default, fraud, 1, yes ...)."""
    for v in values:
        if str(v).strip().lower() in POSITIVE_HINTS:
            return v
    return values[-1] if values else None


MAX_OUTCOME_NUMBERS = 10  # a numeric column with more distinct values is a measurement, not an outcome


def check_outcome_column(df: pd.DataFrame, target: str) -> list:
    """The distinct values of a column offered as a yes/no outcome; refuses a numeric column with
    many values (an amount or a count is not an outcome, and 'income == 52,000' is no positive class)."""
    values = get_target_values(df, target)
    if pd.api.types.is_numeric_dtype(df[target]) and not pd.api.types.is_bool_dtype(df[target]) \
            and len(values) > MAX_OUTCOME_NUMBERS:
        shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values[:4])
        raise DataValidationError(
            f"Column '{target}' holds numbers with {len(values):,} different values (e.g. {shown}, ...); a "
            "yes/no outcome has two values (such as 0/1 or good/bad). Fix: pick the column that says whether "
            "the event happened, or add one to the file, e.g. default = 1 when days past due > 90, else 0."
        )
    return values


def validate_binary_target(df: pd.DataFrame, target: str, positive: Any = None) -> tuple[np.ndarray, Any]:
    """Turn the target column into 0/1 labels (1 = ``positive``).

    With more than two values the analyst must say which value is positive; everything else then
    counts as negative. Rows with a missing target are not allowed here (drop them first).
    """
    values = check_outcome_column(df, target)
    if df[target].isna().any():
        raise DataValidationError(
            f"Target column '{target}' is empty in {int(df[target].isna().sum())} row(s). "
            "Remove those rows or fill in the outcome."
        )
    if positive is None:
        if len(values) > 2:
            shown = short_list(values, limit=10)
            raise DataValidationError(
                f"Target column '{target}' must have two values; got {len(values)}: {shown}. "
                "Pick the positive value or map the others."
            )
        positive = guess_positive(values)
    elif str(positive) not in {str(v) for v in values}:
        raise DataValidationError(
            f"Positive value {positive!r} does not occur in '{target}'; its values are {short_list(values, limit=10)}. "
            "Pick one of them."
        )
    y = (df[target].astype(str) == str(positive)).to_numpy().astype(int)
    if y.sum() == 0 or y.sum() == len(y):
        only = values[0] if values else None
        raise DataValidationError(
            f"Target column '{target}' has only one class ({only!r}, {len(y)} rows); a model needs both. "
            "Upload data with both outcomes."
        )
    return y, positive


def iter_table_chunks(path, *, chunk_size: int = 50_000):
    """Read a CSV (optionally gzip) or Parquet file from disk in chunks of ``chunk_size`` rows.

    For files too large to hold in memory (batch scoring from the command line): encoding,
    delimiter and header are checked on the first 64 KB with the same rules as ``read_table``,
    then pandas / pyarrow stream the rest, so memory stays flat whatever the file's length.
    Yields DataFrames; raises ``DataValidationError`` for the same problems ``read_table`` reports.
    """
    p = Path(path)
    if not p.exists():
        raise DataValidationError(f"File not found: '{p}'. Check the path.")
    if chunk_size < 1:
        raise DataValidationError(f"Chunk size must be at least 1 row; got {chunk_size}. Fix: pass e.g. 50000.")
    name = p.name
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1" or name.lower().endswith(".parquet"):
        yield from _iter_parquet(p, chunk_size)
        return
    gz = magic[:2] == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(p, "rb") as fh:
            head = fh.read(65536)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataValidationError(
            f"'{name}' looks gzip-compressed but cannot be unpacked ({exc}). Expected a complete .gz file. "
            "Fix: compress the file again, or pass the CSV itself.") from exc
    if len(head.strip()) == 0:
        raise DataValidationError(f"'{name}' is empty: expected a header row and data rows. Upload a file with data.")
    if len(head) == 65536 and b"\n" in head:
        # Sniff whole lines only: a multi-byte character may be cut at the 64 KB mark.
        cut = head.rindex(b"\n") + 1
        if _utf16(head) and cut % 2:
            cut += 1  # UTF-16 writes a newline as two bytes: keep both
        head = head[:cut]
    # pandas drops a UTF-8 byte-order mark itself, as read_table's parser does.
    encoding = _detect_encoding(head, name)
    text = _decode(head, name)
    delimiter = _sniff_delimiter(text)
    _check_header(text, delimiter, name)
    decimal = "," if _decimal_comma(text, delimiter) else "."
    n = 0
    try:
        reader = pd.read_csv(p, sep=delimiter, skipinitialspace=True, low_memory=False, encoding=encoding,
                             compression="gzip" if gz else None, chunksize=chunk_size, decimal=decimal)
        with reader:
            for chunk in reader:
                chunk.columns = [str(c).strip() for c in chunk.columns]
                n += len(chunk)
                yield chunk
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"Could not read '{name}' past row {n:,}: the text is not {encoding} throughout ({exc.reason}). "
            "Save the whole file again as CSV UTF-8."
        ) from exc
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError, EOFError, zlib.error) as exc:
        raise DataValidationError(
            f"Could not split '{name}' into columns with delimiter {delimiter!r} after row {n:,}: "
            f"{str(exc).splitlines()[0]}. Check that every row has the same number of fields."
        ) from exc
    if n == 0:
        raise DataValidationError(f"'{name}' has column names but no data rows. Upload a file with data.")


def _iter_parquet(p: Path, chunk_size: int):
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
        yield chunk

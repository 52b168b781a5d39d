"""The catalogue of distinct bad-input classes tried against each scenario's loaders.

Each entry is one kind of broken or hostile upload, made deterministically from the scenario's
small valid file. ``TABLE_CASES`` apply to every table scenario (credit, fraud, demand); each
scenario adds its own (a target with three values, timestamps that are not times, dates 3 days
apart ...). ``ZIP_CASES`` are image archives for quality inspection. ``count_by_scenario``
gives the figures for the README's Reliability table.
"""

from __future__ import annotations

import csv
import gzip
import io
import stat
import zipfile
from typing import Callable

import numpy as np
import pandas as pd

Case = Callable[[pd.DataFrame], bytes]


# ---------------------------------------------------------------- valid starting files
def credit_frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "applicant_id": np.arange(1000, 1000 + n),
        "age": rng.integers(20, 70, n),
        "income": rng.normal(40_000, 9_000, n).round(2),
        "region": rng.choice(["North", "South", "East"], n),
        "purpose": rng.choice(["car", "home", "education"], n),
        "default": np.r_[np.ones(n // 4, int), np.zeros(n - n // 4, int)],
    })


def fraud_frame(n: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame({
        "timestamp": pd.date_range("2024-03-01", periods=n, freq="37min").strftime("%Y-%m-%d %H:%M:%S"),
        "amount": rng.gamma(2.0, 30.0, n).round(2),
        "customer_id": rng.integers(1, 15, n),
        "terminal_id": rng.integers(1, 9, n),
        "channel": rng.choice(["web", "shop"], n),
        "is_fraud": (rng.random(n) < 0.15).astype(int),
    })


def demand_frame(weeks: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    rows = [{"date": d.strftime("%Y-%m-%d"), "store": s, "units_sold": int(rng.poisson(40 + 10 * i)),
             "price": round(float(rng.uniform(2, 3)), 2)} for i, s in enumerate(["A", "B"]) for d in dates]
    return pd.DataFrame(rows)


BASE = {"credit": credit_frame, "fraud": fraud_frame, "demand": demand_frame}


def _csv(df: pd.DataFrame, **kw) -> bytes:
    enc = kw.pop("encoding", "utf-8")
    return df.to_csv(index=False, **kw).encode(enc)


def _with_text(df: pd.DataFrame, col_index: int, values) -> pd.DataFrame:
    out = df.copy()
    c = out.columns[col_index]
    out[c] = out[c].astype(object)
    for i, v in enumerate(values):
        out.iat[i % len(out), col_index] = v
    return out


def _numeric_col(df: pd.DataFrame) -> int:
    """Position of the first numeric column that is a feature (not the label or an id)."""
    for i, c in enumerate(df.columns):
        if pd.api.types.is_numeric_dtype(df[c]) and c not in ("default", "is_fraud", "applicant_id"):
            return i
    return 1


def _wide(df: pd.DataFrame, n: int = 10_000) -> bytes:
    extra = pd.DataFrame(np.arange(len(df) * n, dtype=np.int64).reshape(len(df), n) % 7,
                         columns=[f"x{i}" for i in range(n)])
    return _csv(pd.concat([df, extra], axis=1))


def _rows(df: pd.DataFrame, k: int) -> bytes:
    return _csv(df.head(k))


def _mix_dates(df: pd.DataFrame) -> bytes:
    out = df.copy()
    date_cols = [c for c in out.columns if c in ("timestamp", "date")]
    formats = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%b %d, %Y", "%Y-%m-%dT%H:%M:%SZ"]
    for c in date_cols:
        parsed = pd.to_datetime(out[c])
        out[c] = [d.strftime(formats[i % len(formats)]) for i, d in enumerate(parsed)]
    if not date_cols:
        out["signed_on"] = [pd.Timestamp("2020-01-01") + pd.Timedelta(days=i) for i in range(len(out))]
        out["signed_on"] = [d.strftime(formats[i % len(formats)]) for i, d in enumerate(out["signed_on"])]
    return _csv(out)


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in entries.items():
            zf.writestr(k, v)
    return buf.getvalue()


def pa_table(df: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False)


def _dup_table(df: pd.DataFrame):
    import pyarrow as pa

    t = pa_table(df)
    return pa.table(list(t.columns) + [t.column(0)], names=[*t.column_names, t.column_names[0]])


def _parquet(table) -> bytes:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


# ---------------------------------------------------------------- classes shared by every table scenario
TABLE_CASES: dict[str, Case] = {
    "empty file": lambda df: b"",
    "whitespace only": lambda df: b"   \n\n\t\n",
    "header only": lambda df: (",".join(df.columns) + "\n").encode(),
    "binary garbage": lambda df: bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)),
    "utf-16 with BOM": lambda df: _csv(df, encoding="utf-16"),
    "utf-16-le without BOM": lambda df: _csv(df, encoding="utf-16-le"),
    "utf-8 with BOM": lambda df: _csv(df, encoding="utf-8-sig"),
    "latin-1 accents": lambda df: _csv(_with_text(df, 3, ["Zürich", "Málaga", "Besançon"]), encoding="latin-1"),
    "cp1252 smart quotes": lambda df: _csv(_with_text(df, 3, ["\u201cquoted\u201d", "\u2013dash", "\u20ac5"]),
                                           encoding="cp1252"),
    "invalid bytes in no encoding": lambda df: _csv(df)[:200] + b"\x81\x8d\x8f\x90\x9d" + _csv(df)[200:],
    "semicolon + decimal comma": lambda df: _csv(df, sep=";", decimal=","),
    "tab separated": lambda df: _csv(df, sep="\t"),
    "pipe separated": lambda df: _csv(df, sep="|"),
    "space separated": lambda df: _csv(df, sep=" "),
    "colon separated": lambda df: _csv(df, sep=":"),
    "all fields quoted": lambda df: _csv(df, quoting=csv.QUOTE_ALL),
    "embedded delimiter and newline in quotes": lambda df: _csv(_with_text(df, 3, ["a,b", "line\nbreak", 'say "hi"'])),
    "unbalanced quote": lambda df: _csv(df).replace(b"\n", b'\n"', 3),
    "ragged rows, extra fields": lambda df: _csv(df).replace(b"\n", b",1,2,3\n", 5),
    "ragged rows, missing fields": lambda df: b"\n".join(
        ln.rsplit(b",", 2)[0] if i % 3 == 2 else ln for i, ln in enumerate(_csv(df).split(b"\n"))),
    "NaN / inf / -inf text": lambda df: _csv(_with_text(df, _numeric_col(df), ["NaN", "inf", "-inf", "nan", "Infinity"])),
    "huge numbers": lambda df: _csv(_with_text(df, _numeric_col(df), ["1e308", "1e400", "-1e400",
                                                                     str(10 ** 30), "9" * 400])),
    "scientific notation and -0": lambda df: _csv(_with_text(df, _numeric_col(df), ["1.5e3", "-0", "+7", ".5", "5."])),
    "dates in several formats": _mix_dates,
    "dates out of pandas range": lambda df: _csv(_with_text(df, 0, ["9999-12-31", "0001-01-01", "2262-04-12"])),
    "duplicate headers": lambda df: _csv(df.set_axis([*df.columns[:-2], df.columns[0], df.columns[-1]], axis=1)),
    "duplicate headers after trimming": lambda df: _csv(df.set_axis([*df.columns[:-2], f" {df.columns[0]} ",
                                                                     df.columns[-1]], axis=1)),
    "case-only duplicate headers": lambda df: _csv(df.set_axis([*df.columns[:-2], str(df.columns[0]).upper(),
                                                                df.columns[-1]], axis=1)),
    "empty headers": lambda df: _csv(df.set_axis(["", *df.columns[1:-2], "", df.columns[-1]], axis=1)),
    "unicode / zero-width headers": lambda df: _csv(df.set_axis([f"{c}\u200b" if i % 2 else f"\u202e{c}"
                                                                 for i, c in enumerate(df.columns)], axis=1)),
    "numeric headers": lambda df: _csv(df.set_axis([str(i) for i in range(df.shape[1])], axis=1)),
    "no header row": lambda df: _csv(df, header=False),
    "control characters in cells": lambda df: _csv(_with_text(df, 3, ["\x01\x02", "\x1b[31mred", "a\x7fb", "\x0c"])),
    "NUL bytes after the first 4 KB": lambda df: _csv(pd.concat([df] * 8, ignore_index=True))[:5000]
    + b"\x00\x00" + _csv(pd.concat([df] * 8, ignore_index=True))[5000:],
    "very long cell (300 KB)": lambda df: _csv(_with_text(df, 3, ["x" * 300_000])),
    "10,000 columns": _wide,
    "single column": lambda df: _csv(df.iloc[:, :1]),
    "single row": lambda df: _rows(df, 1),
    "two rows": lambda df: _rows(df, 2),
    "every cell empty": lambda df: _csv(pd.DataFrame("", index=df.index, columns=df.columns)),
    "placeholder strings (NULL, NA, -, ?)": lambda df: _csv(_with_text(df, _numeric_col(df), ["NULL", "NA", "-", "?", "n/a"])),
    "numbers as text with thousands separators": lambda df: _csv(_with_text(df, _numeric_col(df), ["1,234", "12,345.6", "1 000"])),
    "mixed numbers and words in a column": lambda df: _csv(_with_text(df, _numeric_col(df), ["high", "low", "12"] * 10)),
    "CRLF line endings": lambda df: _csv(df, lineterminator="\r\n"),
    "old Mac CR line endings": lambda df: _csv(df, lineterminator="\r"),
    "blank and comment lines": lambda df: _csv(df).replace(b"\n", b"\n\n# comment\n", 4),
    "trailing delimiter on every line": lambda df: _csv(df).replace(b"\n", b",\n"),
    "gzip compressed": lambda df: gzip.compress(_csv(df)),
    "truncated gzip": lambda df: gzip.compress(_csv(df))[:60],
    "corrupt Parquet (PAR1 magic)": lambda df: b"PAR1" + b"\x00garbage" * 50,
    "Excel workbook renamed .csv": lambda df: _zip_bytes({"[Content_Types].xml": b"<Types/>",
                                                          "xl/workbook.xml": b"<workbook/>"}),
    "JSON renamed .csv": lambda df: df.to_json(orient="records").encode(),
    "Parquet with list and binary cells": lambda df: _parquet(pa_table(df.assign(
        tags=[[1, 2]] * len(df), blob=[b"\x00\x01"] * len(df)))),
    "Parquet with duplicate column names": lambda df: _parquet(_dup_table(df)),
    "Parquet with no rows": lambda df: _parquet(pa_table(df.head(0))),
    "Parquet with time-zone timestamps and categories": lambda df: _parquet(pa_table(df.assign(
        seen_at=pd.Timestamp("2024-01-01", tz="Europe/Paris"), kind=pd.Categorical(["a", "b"] * (len(df) // 2))))),
    "HTML and formula text in headers and cells": lambda df: _csv(
        _with_text(df, 3, ['=HYPERLINK("http://x","y")', "<img src=x onerror=alert(1)>", "@SUM(A1)", "+1+1"])
        .rename(columns={df.columns[3]: "<script>alert(1)</script>"})),
    "boolean words in a numeric column": lambda df: _csv(_with_text(df, _numeric_col(df), ["true", "false", "TRUE"] * 20)),
    "3,000 rows of one repeated line": lambda df: _csv(pd.concat([df.head(1)] * 3_000, ignore_index=True)),
}


# ---------------------------------------------------------------- files as exported: no header, zips, workbooks
def _uci(df: pd.DataFrame) -> bytes:
    """No header row, '?' for a few missing cells, the label written '+' / '-' (UCI's .data layout)."""
    out = _with_text(df, _numeric_col(df), ["?", "?"]).astype(object)
    last = out.columns[-1]
    if set(pd.unique(out[last])) <= {0, 1}:
        out[last] = out[last].map({1: "+", 0: "-"})
    return _csv(out, header=False)


def _workbook(sheets: dict[str, pd.DataFrame], *, title: bool = False) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(name)
        if title:
            ws.append([f"{name}: exported table"])
            ws.append([])
        ws.append(list(frame.columns))
        for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
            ws.append(list(row))
        if title:
            ws.append([])
            ws.append(["Source: the analyst's system"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xls(df: pd.DataFrame) -> bytes:
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Data")
    for j, c in enumerate(df.columns):
        ws.write(0, j, str(c))
    for i, row in enumerate(df.astype(object).itertuples(index=False), start=1):
        for j, v in enumerate(row):
            ws.write(i, j, v.item() if hasattr(v, "item") else v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _declared_huge(raw: bytes) -> bytes:
    """A zip whose central directory declares its entry unpacks to 3 GB (a bomb's header)."""
    out = bytearray(raw)
    at = bytes(out).rindex(b"PK\x01\x02")
    out[at + 24:at + 28] = (3 * 1024 ** 3).to_bytes(4, "little")
    return bytes(out)


FORMAT_CASES: dict[str, Case] = {
    "no header row, '?' missing, +/- label (UCI .data)": _uci,
    "zip holding one table and a README": lambda df: _zip_bytes({"export/data.csv": _csv(df), "README.txt": b"about"}),
    "zip holding several tables": lambda df: _zip_bytes({"a.csv": _csv(df), "b.csv": _csv(df.head(10))}),
    "zip bomb (entry declares 3 GB)": lambda df: _declared_huge(_zip_bytes({"data.csv": _csv(df)})),
    "zip entry leaving the archive (../)": lambda df: _zip_bytes({"../../data.csv": _csv(df)}),
    "zip inside a zip": lambda df: _zip_bytes({"inner.zip": _zip_bytes({"data.csv": _csv(df)})}),
    "gzip inside a zip": lambda df: _zip_bytes({"data.csv.gz": gzip.compress(_csv(df))}),
    "xlsx with a title, a note and a second sheet": lambda df: _workbook({"Data": df, "Other": df.head(3)}, title=True),
    "xlsx whose first sheet is empty": lambda df: _workbook({"Empty": df.head(0).iloc[:, :0], "Data": df}),
    "xls workbook": _xls,
    "xlsx saved with a password": lambda df: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64,
    "xlsx cut short": lambda df: _workbook({"Data": df})[:1500],
}
TABLE_CASES.update(FORMAT_CASES)


# ---------------------------------------------------------------- scenario-specific classes
def _set(df: pd.DataFrame, col: str, values) -> pd.DataFrame:
    out = df.copy()
    out[col] = (list(values) * (len(out) // max(len(values), 1) + 1))[:len(out)]
    return out


CREDIT_CASES: dict[str, Case] = {
    "target with three values": lambda df: _csv(_set(df, "default", [0, 1, 2])),
    "target with one class": lambda df: _csv(_set(df, "default", [0])),
    "target is an amount": lambda df: _csv(df.assign(default=np.linspace(0, 5000, len(df)))),
    "target missing in some rows": lambda df: _csv(_set(df, "default", [0, 1, None, 0])),
    "target as words (yes / no / maybe)": lambda df: _csv(_set(df, "default", ["yes", "no", "maybe"])),
    "no recognisable target column": lambda df: _csv(df.rename(columns={"default": "zzz"})),
    "only identifier columns": lambda df: _csv(df[["applicant_id", "default"]]),
    "only sensitive columns as features": lambda df: _csv(pd.DataFrame({
        "sex": ["m", "f"] * (len(df) // 2), "age_band": ["18-25", "26-40"] * (len(df) // 2),
        "default": df["default"]})),
    "every feature constant": lambda df: _csv(df.assign(age=1, income=2.0, region="x", purpose="y")),
    "every feature empty": lambda df: _csv(df.assign(age=None, income=None, region=None, purpose=None)),
    "one positive row": lambda df: _csv(_set(df, "default", [1] + [0] * (len(df) - 1))),
}

FRAUD_CASES: dict[str, Case] = {
    "timestamps that are not times": lambda df: _csv(_set(df, "timestamp", ["yesterday", "soon"])),
    "timestamps as epoch seconds": lambda df: _csv(df.assign(timestamp=np.arange(len(df)) * 600 + 1_700_000_000)),
    "timestamps with mixed time zones": lambda df: _csv(df.assign(timestamp=[
        f"2024-03-01T{h % 24:02d}:00:00{'+02:00' if h % 2 else 'Z'}" for h in range(len(df))])),
    "all transactions at one instant": lambda df: _csv(df.assign(timestamp="2024-03-01 00:00:00")),
    "time order reversed": lambda df: _csv(df.iloc[::-1]),
    "amounts with currency signs": lambda df: _csv(df.assign(amount=[f"${v:,.2f}" for v in df["amount"]])),
    "negative and zero amounts": lambda df: _csv(df.assign(amount=-df["amount"]).head(40).pipe(
        lambda d: pd.concat([d, df.tail(40).assign(amount=0.0)]))),
    "labels other than 0/1": lambda df: _csv(_set(df, "is_fraud", [0, 1, "maybe"])),
    "labels missing": lambda df: _csv(_set(df, "is_fraud", [0, None])),
    "no fraud at all": lambda df: _csv(df.assign(is_fraud=0)),
    "no timestamp column": lambda df: _csv(df.drop(columns="timestamp")),
    "no amount column": lambda df: _csv(df.drop(columns="amount")),
    "customer ids as card numbers": lambda df: _csv(df.assign(customer_id=[
        "4111 1111 1111 1111", "5500 0000 0000 0004"] * (len(df) // 2))),
}

DEMAND_CASES: dict[str, Case] = {
    "one date per series": lambda df: _csv(df.drop_duplicates("store")),
    "dates three days apart": lambda df: _csv(df.assign(date=pd.to_datetime(df["date"]).pipe(
        lambda d: pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(len(d)) % 30 * 3, unit="D")))
        .dt.strftime("%Y-%m-%d"))),
    "negative quantities (returns)": lambda df: _csv(df.assign(units_sold=-df["units_sold"])),
    "quantity as words": lambda df: _csv(df.assign(units_sold="lots")),
    "no column named like a quantity": lambda df: _csv(df.rename(columns={"units_sold": "v"})),
    "dates that are not dates": lambda df: _csv(df.assign(date="next week")),
    "duplicate series / date rows": lambda df: _csv(pd.concat([df, df])),
    "dates as integers (20240101)": lambda df: _csv(df.assign(date=pd.to_datetime(df["date"]).dt.strftime("%Y%m%d")
                                                              .astype(int))),
    "every quantity missing": lambda df: _csv(df.assign(units_sold=None)),
    "20,000 series of one row each": lambda df: _csv(pd.DataFrame({
        "date": "2024-01-01", "store": [f"s{i}" for i in range(20_000)], "units_sold": 1})),
    "covariate as text": lambda df: _csv(df.assign(price="cheap")),
    "one calendar date far in the future": lambda df: _csv(_set(df, "date", ["2023-01-02"] * 59 + ["2999-01-01"])),
}

SCENARIO_CASES = {"credit": CREDIT_CASES, "fraud": FRAUD_CASES, "demand": DEMAND_CASES}


# ---------------------------------------------------------------- image archives
def image_bytes(fmt: str = "PNG", size: int = 24, colour: int = 128) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(colour)
    arr = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt)
    return buf.getvalue()


def good_images(n: int = 3) -> dict[str, bytes]:
    return {f"{c}/img_{i}.png": image_bytes(colour=i + 7 * k) for k, c in enumerate(("ok", "scratch"))
            for i in range(n)}


def _zip_with(extra: dict[str, bytes] | None = None, *, base: bool = True, symlink: str | None = None,
              method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for k, v in ({**(good_images() if base else {}), **(extra or {})}).items():
            zf.writestr(k, v)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "../../../../etc/passwd")
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in good_images().items():
            zf.writestr(k, v)
        zf.writestr("ok/bomb.png", b"\x00" * (60 * 1024 * 1024))
    return buf.getvalue()


def _lying_size() -> bytes:
    """A member whose header declares fewer bytes than it holds."""
    raw = bytearray(_zip_with({"ok/liar.png": image_bytes()}, base=True, method=zipfile.ZIP_STORED))
    # Rewrite the declared uncompressed size in the central directory entry of the last member.
    idx = raw.rfind(b"PK\x01\x02")
    raw[idx + 24: idx + 28] = (10).to_bytes(4, "little")
    return bytes(raw)


def _encrypted_flag() -> bytes:
    """A zip whose members say they are encrypted (flag bit 0 in the local and central headers)."""
    raw = bytearray(_zip_with())
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = raw.find(sig)
        while i >= 0:
            raw[i + off] |= 1
            i = raw.find(sig, i + 4)
    return bytes(raw)


def _huge_image_header() -> bytes:
    """A PNG whose header declares 30,000 x 30,000 pixels (a decompression bomb for image readers):
    a small image with its IHDR size rewritten and its checksum made valid again."""
    import struct
    import zlib

    raw = bytearray(image_bytes())
    i = raw.find(b"IHDR")
    raw[i + 4:i + 12] = struct.pack(">II", 30_000, 30_000)
    raw[i + 17:i + 21] = struct.pack(">I", zlib.crc32(bytes(raw[i:i + 17])) & 0xFFFFFFFF)
    return bytes(raw)


ZIP_CASES: dict[str, Callable[[], bytes]] = {
    "empty zip": lambda: _zip_with(base=False),
    "not a zip": lambda: b"this is not an archive" * 10,
    "truncated zip": lambda: _zip_with()[:300],
    "zero-byte upload": lambda: b"",
    "nested zip only": lambda: _zip_with({"inner.zip": _zip_with()}, base=False),
    "nested zip beside images": lambda: _zip_with({"ok/inner.zip": _zip_with()}),
    "path traversal (../)": lambda: _zip_with({"../../evil.png": image_bytes()}),
    "absolute path": lambda: _zip_with({"/etc/evil.png": image_bytes()}),
    "Windows drive path": lambda: _zip_with({"C:/evil.png": image_bytes()}),
    "backslash traversal": lambda: _zip_with({"ok\\..\\..\\evil.png": image_bytes()}),
    "symlink entry": lambda: _zip_with(symlink="ok/link.png"),
    "zip bomb (high ratio)": _bomb,
    "member larger than declared": _lying_size,
    "non-image renamed .png": lambda: _zip_with({f"ok/fake_{i}.png": b"%PDF-1.4 not an image" for i in range(3)}),
    "only non-images renamed .png": lambda: _zip_with({f"{c}/fake_{i}.png": b"GIF89 nope" for c in ("ok", "bad")
                                                       for i in range(3)}, base=False),
    "truncated JPEG": lambda: _zip_with({"scratch/cut.jpg": image_bytes("JPEG")[:150]}),
    "zero-byte image": lambda: _zip_with({"ok/empty.png": b""}),
    "decompression-bomb image (30,000 x 30,000)": lambda: _zip_with({"ok/huge.png": _huge_image_header()}),
    "single class": lambda: _zip_with({k: v for k, v in good_images().items() if k.startswith("ok/")}, base=False),
    "one image per class": lambda: _zip_with({"ok/a.png": image_bytes(), "scratch/b.png": image_bytes(colour=3)},
                                             base=False),
    "macOS clutter only": lambda: _zip_with({"__MACOSX/ok/._a.png": b"\x00\x05", ".DS_Store": b"x"}, base=False),
    "directory entries only": lambda: _zip_with({"ok/": b"", "scratch/": b""}, base=False),
    "labels CSV with hostile text": lambda: _zip_with({
        "img_0.png": image_bytes(), "img_1.png": image_bytes(colour=9),
        "labels.csv": b'file,label\nimg_0.png,=HYPERLINK("http://x","y")\nimg_1.png,<img src=x onerror=alert(1)>\n'},
        base=False),
    "labels CSV naming missing files": lambda: _zip_with({"labels.csv": b"file,label\nnope.png,ok\n"}, base=False),
    "unicode and very long file names": lambda: _zip_with({f"ok/{'é' * 200}.png": image_bytes(),
                                                           "scratch/\u202egnp.exe": image_bytes()}),
    "duplicate member names": lambda: _zip_with({"ok/img_0.png": b"not an image"}),
    "password-protected flag": lambda: _encrypted_flag(),
    "gzip instead of zip": lambda: gzip.compress(_zip_with()),
    "a single PNG instead of a zip": lambda: image_bytes(),
    "masks only (named as masks, two-valued)": lambda: _zip_with({f"{c}/{i}_mask.png": _mask_bytes(i)
                                                                  for c in ("ok", "dent") for i in range(3)}, base=False),
    "a mask beside every photo (x.png beside x.jpg)": lambda: _zip_with(
        {f"{c}/Imgs/img_{i}.{ext}": image_bytes("JPEG", colour=i + 7 * k) if ext == "jpg" else _mask_bytes(i)
         for k, c in enumerate(("ok", "dent")) for i in range(3) for ext in ("jpg", "png")}, base=False),
}


def _mask_bytes(seed: int, size: int = 24) -> bytes:
    """A black-and-white segmentation mask (0 / 255), as catalogues ship beside their photos."""
    from PIL import Image

    arr = np.zeros((size, size), np.uint8)
    arr[seed:seed + 8, 4:12] = 255
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def count_by_scenario() -> dict[str, int]:
    """Distinct bad-input classes tried per scenario (shared table classes count for each table
    scenario, since each scenario's loaders are run on each; the Score page check is included)."""
    shared = len(TABLE_CASES)
    return {"credit": shared + len(CREDIT_CASES), "fraud": shared + len(FRAUD_CASES),
            "demand": shared + len(DEMAND_CASES), "quality": len(ZIP_CASES)}

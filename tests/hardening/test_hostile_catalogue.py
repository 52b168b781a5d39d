"""Every catalogued bad-input class through every loader of its scenario: a clean result or a clear
refusal (DataValidationError with what was expected, what came and what to do), never a traceback."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.hardening import catalogue as C
from tests.hardening import pipelines as P

TABLE = [(s, name) for s in ("credit", "fraud", "demand") for name in (*C.TABLE_CASES, *C.SCENARIO_CASES[s])]
# The covariates upload is a second file on the demand page: the classes about reading a file apply
# to it too (the others are about sales history, or repeat a class already read the same way).
COVARIATE_CASES = {"utf-16 with BOM", "latin-1 accents", "semicolon + decimal comma", "duplicate headers",
                   "empty headers", "dates in several formats", "dates out of pandas range", "NaN / inf / -inf text",
                   "huge numbers", "every cell empty", "single row", "no header row", "JSON renamed .csv",
                   "HTML and formula text in headers and cells", "placeholder strings (NULL, NA, -, ?)",
                   "control characters in cells", "numeric headers", "zip holding one table and a README",
                   "zip holding several tables", "xlsx with a title, a note and a second sheet", "xls workbook",
                   "no header row, '?' missing, +/- label (UCI .data)"}


@pytest.fixture(scope="module")
def bases():
    return {s: make() for s, make in C.BASE.items()}


@pytest.mark.parametrize("scenario,case", TABLE, ids=[f"{s}:{c}" for s, c in TABLE])
def test_table_case_is_read_or_refused_clearly(scenario, case, bases):
    make = C.TABLE_CASES.get(case) or C.SCENARIO_CASES[scenario][case]
    raw = make(bases[scenario])
    outcomes = {}
    for loader in P.LOADERS[scenario]:
        if loader is P.load_demand_covariates and case not in COVARIATE_CASES:
            continue
        outcomes[loader.__name__] = P.outcome(loader, raw)
    assert outcomes and all(o == "ok" or o.startswith("refused: ") for o in outcomes.values())


@pytest.mark.parametrize("case", list(C.ZIP_CASES))
def test_zip_case_is_read_or_refused_clearly(case):
    raw = C.ZIP_CASES[case]()
    outcomes = [P.outcome(loader, raw) for loader in P.LOADERS["quality"]]
    assert all(o == "ok" or o.startswith("refused: ") for o in outcomes)


def test_catalogue_counts_reach_the_goal():
    counts = C.count_by_scenario()
    assert set(counts) == {"credit", "fraud", "demand", "quality"}
    assert min(counts.values()) >= 25
    assert sum(counts.values()) >= 60
    # Names are the classes: no two entries of one scenario may be the same class twice.
    for s in ("credit", "fraud", "demand"):
        assert not set(C.TABLE_CASES) & set(C.SCENARIO_CASES[s])


# ---------------------------------------------------------------- what the fixes guarantee
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "latin-1"])
def test_text_encodings_are_read_with_their_values(encoding):
    from core.data.datasets import read_table

    df = pd.DataFrame({"city": ["Zürich", "Málaga"], "amount": [1.5, -2.0]})
    got = read_table(df.to_csv(index=False).encode(encoding), name="x.csv").df
    assert list(got.columns) == ["city", "amount"]
    assert got["city"].tolist() == ["Zürich", "Málaga"] and got["amount"].tolist() == [1.5, -2.0]


def test_semicolon_file_with_decimal_commas_keeps_the_decimals():
    from core.data.datasets import read_table

    raw = b"income;region\n38896,74;North\n1200,5;South\n"
    got = read_table(raw, name="eu.csv").df
    assert got["income"].tolist() == [38896.74, 1200.5]


def test_classic_mac_line_endings_are_rows():
    from core.data.datasets import read_table

    got = read_table(b"a,b\r1,2\r3,4\r", name="mac.csv").df
    assert got.shape == (2, 2) and got["b"].tolist() == [2, 4]


def test_too_many_columns_is_refused_with_the_limit():
    from core.data.datasets import MAX_COLUMNS, read_table
    from core.data.tablestream import iter_table_chunks
    from core.errors import DataValidationError

    raw = C._wide(C.credit_frame(5), 10_000)
    with pytest.raises(DataValidationError, match=rf"10,006 columns; expected at most {MAX_COLUMNS:,}\. Fix: keep"):
        read_table(raw, name="wide.csv")
    with pytest.raises(DataValidationError, match="expected at most"):
        P.stream_chunks(raw)


def test_gzip_bomb_is_refused_before_it_is_unpacked(monkeypatch):
    import gzip

    import core.data.datasets as ds
    from core.errors import DataValidationError

    monkeypatch.setattr(ds, "MAX_UNPACKED_BYTES", 2 * 1024 * 1024)
    bomb = gzip.compress(b"a,b\n" + b"0,0\n" * 2_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    with pytest.raises(DataValidationError, match=r"unpacks to more than 2 MB .*Fix: upload a smaller extract"):
        ds.read_table(bomb, name="bomb.csv.gz")


@pytest.mark.parametrize("raw", [b"a,b\n" + b"1,2\n" * 2000 + b"\x00\x00" * 3 + b"3,4\n", b"\x1f\x8b\x08\x00broken"],
                         ids=["zero bytes on line 2,002", "broken gzip"])
def test_nul_bytes_and_broken_gzip_are_refused(raw):
    from core.data.datasets import read_table
    from core.errors import DataValidationError

    with pytest.raises(DataValidationError, match=r"(line 2,002 holds binary zero bytes|cannot be unpacked).*Fix: (export|compress)"):
        read_table(raw, name="x.csv")


def test_mixed_time_zones_and_far_dates_are_read_or_marked_missing():
    from core.data.datasets import parse_datetimes

    s = pd.Series(["2024-03-01T10:00:00+02:00", "2024-03-01T08:00:00Z", "9999-12-31", "not a date"])
    t = parse_datetimes(s)
    assert str(t.dtype) == "datetime64[ns]"
    assert t.iloc[0] == t.iloc[1] == pd.Timestamp("2024-03-01 08:00:00")
    assert t.iloc[2:].isna().all()


def test_fraud_log_with_far_future_time_is_refused_with_examples():
    from core.errors import DataValidationError

    df = C.fraud_frame()
    df.loc[3, "timestamp"] = "9999-12-31"
    with pytest.raises(DataValidationError, match=r"1 of 80 rows could not be read.*'9999-12-31'.*Fix:"):
        P.load_fraud(df.to_csv(index=False).encode())


@pytest.mark.parametrize("case,pattern", [
    ("path traversal (../)", "points outside the archive"), ("symlink entry", "symbolic link"),
    ("zip bomb (high ratio)", "zip bomb"), ("password-protected flag", "password-protected"),
    ("truncated zip", "not a readable zip"), ("absolute path", "points outside the archive"),
])
def test_dangerous_archives_are_refused_for_the_right_reason(case, pattern):
    from core.errors import DataValidationError

    with pytest.raises(DataValidationError, match=pattern):
        P.load_quality_training(C.ZIP_CASES[case]())


def test_damaged_images_are_skipped_with_a_notice():
    from core.quality.data import LoadOptions, load_image_dataset

    for case in ("truncated JPEG", "non-image renamed .png", "decompression-bomb image (30,000 x 30,000)"):
        data = load_image_dataset(C.ZIP_CASES[case](), options=LoadOptions(image_size=32, min_per_class=2))
        assert len(data.labels) == 6, case
        assert any("could not be read as images and were skipped" in n for n in data.notices), case


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_chunked_reader_reads_utf16_past_its_64_kb_sniffing_window(encoding):
    df = pd.DataFrame({"city": ["Zürich"] * 6000, "amount": range(6000)})
    raw = df.to_csv(index=False).encode(encoding)
    assert len(raw) > 65536
    assert P.stream_chunks(raw) == 6000

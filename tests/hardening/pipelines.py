"""The chain of loaders each page and the CLI run on an upload, headless, and the outcome check.

Every function takes the uploaded bytes and runs what the page runs before training: reading,
column guessing, validation and cleaning. A hostile file must end in a clean result or a
``DataValidationError`` whose message says what was expected, what was found and what to do.
"""

from __future__ import annotations

import re
import tempfile
import traceback
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError

MAX_MESSAGE = 2_500  # a message longer than this is a wall of text, not a clear message


def load_credit(raw: bytes, name: str = "upload.csv"):
    """Credit page: read, roles, target guess and outcome check, then the training-data preparation."""
    from core.credit.pipeline import guess_target, prepare_credit_data
    from core.data.datasets import check_outcome_column, detect_sensitive, infer_roles, read_table

    df = read_table(raw, name=name, personal="drop").df
    infer_roles(df)
    detect_sensitive(df.columns)
    target = guess_target(df.columns) or df.columns[-1]
    check_outcome_column(df, target)
    return prepare_credit_data(df, target=target)


def load_fraud(raw: bytes, name: str = "upload.csv"):
    """Fraud page: read the whole log, map the columns, validate and sort it, pick extra features."""
    from core.data.datasets import read_table
    from core.fraud.columns import extra_feature_columns, make_columns, prepare_log

    df = read_table(raw, name=name, max_rows=None, personal="drop").df
    cols = make_columns(df)
    log = prepare_log(df, cols)
    extra_feature_columns(log, cols)
    return log


def load_demand(raw: bytes, name: str = "upload.csv"):
    """Demand page / CLI: read, guess the roles, then load and regularise the sales history."""
    from core.data.datasets import read_table
    from core.demand.data import load_sales
    from core.demand.roles import guess_roles

    df = read_table(raw, name=name, max_rows=None, personal="drop").df
    guess = guess_roles(df)
    guess.roles()
    cmap = guess.to_columns()
    return load_sales(df, cmap, max_rows=500_000)


def load_demand_covariates(raw: bytes, name: str = "covariates.csv"):
    """Demand page's second upload: a covariates file joined onto a good sales file."""
    from core.data.datasets import read_table
    from core.demand.covariates import join_covariates

    from tests.hardening.catalogue import demand_frame

    cov = read_table(raw, name=name, max_rows=None, personal="drop").df
    return join_covariates(demand_frame(), cov, date_col="date", series_cols=("store",))


def load_quality_training(raw: bytes):
    """Quality page: a zip of labelled images for training."""
    from core.quality.data import LoadOptions, load_image_dataset

    return load_image_dataset(raw, options=LoadOptions(image_size=32, min_per_class=2))


def load_quality_scoring(raw: bytes):
    """Score page / CLI for an image run: a zip of images to score."""
    from core.quality.data import load_images_for_scoring

    return load_images_for_scoring(raw, image_size=32, channels=3, class_names=("ok", "scratch"))


def load_quality_single(raw: bytes):
    """Quality page's single-image check."""
    from core.quality.data import load_single_image

    return load_single_image(raw, image_size=32, channels=3)


# A saved run's metadata as the Score page reads it (only the keys check_columns needs).
SCORE_META = {
    "credit": {"scenario": "credit", "credit": {"numeric": ["age", "income"], "categorical": ["region", "purpose"]}},
    "fraud": {"scenario": "fraud", "columns": {"time": "timestamp", "amount": "amount", "customer": "customer_id",
                                               "terminal": "terminal_id"}, "extra_columns": []},
    "demand": {"scenario": "demand", "column_map": {"date": "date", "target": "units_sold", "series": ["store"],
                                                    "covariates": ["price"]}},
}


def check_for_scoring(scenario: str):
    """Score page: read the file, compare its columns with the run's, coerce the numbers."""

    def run(raw: bytes, name: str = "to_score.csv"):
        from core.data.datasets import read_table
        from core.workspace.inputs import check_columns, coerce_numbers

        df = read_table(raw, name=name, max_rows=None).df
        report = check_columns(SCORE_META[scenario], df)
        report.table()
        report.notices()
        if not report.ok:
            raise DataValidationError(report.error_message())
        return coerce_numbers(df, report)

    return run


def stream_chunks(raw: bytes, name: str = "to_score.csv"):
    """CLI batch scoring: the streamed reader over a file on disk."""
    from core.data.tablestream import iter_table_chunks

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / name
        p.write_bytes(raw)
        return sum(len(c) for c in iter_table_chunks(p, chunk_size=1000))


LOADERS = {
    "credit": [load_credit, check_for_scoring("credit")],
    "fraud": [load_fraud, check_for_scoring("fraud"), stream_chunks],
    "demand": [load_demand, load_demand_covariates, check_for_scoring("demand")],
    "quality": [load_quality_training, load_quality_scoring, load_quality_single],
}

_FIX_WORDS = re.compile(
    r"\b(fix|upload|pick|check|save|use|remove|re-create|recreate|add|put|rename|map|choose|aggregate|name|"
    r"create|point|zip|drop|write|fill|mark|select|split|encode|copy|convert|export|keep|give|pass|try|"
    r"change|delete|merge|set|make|score)\b", re.IGNORECASE)


def check_message(exc: DataValidationError) -> str:
    """The message of a refused file, checked: non-empty, short enough to read, no traceback or
    Python internals, and it tells the analyst what to do."""
    msg = str(exc)
    problems = []
    if not msg.strip():
        problems.append("empty message")
    if len(msg) > MAX_MESSAGE:
        problems.append(f"{len(msg):,} characters long")
    if "Traceback" in msg or "File \"/" in msg:
        problems.append("contains a traceback")
    if not _FIX_WORDS.search(msg):
        problems.append("says nothing the analyst can do")
    if problems:
        raise AssertionError(f"unclear message ({', '.join(problems)}): {msg[:600]!r}")
    return msg


def outcome(loader, raw: bytes, **kwargs) -> str:
    """``"ok"`` or ``"refused: <message>"``; any other exception fails with its traceback."""
    try:
        loader(raw, **kwargs)
    except DataValidationError as exc:
        return "refused: " + check_message(exc)
    except Exception as exc:  # noqa: BLE001 - the point of the test
        raise AssertionError(f"{loader.__name__} raised {type(exc).__name__}: {exc!s:.400}\n"
                             + "".join(traceback.format_exception(exc))[-3000:]) from None
    return "ok"


def frame_bytes(df: pd.DataFrame, **kwargs) -> bytes:
    kwargs.setdefault("index", False)
    encoding = kwargs.pop("encoding", "utf-8")
    return df.to_csv(**kwargs).encode(encoding)

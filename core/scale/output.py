"""Scored parts written by the workers, put in place under ``--out`` only when every part is there.

Each block's rows go to ``part-NNNNN`` inside a hidden staging folder beside ``--out``; a worker
writes its part under a temporary name and renames it, so a task retried after a worker died
replaces the part instead of adding rows. When all parts are there the staging folder becomes the
Parquet folder ``--out`` (one part per partition), or the parts are joined in order into the
single CSV ``--out``, which is renamed into place. A run that fails removes the staging folder:
``--out`` is either complete or absent (or, when it existed before, left as it was).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError
from core.data.safety import escape_formula_cells

FORMATS = ("csv", "parquet")


def choose_format(out, asked: str | None) -> str:
    """``--out-format`` when given, else Parquet for a folder-like ``--out`` and CSV for ``*.csv``."""
    if asked:
        if asked not in FORMATS:
            raise DataValidationError(f"Expected --out-format csv or parquet; got '{asked}'. Fix: pick one of them.")
        return asked
    name = Path(out).name.lower()
    return "csv" if name.endswith((".csv", ".csv.gz", ".txt")) else "parquet"


def part_name(index: int, fmt: str) -> str:
    return f"part-{index:05d}.{'csv' if fmt == 'csv' else 'parquet'}"


def write_part(df: pd.DataFrame, staging: str, index: int, fmt: str) -> None:
    """Write one block's scored rows (on a worker); a retry overwrites, never duplicates."""
    final = Path(staging) / part_name(index, fmt)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    try:
        if fmt == "csv":
            # The header only on the first part, exactly as the single-process scorer writes it.
            # Text a spreadsheet would run as a formula (=, +, -, @) is written with a leading quote.
            escape_formula_cells(df).to_csv(tmp, header=index == 0, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


class StagedOutput:
    """The hidden folder the workers write into, and how it becomes ``out``."""

    def __init__(self, out, fmt: str):
        self.out = Path(out)
        self.fmt = fmt
        if not self.out.parent.exists():
            raise DataValidationError(f"Expected the folder of --out to exist; '{self.out.parent}' does not. "
                                      "Fix: create it or choose another path.")
        if self.fmt == "parquet" and self.out.exists() and not self.out.is_dir():
            raise DataValidationError(f"Expected --out to be a folder for Parquet output; '{self.out}' is a file. "
                                      "Fix: choose a new folder name, or pass --out-format csv.")
        if self.fmt == "csv" and self.out.is_dir():
            raise DataValidationError(f"Expected --out to be a file for CSV output; '{self.out}' is a folder. "
                                      "Fix: choose a file name like scored.csv, or pass --out-format parquet.")
        self.staging = self.out.with_name(f".{self.out.name}.staging-{uuid.uuid4().hex[:12]}")
        self.staging.mkdir()

    def finish(self, n_parts: int) -> None:
        """Check every part is there, then put the result in place under ``out``."""
        missing = [i for i in range(n_parts) if not (self.staging / part_name(i, self.fmt)).exists()]
        if missing:
            raise DataValidationError(
                f"Expected {n_parts} scored parts; {len(missing)} are missing (e.g. part {missing[0]}), so nothing "
                f"was written to '{self.out}'. Fix: check that --out is on storage every worker can write to, "
                "then run again.")
        from core.store.registry import _fsync_dir, _fsync_file, atomic_output

        if self.fmt == "csv":
            # The joined file is flushed to disk before its rename and the folder after (the same
            # durable write as every other output), and a partial file a killed run left is removed.
            with atomic_output(self.out, what="Writing the scored file") as partial:
                with open(partial, "wb") as dst:
                    for i in range(n_parts):
                        with open(self.staging / part_name(i, self.fmt), "rb") as src:
                            shutil.copyfileobj(src, dst, 1 << 20)
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        # Parquet: every part and the staging folder reach the disk before the folder is renamed in.
        for i in range(n_parts):
            _fsync_file(self.staging / part_name(i, self.fmt))
        _fsync_dir(self.staging)
        old = None
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old-{uuid.uuid4().hex[:12]}")
            os.replace(self.out, old)
        os.replace(self.staging, self.out)
        _fsync_dir(self.out.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove everything written so far (the run failed or was stopped)."""
        shutil.rmtree(self.staging, ignore_errors=True)

"""Training on a file larger than memory: a documented sample, read block by block.

Training stays on one machine, but ``--data`` may be a file that does not fit in it (one large
file, a glob of files or a folder of Parquet parts). It is cut into the same row blocks the scaled
scorer reads (``core.scale.inputs``) and read twice, block by block, in one process
(``--engine local``) or in parallel on a Dask cluster (``--engine dask``); only the sample is ever
held in memory.

Here: the sample arguments and budget, the reader that maps a per-block function over the blocks
(``Reader``), personal data left out as blocks are read, and ``read_uniform_sample``, the seeded
random sample the app already takes of a file that fits in memory, over every block's row numbers,
for rows with no time order. A scenario whose rows have a time order reads its own sample with
these pieces (fraud's most recent whole days: ``core.fraud.sample``).
"""
from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError

DEFAULT_SAMPLE_ROWS = 2_000_000  # rows held in memory with --engine dask and no --sample-rows
READ_CHUNK = 200_000  # rows per block while reading the file for the sample

UNIFORM_RULE = "hold at most N rows in memory: train on a random sample of N rows (seeded with --seed)"


def add_sample_arguments(parser, *, rule: str = UNIFORM_RULE) -> None:
    """``--sample-rows``, ``--engine``, ``--scheduler``, ``--workers`` and ``--chunk-size`` for training."""
    g = parser.add_argument_group("files larger than memory")
    g.add_argument("--sample-rows", type=int, default=None, metavar="N",
                   help=f"{rule}; --data may then be a glob or a folder of Parquet parts")
    g.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="how the file is read for the sample: local, block by block in this process; dask, blocks "
                        f"read in parallel on a Dask cluster (then --sample-rows defaults to {DEFAULT_SAMPLE_ROWS:,})")
    g.add_argument("--scheduler", default=None,
                   help="with --engine dask: a running scheduler, e.g. tcp://10.0.0.5:8786 (default: this machine)")
    g.add_argument("--workers", type=int, default=None,
                   help="with --engine dask and no --scheduler: worker processes (default: one per core)")
    g.add_argument("--chunk-size", type=int, default=READ_CHUNK,
                   help=f"rows per block while reading the file for the sample (default {READ_CHUNK:,})")


def wants_sample(args) -> bool:
    """True when training should read ``--data`` through the sample (``--sample-rows`` or ``--engine dask``)."""
    return getattr(args, "sample_rows", None) is not None or getattr(args, "engine", "local") == "dask"


def sample_budget(args) -> int:
    n = getattr(args, "sample_rows", None)
    n = DEFAULT_SAMPLE_ROWS if n is None else int(n)
    if n < 1:
        raise DataValidationError(f"Expected --sample-rows of 1 or more; got {n}. Fix: e.g. --sample-rows 2000000.")
    return n


def without_columns(df: pd.DataFrame, drop) -> pd.DataFrame:
    """``df`` less the personal-data columns named in ``drop`` (left out as the block is read)."""
    gone = [c for c in df.columns if str(c) in set(drop or ())]
    return df.drop(columns=gone) if gone else df


# ---------------------------------------------------------------- reading the file block by block
class Reader:
    """Maps a per-block function over ``--data``'s blocks, in this process or on a Dask cluster."""

    def __init__(self, args, files, client=None, *, noun: str = "rows"):
        from core.scale.engine import Progress

        self.args, self.files, self.client, self.noun = args, files, client, noun
        self.chunk = int(getattr(args, "chunk_size", READ_CHUNK) or READ_CHUNK)
        self.progress_cls = Progress
        self.partitions = 0

    def blocks(self):
        from core.scale.inputs import plan_blocks

        from core.data.tablestream import choice_of

        return plan_blocks(self.files, chunk_size=self.chunk, **choice_of(self.args))  # --member / --sheet

    def map(self, fn: Callable, *fn_args, what: str, per_block: Callable | None = None) -> list:
        """``fn(block, *fn_args[, per_block(block.index)])`` for every block, in block order."""
        from core.scale.engine import run_ordered
        from core.scale.inputs import read_here

        progress = self.progress_cls(what=self.noun, verb=what)
        out: dict[int, object] = {}
        blocks = self.blocks()
        total = None
        if not any(read_here(f) for f in self.files):  # gzip, zip, workbooks are read here block by block: no count ahead
            blocks = list(blocks)
            total = len(blocks)

        def rows_of(res) -> int:
            if isinstance(res, int):
                return res
            return int(res["rows"].sum()) if "rows" in getattr(res, "columns", []) else len(res)

        def args_of(block) -> tuple:
            return fn_args if per_block is None else (*fn_args, per_block(block.index))

        if self.client is None:
            for block in blocks:
                out[block.index] = fn(block, *args_of(block))
                progress.update(rows_of(out[block.index]), total=total)
        else:
            def submit(block):
                return self.client.submit(fn, block, *args_of(block), pure=False)

            def done(block, res):
                out[block.index] = res
                progress.update(rows_of(res), total=total)

            run_ordered(self.client, blocks, submit, done, total=total)
        self.partitions = len(out)
        return [out[i] for i in range(len(out))]


def open_sample_client(args):
    """A Dask client for ``--engine dask`` (a LocalCluster or ``--scheduler``), else nothing."""
    import contextlib

    if getattr(args, "engine", "local") != "dask":
        return contextlib.nullcontext(None)
    from core.cli import say as cli_say
    from core.scale.cluster import open_client

    return open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=cli_say)


def files_and_chunk(args):
    from core.scale.inputs import find_input_files

    files = find_input_files(args.data)
    chunk = int(getattr(args, "chunk_size", READ_CHUNK) or READ_CHUNK)
    if chunk < 1:
        raise DataValidationError(f"Chunk size must be at least 1 row; got {chunk}. Fix: pass e.g. 200000.")
    return files, chunk


def personal_data_block(files, chunk: int, args=None, keys=None):
    """(the first block with personal data left out, the ``PrivacyResult`` saying which columns,
    the notices of reading the file).

    As the command line's ``read_table(..., personal="drop", keys=keys)`` does for a file that
    fits, the columns are found from a sample of values (here of the first block) and dropped from
    every block as it is read (a customer key chosen by ``keys`` pseudonymised instead), so no
    personal value reaches the sample. Reading the file may notice the table read from a zip or a
    sheet, or a first row of data."""
    from core.data.privacy import protect_personal_data
    from core.scale.inputs import block_notices, plan_blocks, read_block
    from core.data.tablestream import choice_of

    block = next(iter(plan_blocks(files[:1], chunk_size=min(chunk, 10_000), **choice_of(args))))
    found = protect_personal_data(read_block(block), mode="drop", keys=keys)
    return found.df, found, block_notices(block)


def loaded_table(df: pd.DataFrame, notices: list[str], files, found):
    from core.data.datasets import LoadedTable

    df.attrs["personal_data"] = found.excluded
    if len(files) == 1:  # one file sampled: the run records which file (a glob of several has no one hash)
        from core.report.runsummary import source_sha256

        df.attrs["source_sha256"] = source_sha256(files[0])
    return LoadedTable(df=df, notices=[*found.notices, *notices], name=table_name(files), personal=found.excluded)


def table_name(files) -> str:
    return ", ".join(f.name for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")


# ---------------------------------------------------------------- a seeded uniform sample
def block_count(block) -> int:
    """Rows of one block."""
    from core.scale.inputs import read_block

    return len(read_block(block))


def block_take(block, drop, positions) -> pd.DataFrame:
    """The block's rows at ``positions`` (all of them when None), in the file's order, without the
    personal-data columns in ``drop``."""
    from core.scale.inputs import read_block

    df = without_columns(read_block(block), drop)
    return df if positions is None else df.iloc[positions].reset_index(drop=True)


def read_uniform_sample(args, *, seed: int = 0, say: Callable[[str], None] | None = None):
    """(a ``LoadedTable`` of at most ``--sample-rows`` rows, its ``data.sample`` summary) for a table whose
    rows carry no time order the model learns from (credit applications): the sample is the one the app takes
    of a file that fits in memory (``read_table``: ``DataFrame.sample(n, random_state=seed)``, rows
    kept in file order), drawn over the row numbers of every block without holding the file: the
    same rows whichever engine reads it.
    """
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    budget = sample_budget(args)
    files, chunk = files_and_chunk(args)
    _, found, read_notices = personal_data_block(files, chunk, args)
    drop = [c.column for c in found.columns]
    engine = getattr(args, "engine", "local")
    with open_sample_client(args) as client:
        reader = Reader(args, files, client)
        counts = reader.map(block_count, what="counted")
        total = int(sum(counts))
        if total <= budget:
            picks = None
        else:
            chosen = np.sort(np.random.RandomState(seed).choice(total, size=budget, replace=False))
            edges = np.r_[0, np.cumsum(counts)]
            picks = [chosen[(chosen >= edges[i]) & (chosen < edges[i + 1])] - edges[i] for i in range(len(counts))]
        parts = reader.map(block_take, drop, what="kept", per_block=lambda i: None if picks is None else picks[i])
    df = pd.concat(parts, ignore_index=True)
    if picks is None:
        notice = f"The whole file fits --sample-rows {budget:,}: all {total:,} rows are read."
    else:
        notice = (f"Training on a random sample of {budget:,} of the file's {total:,} rows (seeded with --seed {seed}, "
                  "so the same rows every time, in the file's order; the app's own sample of a file that fits in "
                  "memory). Raise --sample-rows to train on more.")
    say(notice)
    summary = {"rule": "seeded uniform sample of rows (DataFrame.sample with random_state=seed), file order kept",
               "budget_rows": budget, "file_rows": total, "rows_read": len(df), "whole_file": picks is None,
               "seed": seed, "engine": engine, "partitions": reader.partitions, "files": len(files)}
    return loaded_table(df, [*read_notices, notice], files, found), summary

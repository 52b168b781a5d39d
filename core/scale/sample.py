"""Training on a file larger than memory: a documented sample, read block by block.

Training stays on one machine, but ``--data`` may be a log that does not fit in it (one large
file, a glob of files or a folder of Parquet parts). It is cut into the same row blocks the scaled
scorer reads (``core.scale.inputs``) and read twice, block by block, in one process
(``--engine local``) or in parallel on a Dask cluster (``--engine dask``); only the sample is ever
held in memory.

A transaction log (``read_fraud_sample``):

1. First pass: every block's transactions per day and frauds per day (timestamps and labels
   parsed and checked by ``prepare_log``, exactly as training does).
2. The fraud day rule (``core.scale.dayrule``) picks the most recent whole days that fit
   ``--sample-rows`` with the window reach before them as feature history.
3. Second pass: each block keeps its rows from the first history day on, in the file's order.
4. With ``--engine dask`` the sample's window features are built on the same cluster, in time
   partitions with the overlap the windows need (``core.scale.fraud.features_on_cluster``).

Credit applications have no time order the model learns from: ``read_uniform_sample`` takes the
seeded random sample the app already takes of a file that fits in memory, over every block's row
numbers, without holding the file.
"""
from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.scale.dayrule import TimeSample, choose_start  # noqa: F401 (the rule; imported from here too)

DEFAULT_SAMPLE_ROWS = 2_000_000  # rows held in memory with --engine dask and no --sample-rows
READ_CHUNK = 200_000  # rows per block while reading the file for the sample

TIME_RULE = ("hold at most N rows in memory: train on the most recent whole days that fit, with the window reach "
             "before them read as feature history (counted in N)")
UNIFORM_RULE = "hold at most N rows in memory: train on a random sample of N rows (seeded with --seed)"


def add_sample_arguments(parser, *, rule: str = TIME_RULE) -> None:
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


# ---------------------------------------------------------------- per block (run on a worker)
def _roles(cols) -> list[str]:
    return [c for c in (cols.time, cols.amount, cols.customer, cols.terminal, cols.target) if c]


def _missing_roles(df: pd.DataFrame, cols, block) -> None:
    missing = [c for c in _roles(cols) if c not in df.columns]
    if missing:
        from pathlib import Path

        raise DataValidationError(
            f"Expected every file of the log to have the columns {_roles(cols)}; '{Path(block.path).name}' "
            f"lacks {missing}. Fix: give every file the same header.")


def block_days(block, cols) -> pd.DataFrame:
    """Transactions per day and label as written of one block (``rows``, indexed by day and label): the
    label rule is decided on the whole file's counts (``core.scale.labels``)."""
    from core.fraud.columns import prepare_log
    from core.scale.inputs import read_block
    from core.scale.labels import count_labels

    df = read_block(block)
    _missing_roles(df, cols, block)
    log = prepare_log(df[_roles(cols)].assign(**{cols.target: 0}), cols)  # times and amounts checked here
    return count_labels(df, log[cols.time].dt.normalize(), cols.target, log["_row"].to_numpy())


def _without(df: pd.DataFrame, drop) -> pd.DataFrame:
    """``df`` less the personal-data columns named in ``drop`` (left out as the block is read)."""
    gone = [c for c in df.columns if str(c) in set(drop or ())]
    return df.drop(columns=gone) if gone else df


def block_rows_since(block, cols, since, drop=(), keys=None, rule=None) -> pd.DataFrame:
    """The block's rows (every column but the personal ones in ``drop``, in the file's order) from
    ``since`` on; all of them when None. ``keys`` (a ``core.pseudonym.KeyRule``) pseudonymises the
    customer key column as the block is read; ``rule`` (a ``core.outcome.LabelRule``) reads labels
    spelled otherwise as 0/1 and leaves out the rows it does not count."""
    from core.fraud.columns import prepare_log
    from core.scale.inputs import read_block
    from core.scale.labels import apply_rule

    df = apply_rule(_without(read_block(block), drop), rule)
    if keys is not None:
        df = keys.apply(df)
    if since is None:
        return df
    log = prepare_log(df[_roles(cols)], cols)
    keep = np.sort(log.loc[log[cols.time] >= since, "_row"].to_numpy())
    return df.iloc[keep].reset_index(drop=True)


# ---------------------------------------------------------------- reading the log twice
class _Reader:
    """Maps a per-block function over ``--data``'s blocks, in this process or on a Dask cluster."""

    def __init__(self, args, files, client=None, *, noun: str = "rows"):
        from core.scale.engine import Progress

        self.args, self.files, self.client, self.noun = args, files, client, noun
        self.chunk = int(getattr(args, "chunk_size", READ_CHUNK) or READ_CHUNK)
        self.progress_cls = Progress
        self.partitions = 0

    def blocks(self):
        from core.scale.inputs import plan_blocks

        from core.tablestream import choice_of

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


def _client(args):
    """A Dask client for ``--engine dask`` (a LocalCluster or ``--scheduler``), else nothing."""
    import contextlib

    if getattr(args, "engine", "local") != "dask":
        return contextlib.nullcontext(None)
    from core.cli import say as cli_say
    from core.scale.cluster import open_client

    return open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=cli_say)


def _files_and_chunk(args):
    from core.scale.inputs import find_input_files

    files = find_input_files(args.data)
    chunk = int(getattr(args, "chunk_size", READ_CHUNK) or READ_CHUNK)
    if chunk < 1:
        raise DataValidationError(f"Chunk size must be at least 1 row; got {chunk}. Fix: pass e.g. 200000.")
    return files, chunk


def _personal_data(files, chunk: int, args=None, keys=None):
    """(the first block with personal data left out, the ``PrivacyResult`` saying which columns,
    the notices of reading the file).

    As the command line's ``read_table(..., personal="drop", keys=keys)`` does for a file that
    fits, the columns are found from a sample of values (here of the first block) and dropped from
    every block as it is read (a customer key chosen by ``keys`` pseudonymised instead), so no
    personal value reaches the sample. Reading the file may notice the table read from a zip or a
    sheet, or a first row of data."""
    from core.privacy import protect_personal_data
    from core.scale.inputs import block_notices, plan_blocks, read_block
    from core.tablestream import choice_of

    block = next(iter(plan_blocks(files[:1], chunk_size=min(chunk, 10_000), **choice_of(args))))
    found = protect_personal_data(read_block(block), mode="drop", keys=keys)
    return found.df, found, block_notices(block)


def _loaded(df: pd.DataFrame, notices: list[str], files, found):
    from core.datasets import LoadedTable

    df.attrs["personal_data"] = found.excluded
    if len(files) == 1:  # one file sampled: the run records which file (a glob of several has no one hash)
        from core.runsummary import source_sha256

        df.attrs["source_sha256"] = source_sha256(files[0])
    return LoadedTable(df=df, notices=[*found.notices, *notices], name=_table_name(files), personal=found.excluded)


def _table_name(files) -> str:
    return ", ".join(f.name for f in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def read_fraud_sample(args, config, *, say: Callable[[str], None] | None = None, keys=None):
    """(a ``LoadedTable`` holding the sample, the ``TimeSample`` saying which rows) for fraud training.

    ``config`` is the run's ``FraudConfig`` (its windows, label delay, gap and split dates). With
    ``--engine dask`` the sample's window features are built on the same cluster, in time
    partitions with the overlap the windows need (``core.scale.fraud.features_on_cluster``), and
    handed to training as ``sample.features``. ``keys`` (a ``core.pseudonym.KeyRule``) keeps the
    customer key as a keyed pseudonym (chosen on the first block, then fixed for every block).
    """
    from core.cli import negative_values  # --negative as a list (core/cli.py imports no scenario)
    from core.fraud.service import history_keep
    from core.fraud.columns import make_columns
    from core.scale.labels import decide

    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    budget = sample_budget(args)
    files, chunk = _files_and_chunk(args)
    first, found, read_notices = _personal_data(files, chunk, args, keys)
    drop = [c.column for c in found.columns if c.column not in found.keyed]
    fixed = keys.fixed(found.keyed) if found.keyed else None
    cols = make_columns(first, time=args.time_col, amount=args.amount_col, target=args.target,
                        customer=args.customer_col or (found.keyed[0] if found.keyed else None),
                        terminal=args.terminal_col, time_unit=getattr(args, "time_unit", None))
    # Split points given as numbers of an elapsed-time unit become times here, as training reads them.
    config = replace(config, **{k: cols.clock.parse(getattr(config, k), k.replace("_", "-"))
                                for k in ("train_start", "test_start") if getattr(config, k) is not None})
    reach = history_keep(config.features)
    engine = getattr(args, "engine", "local")
    with _client(args) as client:
        reader = _Reader(args, files, client, noun="transactions")
        per_block = reader.map(block_days, cols, what="counted")
        # Labels spelled otherwise (Y/N, fraud/ok/pending, --positive / --negative) read as a file that fits is.
        rule, label_notices, days = decide(pd.concat(per_block), cols.target, positive=getattr(args, "positive", None),
                                           negative=negative_values(args))
        for notice in label_notices:
            say(notice)
        start, moved = choose_start(days, budget, reach, gap_days=config.gap_days,
                                    train_start=config.train_start, test_start=config.test_start,
                                    unit=cols.time_unit)
        since = None if start is None else start - reach
        parts = reader.map(block_rows_since, cols, since, drop, fixed, rule, what="kept")
        df = pd.concat(parts, ignore_index=True)
        if rule is not None:  # saved with the run, so outcomes fed back later read alike (core.outcome.RULE_ATTR)
            from core.outcome import RULE_ATTR

            df.attrs[RULE_ATTR] = rule.to_dict()
        built = None if client is None else _features_on(client, df, cols, config, reader.chunk)
    in_sample = days if start is None else days[days.index >= start]
    sample = TimeSample(
        budget=budget, file_rows=int(days["rows"].sum()), file_frauds=int(days["frauds"].sum()),
        first_day=days.index[0], last_day=days.index[-1], train_start=start, history_from=since,
        loaded_rows=len(df),
        history_rows=0 if start is None else int(days.loc[(days.index >= since) & (days.index < start), "rows"].sum()),
        sample_frauds=int(in_sample["frauds"].sum()),
        older_frauds=0 if start is None else int(days.loc[days.index < since, "frauds"].sum()),
        reach_days=int(math.ceil(reach / pd.Timedelta(days=1))),
        engine=engine, partitions=reader.partitions, files=len(files), moved_train_start=moved, features=built,
        unit=cols.time_unit)
    say(sample.notice())
    if built is not None:
        say(built.notice)
    return _loaded(df, [*read_notices, *label_notices, sample.notice()], files, found), sample


def _features_on(client, df: pd.DataFrame, cols, config, chunk: int):
    """The sample's window features built on the cluster, as training would build them here: the
    log prepared and the extra columns chosen as ``prepare_fraud_inputs`` does, then one time
    partition per worker (fewer when a partition would hold less than ``chunk`` rows)."""
    import time

    from core.fraud.columns import extra_feature_columns, prepare_log
    from core.scale.engine import n_workers
    from core.scale.fraud import BuiltFeatures, features_on_cluster

    t0 = time.perf_counter()
    log = prepare_log(df, cols)
    extra = extra_feature_columns(df, cols) if config.use_extra_columns else []
    size = max(chunk, -(-len(log) // n_workers(client)))
    feats, info = features_on_cluster(client, log, cols, config=config.features, extra=extra,
                                      rows_per_partition=size)
    info["seconds"] = round(time.perf_counter() - t0, 3)
    built = BuiltFeatures(feats, log, config=config.features, extra=extra, summary=info)
    built.notice = (f"Window features built on the Dask workers: {info['partitions']} time partition(s) of up to "
                    f"{info['rows_per_partition']:,} rows, each with the rows of the {info['reach_days']} days "
                    f"before it as history ({info['overlap_rows']:,} rows read twice), in {info['seconds']:.1f} s.")
    return built


# ---------------------------------------------------------------- credit: a seeded uniform sample
def block_count(block) -> int:
    """Rows of one block."""
    from core.scale.inputs import read_block

    return len(read_block(block))


def block_take(block, drop, positions) -> pd.DataFrame:
    """The block's rows at ``positions`` (all of them when None), in the file's order, without the
    personal-data columns in ``drop``."""
    from core.scale.inputs import read_block

    df = _without(read_block(block), drop)
    return df if positions is None else df.iloc[positions].reset_index(drop=True)


def read_uniform_sample(args, *, seed: int = 0, say: Callable[[str], None] | None = None):
    """(a ``LoadedTable`` of at most ``--sample-rows`` rows, its ``data.sample`` summary) for credit.

    Applications carry no time order the model learns from, so the sample is the one the app takes
    of a file that fits in memory (``read_table``: ``DataFrame.sample(n, random_state=seed)``, rows
    kept in file order), drawn over the row numbers of every block without holding the file: the
    same rows whichever engine reads it.
    """
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    budget = sample_budget(args)
    files, chunk = _files_and_chunk(args)
    _, found, read_notices = _personal_data(files, chunk, args)
    drop = [c.column for c in found.columns]
    engine = getattr(args, "engine", "local")
    with _client(args) as client:
        reader = _Reader(args, files, client)
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
    return _loaded(df, [*read_notices, notice], files, found), summary

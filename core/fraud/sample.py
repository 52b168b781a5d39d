"""A transaction log larger than memory, sampled for fraud training (``read_fraud_sample``).

1. First pass: every block's transactions per day and frauds per day (timestamps and labels
   parsed and checked by ``prepare_log``, exactly as training does).
2. The fraud day rule (``core.fraud.dayrule``) picks the most recent whole days that fit
   ``--sample-rows`` with the window reach before them as feature history.
3. Second pass: each block keeps its rows from the first history day on, in the file's order.
4. With ``--engine dask`` the sample's window features are built on the same cluster, in time
   partitions with the overlap the windows need (``core.fraud.scale.features_on_cluster``).

The block reading, the budget and personal data are the shared ``core.scale.sample``.
"""
from __future__ import annotations

import math
import sys
from dataclasses import replace
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import DataValidationError
from core.fraud.dayrule import TimeSample, choose_start  # noqa: F401 (the rule; imported from here too)
from core.scale.sample import (Reader, files_and_chunk, loaded_table, open_sample_client, personal_data_block,
                               sample_budget, without_columns)

TIME_RULE = ("hold at most N rows in memory: train on the most recent whole days that fit, with the window reach "
             "before them read as feature history (counted in N)")

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
    label rule is decided on the whole file's counts (``core.fraud.blocklabels``)."""
    from core.fraud.columns import prepare_log
    from core.scale.inputs import read_block
    from core.fraud.blocklabels import count_labels

    df = read_block(block)
    _missing_roles(df, cols, block)
    log = prepare_log(df[_roles(cols)].assign(**{cols.target: 0}), cols)  # times and amounts checked here
    return count_labels(df, log[cols.time].dt.normalize(), cols.target, log["_row"].to_numpy())


def block_rows_since(block, cols, since, drop=(), keys=None, rule=None) -> pd.DataFrame:
    """The block's rows (every column but the personal ones in ``drop``, in the file's order) from
    ``since`` on; all of them when None. ``keys`` (a ``core.data.pseudonym.KeyRule``) pseudonymises the
    customer key column as the block is read; ``rule`` (a ``core.data.outcome.LabelRule``) reads labels
    spelled otherwise as 0/1 and leaves out the rows it does not count."""
    from core.fraud.columns import prepare_log
    from core.scale.inputs import read_block
    from core.fraud.blocklabels import apply_rule

    df = apply_rule(without_columns(read_block(block), drop), rule)
    if keys is not None:
        df = keys.apply(df)
    if since is None:
        return df
    log = prepare_log(df[_roles(cols)], cols)
    keep = np.sort(log.loc[log[cols.time] >= since, "_row"].to_numpy())
    return df.iloc[keep].reset_index(drop=True)


# ---------------------------------------------------------------- reading the log twice
def read_fraud_sample(args, config, *, say: Callable[[str], None] | None = None, keys=None):
    """(a ``LoadedTable`` holding the sample, the ``TimeSample`` saying which rows) for fraud training.

    ``config`` is the run's ``FraudConfig`` (its windows, label delay, gap and split dates). With
    ``--engine dask`` the sample's window features are built on the same cluster, in time
    partitions with the overlap the windows need (``core.fraud.scale.features_on_cluster``), and
    handed to training as ``sample.features``. ``keys`` (a ``core.data.pseudonym.KeyRule``) keeps the
    customer key as a keyed pseudonym (chosen on the first block, then fixed for every block).
    """
    from core.cli import negative_values  # --negative as a list (core/cli.py imports no scenario)
    from core.fraud.service import history_keep
    from core.fraud.columns import make_columns
    from core.fraud.blocklabels import decide

    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    budget = sample_budget(args)
    files, chunk = files_and_chunk(args)
    first, found, read_notices = personal_data_block(files, chunk, args, keys)
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
    with open_sample_client(args) as client:
        reader = Reader(args, files, client, noun="transactions")
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
        if rule is not None:  # saved with the run, so outcomes fed back later read alike (core.data.outcome.RULE_ATTR)
            from core.data.outcome import RULE_ATTR

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
    return loaded_table(df, [*read_notices, *label_notices, sample.notice()], files, found), sample


def _features_on(client, df: pd.DataFrame, cols, config, chunk: int):
    """The sample's window features built on the cluster, as training would build them here: the
    log prepared and the extra columns chosen as ``prepare_fraud_inputs`` does, then one time
    partition per worker (fewer when a partition would hold less than ``chunk`` rows)."""
    import time

    from core.fraud.columns import extra_feature_columns, prepare_log
    from core.scale.engine import n_workers
    from core.fraud.scale import BuiltFeatures, features_on_cluster

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

"""Fraud on a Dask cluster: blocks in time, each with the overlap of history its windows need.

A transaction's features look back over its customer's and terminal's past: the longest window
plus the label delay (``core.fraud.service.history_keep``). The single-process scorer carries that
past from chunk to chunk; here block ``k`` (the same rows as the single-process chunk ``k``) gets
the saved run's labelled history and the rows of the earlier blocks whose times fall within that
reach of the latest time before the block, in file order: exactly the history the single-process
scorer holds when it reaches chunk ``k``, so every row's risk and decision are the same.

Blocks are prepared (read, coerced, parsed) in parallel; each block's prepared log stays on its
worker until no later block can need it, then is released (``run_time_partitions``, the schedule,
and ``past_within_reach``, the overlap each block gets).

Training on a log larger than memory builds the window features of its time-aware sample the same
way (``features_on_cluster``): the sample's log, in time order, is cut into partitions; each gets
the earlier rows within the same reach and computes the features of its own rows on a worker.
"""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from core.errors import DataValidationError


def prepare_fraud_block(block, packed, profile, report) -> dict:
    """On a worker: one block's rows and its transactions as a log ready to join the history."""
    from core.fraud.persist import load_fraud_model
    from core.fraud.pipeline import prepare_new_transactions
    from core.scale.engine import load_shipped
    from core.scale.tables import prepare_block

    saved = load_shipped(packed, load_fraud_model)
    part, drift = prepare_block(block, profile, report)
    new_log = prepare_new_transactions(part, saved.columns, saved.extra_columns)
    t = new_log[saved.columns.time]
    return {"index": block.index, "part": part, "new_log": new_log, "tmin": t.min(), "tmax": t.max(),
            "drift": drift}


def block_times(prep: dict) -> tuple:
    """On a worker: (first time, last time) of a prepared block."""
    return prep["tmin"], prep["tmax"]


def past_within_reach(history: pd.DataFrame, earlier: list[dict], time_col: str, latest_before, keep) -> pd.DataFrame:
    """On a worker: the past a block's window features read. ``history`` (the saved run's labelled
    log, or no rows) and the prepared logs of the ``earlier`` blocks, keeping the rows at most
    ``keep`` (the longest window plus the label delay and a day) before ``latest_before``, the
    latest time of every earlier block; ``history`` alone for the first block (None)."""
    if latest_before is None:
        return history
    history = pd.concat([history, *[e["new_log"].assign(_row=-1)[history.columns] for e in earlier]],
                        ignore_index=True)
    return history[history[time_col] >= latest_before - keep].reset_index(drop=True)


def score_fraud_block(prep: dict, earlier: list[dict], packed, staging: str, fmt: str, *, review: float,
                      block: float, latest_before, log: dict | None = None) -> dict:
    """On a worker: score one prepared block with its history, log it (``core.scale.predlog``), write
    its part, return its counts.

    ``latest_before`` is the latest transaction time in all earlier blocks (None for the first
    block); ``earlier`` are the earlier blocks that reach back within the history window of it.
    """
    from core.fraud.service import history_keep, score_chunk
    from core.fraud.persist import load_fraud_model
    from core.scale.engine import load_shipped
    from core.scale.output import write_part
    from core.scale.predlog import log_block

    saved = load_shipped(packed, load_fraud_model)
    keep, time_col = history_keep(saved.feature_config), saved.columns.time
    history = past_within_reach(saved.history, earlier, time_col, latest_before, keep)
    scored = score_chunk(saved, prep["part"], prep["new_log"], history, review=review, block=block)
    scored, logged = log_block(log, packed, prep["part"], scored, staging, prep["index"])
    write_part(scored, staging, prep["index"], fmt)
    decision = scored["decision"].to_numpy()
    return {"rows": len(scored), "alerts": int((decision != "approve").sum()),
            "blocked": int((decision == "block").sum()), "drift": prep["drift"],
            "unordered": latest_before is not None and bool(prep["tmin"] < latest_before - keep), "log": logged}


def run_time_partitions(client, blocks, prepare: Callable, process: Callable, *, keep, on_done: Callable) -> int:
    """The fraud engine's schedule: time partitions with the overlap of history their windows need.

    ``prepare(block)`` submits a task whose result is a dict with the block's log (``new_log``) and
    its first and last times (``tmin``, ``tmax``); ``process(prepared, earlier, latest_before)``
    submits block k's task, given the prepared earlier blocks whose last time lies within ``keep``
    of ``latest_before`` (the latest time of all earlier blocks, None for the first; the task
    keeps their rows from ``latest_before - keep`` on, ``past_within_reach``). ``on_done(k,
    result)`` is called as each block's task finishes. A prepared block stays on its worker until
    no later block can reach back to it. At most 2 x workers + 1 blocks are prepared ahead and as
    many processed at once. Returns how many blocks ran; a task's error is raised here.
    """
    from distributed import as_completed

    from core.scale.engine import n_workers

    ahead = 2 * n_workers(client) + 1
    blocks = iter(blocks)
    preps: dict[int, tuple] = {}  # k -> (prepared future, times future)
    live: dict[int, tuple] = {}  # k -> (prepared future, last time) while a later block may need it
    running: dict = {}  # future -> k
    latest, k, submitted, exhausted = None, 0, 0, False
    finished = as_completed(loop=client.loop)

    def collect_one():
        f = next(finished)
        i = running.pop(f)
        on_done(i, f.result())  # raises the task's error here
        f.release()

    while True:
        while not exhausted and len(preps) < ahead:
            b = next(blocks, None)
            if b is None:
                exhausted = True
                break
            pf = prepare(b)
            preps[submitted] = (pf, client.submit(block_times, pf, pure=False))
            submitted += 1
        if k not in preps:
            break
        pf, tf = preps.pop(k)
        tmin, tmax = tf.result()
        tf.release()
        earlier = [f for i, (f, last) in sorted(live.items()) if latest is not None and last >= latest - keep]
        sf = process(pf, earlier, latest)
        running[sf] = k
        finished.add(sf)
        live[k] = (pf, tmax)
        latest = tmax if latest is None else max(latest, tmax)
        for i in [i for i, (_, last) in live.items() if last < latest - keep]:
            live.pop(i)[0].release()  # no later block reaches back this far
        k += 1
        if len(running) >= ahead:
            collect_one()
    while running:
        collect_one()
    live.clear()
    return k


def run_score_dask(args) -> dict:
    """``python -m core score`` for a fraud run with ``--engine dask``: the same rows and JSON as the
    single-process scorer with the same --chunk-size, plus the engine (partitions, output format)."""
    from core.cli import say
    from core.data.columncheck import get_training_profile
    from core.fraud.service import decision_thresholds, history_keep
    from core.fraud.features import FeatureConfig
    from core.store.registry import read_metadata
    from core.scale.cluster import open_client
    from core.scale.engine import ship_run
    from core.scale.predlog import plan_log_for_blocks, publish_block_logs
    from core.scale.run import plan_job
    from core.scale.tables import merge_drift

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    if meta.get("scenario") != "fraud":
        raise DataValidationError(f"Expected a saved fraud run; '{args.model}' is a {meta.get('scenario')} run. "
                                  "Fix: pick a fraud run.")
    review, block_thr = decision_thresholds(meta, args.threshold)
    cfg = meta["config"]["features"]
    keep = history_keep(FeatureConfig(windows=tuple(cfg["windows"]), delay_days=cfg["delay_days"]))
    # The run's key columns (a card number kept as a keyed pseudonym) are pseudonymised with its secret as
    # each block is read, as the single-process scorer does.
    from core.data.privacy import with_run_keys
    from core.data.pseudonym import run_key_rule

    with_run_keys(args, run_key_rule(args.model, meta))
    files, blocks, total, report, fmt, staged, progress = plan_job(args, meta, "transactions")
    profile = get_training_profile(meta)
    recorder = getattr(args, "prediction_log", None)  # the run's prediction log (core.monitor)
    results: dict[int, dict] = {}
    try:
        plan, blocks = plan_log_for_blocks(recorder, blocks)
        with open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=say) as client:
            packed = ship_run(client, args.model)

            def prepare(b):
                return client.submit(prepare_fraud_block, b, packed, profile, report, pure=False)

            def process(pf, earlier, latest):
                return client.submit(score_fraud_block, pf, earlier, packed, str(staged.staging), fmt,
                                     review=review, block=block_thr, latest_before=latest, log=plan, pure=False)

            def done(i, res):
                results[i] = res
                progress.update(res["rows"], total=total)

            k = run_time_partitions(client, blocks, prepare, process, keep=keep, on_done=done)
        publish_block_logs(recorder, staged, [results[i].get("log") for i in range(k)])
        staged.finish(k)
    except BaseException:
        staged.abort()
        raise
    parts = [results[i] for i in range(k)]
    notices = report.notices()
    if any(p["unordered"] for p in parts):
        notices.append("The file is not in time order: rows far older than the rows before them were scored "
                       "with part of their history missing. Sort the file by time.")
    result = {"rows": sum(p["rows"] for p in parts), "alerts": sum(p["alerts"] for p in parts),
              "blocked": sum(p["blocked"] for p in parts), "threshold": review, "block_threshold": block_thr,
              "out": str(args.out), "notices": notices,
              "engine": {"name": "dask", "partitions": k, "out_format": fmt, "files": len(files)},
              "timings": {"total": time.perf_counter() - t0}}
    drift = merge_drift(p["drift"] for p in parts)
    if drift is not None:
        result["drift"] = drift.to_dict(orient="records")
    return result


# ---------------------------------------------------------------- training: window features on the workers
def log_block(log: pd.DataFrame, time_col: str) -> dict:
    """On a worker: a partition of a prepared log (rows in time order), as ``run_time_partitions``
    takes a prepared block."""
    t = log[time_col]
    return {"new_log": log, "tmin": t.min(), "tmax": t.max()}


def block_features(prep: dict, earlier: list[dict], cols, feature_config, extra: list[str], *, latest_before,
                   keep) -> dict:
    """On a worker: the window features of one partition's rows, computed over the partition with
    the earlier rows within reach before it (``past_within_reach``, as scoring does)."""
    from core.fraud.features import compute_features

    own = prep["new_log"]
    past = past_within_reach(own.iloc[:0], earlier, cols.time, latest_before, keep)
    both = pd.concat([past, own], ignore_index=True) if len(past) else own  # in time order: the past first
    feats = compute_features(both, cols, config=feature_config, extra=list(extra))
    return {"frame": feats.frame.iloc[len(past):].reset_index(drop=True), "descriptions": feats.descriptions,
            "numeric": feats.numeric, "categorical": feats.categorical, "rows": len(own), "past_rows": len(past)}


def features_on_cluster(client, log: pd.DataFrame, cols, *, config, extra: list[str], rows_per_partition: int):
    """``compute_features(log, cols, config=config, extra=extra)`` built on the Dask workers.

    ``log`` is a prepared log (``prepare_log``: sorted by time). It is cut into partitions of
    ``rows_per_partition`` rows in time order; each partition's features are computed on a worker
    over its own rows and the earlier rows within the longest window plus the label delay (and a
    day) of it, with the scaled scorer's schedule (``run_time_partitions``), so every row sees the
    same past as in one pass over the whole log. Counts and fraud rates are equal; window means
    and ratios are equal up to floating-point rounding (window sums are differences of running
    sums that start at another row). Returns (a ``FeatureSet`` row-aligned with ``log``, details
    for the notice: partitions and overlap rows)."""
    from core.fraud.service import history_keep
    from core.fraud.features import FeatureSet

    keep = history_keep(config)
    size = max(1, int(rows_per_partition))
    parts = [log.iloc[s:s + size] for s in range(0, len(log), size)]
    results: dict[int, dict] = {}

    def prepare(part):
        return client.submit(log_block, client.scatter(part, direct=False), cols.time, pure=False)

    def process(pf, earlier, latest):
        return client.submit(block_features, pf, earlier, cols, config, list(extra), latest_before=latest,
                             keep=keep, pure=False)

    def done(i, res):
        results[i] = res

    n = run_time_partitions(client, parts, prepare, process, keep=keep, on_done=done)
    first = results[0]
    frame = pd.concat([results[i]["frame"] for i in range(n)], ignore_index=True)
    frame.index = log.index
    feats = FeatureSet(frame=frame, descriptions=first["descriptions"], numeric=list(first["numeric"]),
                       categorical=list(first["categorical"]))
    return feats, {"partitions": n, "rows_per_partition": size,
                   "overlap_rows": int(sum(results[i]["past_rows"] for i in range(n))),
                   "reach_days": int(-(-keep // pd.Timedelta(days=1)))}


class BuiltFeatures:
    """Features built ahead (on the cluster) handed to training in place of ``compute_features``:
    called with its arguments, it returns them after checking they belong to that very log."""

    def __init__(self, feats, log: pd.DataFrame, *, config, extra: list[str], summary: dict):
        self.feats, self.rows, self.config, self.extra = feats, log["_row"].to_numpy(), config, list(extra)
        self.summary = summary

    def __call__(self, log: pd.DataFrame, cols, *, config=None, extra=None):
        from core.fraud.features import compute_features

        if list(extra or []) != self.extra or len(log) != len(self.rows) or \
                not (log["_row"].to_numpy() == self.rows).all():
            raise RuntimeError("The features built on the cluster belong to another log than the one trained on.")
        if config is not None and config != self.config:  # other windows or delay: build them here
            return compute_features(log, cols, config=config, extra=list(extra or []))
        return self.feats

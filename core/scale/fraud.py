"""Fraud on a Dask cluster: blocks in time, each with the overlap of history its windows need.

A transaction's features look back over its customer's and terminal's past: the longest window
plus the label delay (``core.fraud.cli.history_keep``). The single-process scorer carries that
past from chunk to chunk; here block ``k`` (the same rows as the single-process chunk ``k``) gets
the saved run's labelled history and the rows of the earlier blocks whose times fall within that
reach of the latest time before the block, in file order: exactly the history the single-process
scorer holds when it reaches chunk ``k``, so every row's risk and decision are the same.

Blocks are prepared (read, coerced, parsed) in parallel; each block's prepared log stays on its
worker until no later block can need it, then is released.
"""

from __future__ import annotations

import time

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


def score_fraud_block(prep: dict, earlier: list[dict], packed, staging: str, fmt: str, *, review: float,
                      block: float, latest_before) -> dict:
    """On a worker: score one prepared block with its history, write its part, return its counts.

    ``latest_before`` is the latest transaction time in all earlier blocks (None for the first
    block); ``earlier`` are the earlier blocks that reach back within the history window of it.
    """
    from core.fraud.cli import history_keep, score_fraud_chunk
    from core.fraud.persist import load_fraud_model
    from core.scale.engine import load_shipped
    from core.scale.output import write_part

    saved = load_shipped(packed, load_fraud_model)
    keep, time_col = history_keep(saved.feature_config), saved.columns.time
    history = saved.history
    if latest_before is not None:
        history = pd.concat([history, *[e["new_log"].assign(_row=-1)[history.columns] for e in earlier]],
                            ignore_index=True)
        history = history[history[time_col] >= latest_before - keep].reset_index(drop=True)
    scored = score_fraud_chunk(saved, prep["part"], prep["new_log"], history, review=review, block=block)
    write_part(scored, staging, prep["index"], fmt)
    decision = scored["decision"].to_numpy()
    return {"rows": len(scored), "alerts": int((decision != "approve").sum()),
            "blocked": int((decision == "block").sum()), "drift": prep["drift"],
            "unordered": latest_before is not None and bool(prep["tmin"] < latest_before - keep)}


def run_score_dask(args) -> dict:
    """``python -m core score`` for a fraud run with ``--engine dask``: the same rows and JSON as the
    single-process scorer with the same --chunk-size, plus the engine (partitions, output format)."""
    from distributed import as_completed

    from core.cli import say
    from core.columncheck import get_training_profile
    from core.decisions import get_decision_settings
    from core.fraud.cli import history_keep
    from core.fraud.features import FeatureConfig
    from core.registry import read_metadata
    from core.scale.cluster import open_client
    from core.scale.engine import n_workers, ship_run
    from core.scale.run import plan_job
    from core.scale.tables import merge_drift

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    if meta.get("scenario") != "fraud":
        raise DataValidationError(f"Expected a saved fraud run; '{args.model}' is a {meta.get('scenario')} run. "
                                  "Fix: pick a fraud run.")
    decided = get_decision_settings(meta)
    review = decided["review_threshold"] if args.threshold is None else float(args.threshold)
    if not 0 <= review <= 1:
        raise DataValidationError(f"Expected --threshold between 0 and 1; got {review}. Fix: e.g. 0.3.")
    block_thr = max(decided["block_threshold"], review)
    cfg = meta["config"]["features"]
    keep = history_keep(FeatureConfig(windows=tuple(cfg["windows"]), delay_days=cfg["delay_days"]))
    files, blocks, total, report, fmt, staged, progress = plan_job(args, meta, "transactions")
    profile = get_training_profile(meta)
    results: dict[int, dict] = {}
    try:
        with open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=say) as client:
            packed = ship_run(client, args.model)
            ahead = 2 * n_workers(client) + 1
            blocks = iter(blocks)
            preps: dict[int, tuple] = {}  # index -> (prepared future, times future)
            live: dict[int, tuple] = {}  # index -> (prepared future, last time) while a later block may need it
            scoring: dict = {}  # future -> index
            latest, k, exhausted = None, 0, False

            finished = as_completed(loop=client.loop)

            def collect_one():
                f = next(finished)
                i = scoring.pop(f)
                results[i] = f.result()  # raises the task's error here
                progress.update(results[i]["rows"], total=total)
                f.release()

            while True:
                while not exhausted and len(preps) < ahead:
                    b = next(blocks, None)
                    if b is None:
                        exhausted = True
                        break
                    pf = client.submit(prepare_fraud_block, b, packed, profile, report, pure=False)
                    preps[b.index] = (pf, client.submit(block_times, pf, pure=False))
                if k not in preps:
                    break
                pf, tf = preps.pop(k)
                tmin, tmax = tf.result()
                tf.release()
                earlier = [f for i, (f, last) in sorted(live.items()) if latest is not None and last >= latest - keep]
                sf = client.submit(score_fraud_block, pf, earlier, packed, str(staged.staging), fmt, review=review,
                                   block=block_thr, latest_before=latest, pure=False)
                scoring[sf] = k
                finished.add(sf)
                live[k] = (pf, tmax)
                latest = tmax if latest is None else max(latest, tmax)
                for i in [i for i, (_, last) in live.items() if last < latest - keep]:
                    live.pop(i)[0].release()  # no later block reaches back this far
                k += 1
                if len(scoring) >= ahead:
                    collect_one()
            while scoring:
                collect_one()
            live.clear()
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

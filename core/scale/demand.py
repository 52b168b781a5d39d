"""Demand on a Dask cluster: series forecast in parallel, each series whole on one worker.

A forecast reads a series' whole history, and this model also reads the mean demand profile of
the other series in the same store and of the same product (its group columns): series that share
a store or a product, directly or through others, must be forecast together. The series ids are
collected from every block on the workers, joined into those connected sets, and the sets packed
into one group per worker; each group's rows (in file order) are forecast with the single-process
engine (``core.workspace.scoring.score_with_run``), and the tables are put back in the
single-process order (sorted series ids). When every series is tied to every other (one store
selling every product), the forecast runs as one group on one worker and a notice says so.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from core.errors import DataValidationError

def read_demand_block(block, profile, report, series_cols) -> dict:
    """On a worker: one block's rows as read (the forecast engine checks and coerces them itself),
    their series ids, and the block's drift counts."""
    from core.demand.data import series_ids
    from core.scale.inputs import read_block
    from core.scale.tables import prepare_block

    raw = read_block(block)
    _, drift = prepare_block(block, profile, report) if profile is not None else (None, None)
    return {"raw": raw, "sid": series_ids(raw, series_cols).to_numpy(dtype=object), "drift": drift}


def block_series(read: dict) -> tuple[list[str], int, object]:
    """On a worker: (the block's distinct series ids, its rows, its drift counts)."""
    return sorted(set(read["sid"])), len(read["raw"]), read["drift"]


def split_by_group(read: dict, group_of: dict, n_groups: int) -> list[pd.DataFrame]:
    """On a worker: the block's rows per group (``group_of`` maps each series id to its group)."""
    g = np.fromiter((group_of[s] for s in read["sid"]), dtype=np.int64, count=len(read["sid"]))
    return [read["raw"][g == i] for i in range(n_groups)]


def series_sets(ids: list[str], groups, known: set | None) -> list[list[str]]:
    """Series that must be forecast together: connected through a shared value of a group column
    (the model's store / product profiles). All of them in one set when the ids are not built from
    the group columns, or when a series has no saved covariate scale (``known``) and would take a
    floor computed over every series."""
    groups = list(groups or [])
    if known is not None and any(s not in known for s in ids):
        return [list(ids)]
    if not groups:
        return [[s] for s in ids]
    parts = [str(s).split(" / ") for s in ids]
    if any(len(p) != len(groups) for p in parts):
        return [list(ids)]
    parent = list(range(len(ids)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[int, str], int] = {}
    for i, p in enumerate(parts):
        for j, value in enumerate(p):
            other = first.setdefault((j, value), i)
            a, b = find(i), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    sets: dict[int, list[str]] = {}
    for i, s in enumerate(ids):
        sets.setdefault(find(i), []).append(s)
    return list(sets.values())


def pack_groups(sets: list[list[str]], n: int) -> dict[str, int]:
    """Each series' group: the largest sets first, each to the group with the fewest series."""
    load = [0] * max(1, min(n, len(sets)))
    group_of = {}
    for members in sorted(sets, key=lambda m: (-len(m), m[0])):
        g = load.index(min(load))
        load[g] += len(members)
        group_of.update({s: g for s in members})
    return group_of


def forecast_group(pieces: list[list[pd.DataFrame]], group: int, packed, settings: dict | None) -> dict:
    """On a worker: forecast one group's series with the single-process engine."""
    from core.scale.engine import shipped_run_dir
    from core.workspace.scoring import score_with_run

    df = pd.concat([p[group] for p in pieces], ignore_index=True)
    result = score_with_run(shipped_run_dir(packed), df, settings=settings, max_rows=10 ** 12)
    return {"table": result.scored, "notices": result.notices, "settings": result.settings}


def run_score_dask(args) -> dict:
    """``python -m core score`` for a demand run with ``--engine dask``: the same forecast table and
    JSON as the single-process scorer, plus the engine (blocks, groups, output format)."""
    from distributed import as_completed

    from core.cli import say
    from core.registry import read_metadata
    from core.scale.cluster import open_client
    from core.scale.engine import n_workers, ship_run
    from core.scale.output import write_part
    from core.scale.run import plan_job
    from core.scale.tables import merge_drift
    from core.workspace.inputs import get_training_profile

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    if meta.get("scenario") != "demand":
        raise DataValidationError(f"'{args.model}' is not a saved demand run (scenario {meta.get('scenario')!r}). "
                                  "Pass a folder saved by the demand scenario.")
    series_cols = list(meta["column_map"]["series"])
    window = meta.get("window") or {}
    scaled = [c for c in window.get("covariates", []) if c not in window.get("binary", [])]
    known = set(meta.get("covariate_scales", {})) if scaled else None
    files, blocks, _, report, fmt, staged, progress = plan_job(args, meta, "forecast rows")
    profile = get_training_profile(meta)
    notices: list[str] = []
    try:
        with open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=say) as client:
            packed = ship_run(client, args.model)
            reads = [client.submit(read_demand_block, b, profile, report, series_cols, pure=False) for b in blocks]
            seen = client.gather([client.submit(block_series, r, pure=False) for r in reads])
            ids = sorted(set().union(*[s for s, _, _ in seen]))
            sets = series_sets(ids, window.get("groups"), known)
            group_of = pack_groups(sets, n_workers(client))
            n_groups = max(group_of.values()) + 1
            if len(sets) == 1 and len(ids) > 1:
                notices.append(f"All {len(ids):,} series are forecast together on one worker: the model reads the "
                               "demand profile of each store and product, and these series share stores or products "
                               "(or some have no saved covariate scale).")
            splits = [client.submit(split_by_group, r, group_of, n_groups, pure=False) for r in reads]
            del reads
            groups = {client.submit(forecast_group, splits, g, packed, None, pure=False): g for g in range(n_groups)}
            results = {}
            for f in as_completed(list(groups), loop=client.loop):
                results[groups[f]] = f.result()
                progress.update(len(results[groups[f]]["table"]), total=n_groups)
        # Back in the single-process order: series by sorted id, each series' steps in order.
        order = {sid: i for i, sid in enumerate(ids)}
        table = pd.concat([results[g]["table"] for g in range(n_groups)], ignore_index=True)
        table = table.iloc[np.argsort(table["series"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
        cuts = np.linspace(0, len(table), n_groups + 1).round().astype(int)
        for g in range(n_groups):
            write_part(table.iloc[cuts[g]:cuts[g + 1]], str(staged.staging), g, fmt)
        staged.finish(n_groups)
    except BaseException:
        staged.abort()
        raise
    parts = [results[g] for g in range(n_groups)]
    notices = list(dict.fromkeys(n for p in parts for n in p["notices"])) + notices
    out = {"rows": int(len(table)), "series": int(table["series"].nunique()), "out": str(args.out),
           "notices": notices, "policy": parts[0]["settings"],
           "engine": {"name": "dask", "partitions": len(seen), "groups": n_groups, "out_format": fmt,
                      "files": len(files)},
           "timings": {"total": round(time.perf_counter() - t0, 3)}}
    drift = merge_drift(d for _, _, d in seen)
    if drift is not None:
        out["drift"] = drift.to_dict(orient="records")
    return out

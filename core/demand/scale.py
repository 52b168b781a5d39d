"""Demand on a Dask cluster: series forecast in parallel, each series whole on one worker.

A forecast reads a series' whole history, and this model also reads the mean demand profile of
the other series in the same store and of the same product (its group columns). Those profiles are
sums over every series of a store or a product, so they are computed once, over all rows, with the
single-process engine's own code (the scorer is run up to ``group_profiles`` and stopped there),
and sent to every worker. The series are then split into one group per worker, balanced by count,
whatever stores and products they share; each group's rows (in file order) are forecast with the
single-process
engine (``core.serve.batch.score_with_run``), and the tables are put back in the
single-process order (sorted series ids). On a worker the engine's ``group_profiles`` returns the
shared profiles (cut to that worker's date grid, the same numbers) instead of the profiles of the
worker's own series: safety stock and reorder points come out as in one process.

One case still runs as one group: a model with continuous covariates (price, temperature) scales
them per series with the scales saved at training; a series without a saved scale gets a floor
computed over every series, so then all series are forecast together and a notice says so.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

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


def series_sets(ids: list[str], known: set | None) -> list[list[str]]:
    """Series that must be forecast together: each on its own (the store and product profiles
    are shared with every worker), or all of them in one set when a series has no saved covariate
    scale (``known``) and would take a floor computed over every series."""
    if known is not None and any(s not in known for s in ids):
        return [list(ids)]
    return [[s] for s in ids]


@dataclass
class SharedProfiles:
    """The store and product profiles of all series (``group_profiles`` over the whole input) on
    the date grid they were computed on."""

    grid: pd.DatetimeIndex
    profiles: list  # [(matrices per group value, {series id: group value index})] per group column

    def for_grid(self, grid: pd.DatetimeIndex, rows) -> list:
        """The profiles a worker's series read, on the worker's own date grid (a window of this one)."""
        if not self.profiles:
            return []
        a = int(self.grid.get_indexer(grid[:1])[0])
        if a < 0 or a + len(grid) > len(self.grid) or not self.grid[a:a + len(grid)].equals(grid):
            raise DataValidationError(
                "Expected every group of series to lie on the date grid of the whole file; got a group whose "
                f"dates ({grid[0].date()} .. {grid[-1].date()}) do not. Fix: score this file with --engine local.")
        out = []
        for mats, code in self.profiles:
            used = sorted({int(code[s]) for s in rows})
            local = {g: i for i, g in enumerate(used)}
            out.append((mats[used][:, a:a + len(grid), a:a + len(grid)], {s: local[int(code[s])] for s in rows}))
        return out


_WORKER = threading.local()  # this task's shared profiles, or a box to capture them into
_HOOK_LOCK = threading.Lock()


class _Captured(BaseException):
    """Stops the scorer once the profiles are computed (not an Exception: nothing may catch it)."""


def _install_profile_hook() -> None:
    """Route ``core.demand.features.group_profiles`` through this task's shared profiles (once per
    process). Outside a scaled demand task it is the engine's own function, unchanged."""
    import core.demand.features as features

    with _HOOK_LOCK:
        if not getattr(features.group_profiles, "shared_profiles_hook", False):
            features.group_profiles = _hooked(features.group_profiles)


def _hooked(original):
    def group_profiles(data, cfg, grid, pos, rows):
        shared, box = getattr(_WORKER, "shared", None), getattr(_WORKER, "capture", None)
        if box is not None:
            box["shared"] = SharedProfiles(grid, original(data, cfg, grid, pos, rows))
            raise _Captured
        if shared is not None:
            return shared.for_grid(grid, rows)
        return original(data, cfg, grid, pos, rows)

    group_profiles.shared_profiles_hook = True
    return group_profiles


def pack_groups(sets: list[list[str]], n: int) -> dict[str, int]:
    """Each series' group: the largest sets first, each to the group with the fewest series."""
    load = [0] * max(1, min(n, len(sets)))
    group_of = {}
    for members in sorted(sets, key=lambda m: (-len(m), m[0])):
        g = load.index(min(load))
        load[g] += len(members)
        group_of.update({s: g for s in members})
    return group_of


def forecast_group(pieces: list, group: int | None, packed, settings: dict | None,
                   shared: SharedProfiles | None = None) -> dict:
    """On a worker: forecast one group's series with the single-process engine and the shared
    profiles. With ``group`` None, ``pieces`` are all blocks' rows and the scorer only computes
    the profiles (a ``SharedProfiles``)."""
    from core.scale.engine import shipped_run_dir
    from core.serve.batch import score_with_run

    _install_profile_hook()
    if group is None:
        df = pd.concat([p["raw"] for p in pieces], ignore_index=True)
        box: dict = {}
        _WORKER.capture = box
        try:
            score_with_run(shipped_run_dir(packed), df, settings=settings, max_rows=10 ** 12)
        except _Captured:
            pass
        finally:
            _WORKER.capture = None
        if "shared" not in box:
            raise DataValidationError("Expected the forecast engine to compute store and product profiles; it did "
                                      "not. Fix: score this file with --engine local.")
        return box["shared"]
    df = pd.concat([p[group] for p in pieces], ignore_index=True)
    _WORKER.shared = shared
    try:
        result = score_with_run(shipped_run_dir(packed), df, settings=settings, max_rows=10 ** 12)
    finally:
        _WORKER.shared = None
    return {"table": result.scored, "notices": result.notices, "settings": result.settings}


def run_score_dask(args) -> dict:
    """``python -m core score`` for a demand run with ``--engine dask``: the same forecast table and
    JSON as the single-process scorer, plus the engine (blocks, groups, output format)."""
    from distributed import as_completed

    from core.cli import say
    from core.data.columncheck import get_training_profile
    from core.store.registry import read_metadata
    from core.scale.cluster import open_client
    from core.scale.engine import n_workers, ship_run
    from core.scale.output import write_part
    from core.scale.run import plan_job
    from core.scale.tables import merge_drift

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
            sets = series_sets(ids, known)
            group_of = pack_groups(sets, n_workers(client))
            n_groups = max(group_of.values()) + 1
            if len(sets) == 1 and len(ids) > 1:
                notices.append(f"All {len(ids):,} series are forecast together on one worker: some have no "
                               "covariate scale saved with the model, and the floor that replaces it is computed "
                               "over every series.")
            shared = None
            if n_groups > 1 and window.get("groups"):
                # The store and product profiles, once over all rows, shared with every group.
                shared = client.submit(forecast_group, reads, None, packed, None, pure=False)
            splits = [client.submit(split_by_group, r, group_of, n_groups, pure=False) for r in reads]
            del reads
            groups = {client.submit(forecast_group, splits, g, packed, None, shared, pure=False): g
                      for g in range(n_groups)}
            results = {}
            for f in as_completed(list(groups), loop=client.loop):
                results[groups[f]] = f.result()
                progress.update(len(results[groups[f]]["table"]), total=n_groups)
        # Back in the single-process order: series by sorted id, each series' steps in order.
        order = {sid: i for i, sid in enumerate(ids)}
        table = pd.concat([results[g]["table"] for g in range(n_groups)], ignore_index=True)
        table = table.iloc[np.argsort(table["series"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)
        # The whole forecast is here: logged as the single-process scorer logs it, before the output is in place
        # (the command line publishes the log once it is).
        from core.monitor.record import attach_ids

        table = attach_ids(getattr(args, "prediction_log", None), None, table)
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

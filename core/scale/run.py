"""The run every table scenario shares: plan the blocks, check the first, score each on the
cluster with the scenario's partition scorer, stage the parts, put the output in place."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple

import pandas as pd


@dataclass
class ScaledRun:
    """What a scaled run gives back to the scenario: per-block results in block order and more."""

    parts: list[dict]
    report: object
    fmt: str
    files: int
    seconds: float
    notices: list[str] = field(default_factory=list)

    @property
    def partitions(self) -> int:
        return len(self.parts)

    @property
    def rows(self) -> int:
        return sum(int(p["rows"]) for p in self.parts)

    def drift(self) -> pd.DataFrame | None:
        from core.scale.tables import merge_drift

        return merge_drift(p.get("drift") for p in self.parts)

    def engine(self) -> dict:
        return {"name": "dask", "partitions": self.partitions, "out_format": self.fmt, "files": self.files}


class Job(NamedTuple):
    """What every scaled run starts from: the input files, the planned blocks (the first checked),
    the row count when known, the column report, the output format, the staged output and the
    progress bar."""

    files: list
    blocks: Iterator
    total: int | None
    report: object
    fmt: str
    staged: object
    progress: object


def plan_job(args, meta: dict, what: str) -> Job:
    """Plan ``args.data`` in ``--chunk-size`` blocks, check the first block's columns against the
    run in ``meta`` (raising before anything is scored), and stage ``args.out``."""
    from core.scale.engine import Progress
    from core.scale.output import StagedOutput, choose_format
    from core.scale.tables import check_first_block
    from core.data.tablestream import choice_of

    chunk = int(getattr(args, "chunk_size", 50_000) or 50_000)
    files, blocks, total = plan_input(args.data, chunk, **choice_of(args))  # --member / --sheet
    report, blocks = check_first_block(meta, blocks, getattr(args, "personal", None))  # --personal-data
    fmt = choose_format(args.out, getattr(args, "out_format", None))
    return Job(files, blocks, total, report, fmt, StagedOutput(args.out, fmt),
               Progress(quiet=getattr(args, "quiet", False), what=what))


def plan_input(data, chunk_size: int, *, member: str | None = None, sheet: str | None = None):
    """(input files, blocks, number of blocks or None when a gzip file, a zip or a workbook is read
    block by block here)."""
    from core.scale.inputs import find_input_files, plan_blocks, read_here

    files = find_input_files(data)
    blocks = plan_blocks(files, chunk_size=chunk_size, member=member, sheet=sheet)
    if any(read_here(f) for f in files):
        return files, blocks, None
    blocks = list(blocks)
    return files, blocks, len(blocks)


def run_table_scoring(args, meta: dict, task: Callable, *, what: str = "rows", **task_kwargs) -> ScaledRun:
    """Score ``--data`` block by block with ``task(block, packed, report, staging, fmt, **task_kwargs)``.

    ``task`` runs on a worker, writes the block's part (``core.scale.output.write_part``) and
    returns a dict with at least ``rows``. With the run's prediction log open (``args.prediction_log``)
    it also gets ``log``, a ``core.scale.predlog`` plan, stages its log rows (``log_block``) and returns
    their counts under ``"log"``; they join the log before the output is put in place. Raises before
    scoring anything when the columns do not fit; leaves ``--out`` absent (or as it was) and logs
    nothing when any block fails.
    """
    from core.cli import say
    from core.scale.cluster import open_client
    from core.scale.engine import run_ordered, ship_run
    from core.scale.predlog import plan_log_for_blocks, publish_block_logs

    t0 = time.perf_counter()
    files, blocks, total, report, fmt, staged, progress = plan_job(args, meta, what)
    recorder = getattr(args, "prediction_log", None)
    results: dict[int, dict] = {}
    try:
        plan, blocks = plan_log_for_blocks(recorder, blocks)
        if plan is not None:
            task_kwargs = {**task_kwargs, "log": plan}
        with open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=say) as client:
            packed = ship_run(client, args.model)

            def submit(block):
                return client.submit(task, block, packed, report, str(staged.staging), fmt, pure=False,
                                     **task_kwargs)

            def done(block, res):
                results[block.index] = res
                progress.update(res["rows"], total=total)

            n = run_ordered(client, blocks, submit, done)
        publish_block_logs(recorder, staged, [results[i].get("log") for i in range(n)])
        staged.finish(n)
    except BaseException:
        staged.abort()
        raise
    return ScaledRun(parts=[results[i] for i in range(n)], report=report, fmt=fmt, files=len(files),
                     seconds=time.perf_counter() - t0, notices=report.notices())

"""Credit on a Dask cluster: every block scored on its own (``map_partitions``-style), with the
single-process scorer's own step (``core.credit.service.score_chunk``)."""

from __future__ import annotations

import time

import numpy as np

from core.errors import DataValidationError


def score_block(block, packed, report, staging: str, fmt: str, *, threshold: float, reasons: bool,
                log: dict | None = None) -> dict:
    """On a worker: read, check and score one block, log it (``core.scale.predlog``), write its part;
    return its counts."""
    from core.data.columncheck import get_training_profile
    from core.credit.persist import load_credit_model
    from core.credit.service import declined_rows, score_chunk
    from core.scale.engine import load_shipped
    from core.scale.output import write_part
    from core.scale.predlog import log_block
    from core.scale.tables import prepare_block

    model = load_shipped(packed, load_credit_model)
    part, drift = prepare_block(block, get_training_profile(model.metadata), report)
    scored, p = score_chunk(model, part, threshold=threshold, reasons=reasons)
    scored, logged = log_block(log, packed, part, scored, staging, block.index)
    write_part(scored, staging, block.index, fmt)
    target, positive = model.credit["target"], model.credit["positive"]
    y = (part[target].astype(str) == positive).to_numpy(np.int8) if target in part.columns else None
    return {"rows": len(part), "declined": len(declined_rows(p, threshold)), "p_sum": float(p.sum()), "drift": drift,
            "y": y, "p": p.astype(np.float32) if y is not None else None, "log": logged}


def run_score_dask(args) -> dict:
    """``python -m core score`` for a credit run with ``--engine dask``: the same JSON as the
    single-process scorer, plus the engine (partitions, output format)."""
    from core.store.registry import read_metadata
    from core.store.runmeta import decision
    from core.scale.run import run_table_scoring

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    if meta.get("scenario") != "credit" or "credit" not in meta:
        raise DataValidationError(f"'{args.model}' holds a {meta.get('scenario', 'unknown')!r} model, not a credit "
                                  "model. Fix: pass the folder saved by the credit scenario.")
    threshold = float(decision(meta)["threshold"]) if args.threshold is None else float(args.threshold)
    if not 0 <= threshold <= 1:
        raise DataValidationError(f"--threshold must be between 0 and 1; got {threshold}. Fix: pass e.g. 0.2.")
    run = run_table_scoring(args, meta, score_block, threshold=threshold, reasons=not args.no_reasons)
    parts, rows = run.parts, run.rows
    declined = sum(r["declined"] for r in parts)
    p_sum = sum(r["p_sum"] for r in parts)
    result = {"rows": rows, "approved": rows - declined, "declined": declined,
              "approval_rate": float(1 - declined / max(rows, 1)), "threshold": threshold,
              "mean_probability": p_sum / rows if rows else None, "out": str(args.out), "notices": run.notices,
              "engine": run.engine(), "timings": {"total": time.perf_counter() - t0}}
    drift = run.drift()
    if drift is not None:
        result["drift"] = drift.to_dict(orient="records")
    if parts and all(r["y"] is not None for r in parts):
        y, p = np.concatenate([r["y"] for r in parts]), np.concatenate([r["p"] for r in parts])
        if 0 < y.sum() < len(y):
            from core.ml.metrics import compute_binary_metrics

            result["metrics"] = compute_binary_metrics(y, p.astype(float), threshold)
    return result

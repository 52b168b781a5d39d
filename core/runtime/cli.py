"""``python -m core export --model RUN --format onnx [--out FILE]``: a run's network as an ONNX file.

The export is cached beside the run (``core.runtime.onnx.ensure_onnx``: ``model.onnx`` with its
SHA-256 in ``model.onnx.sha256``), checked against Keras on seeded random inputs, and copied to
``--out`` when given (written atomically). Prints where it is, its SHA-256 and the check.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

FORMATS = ("onnx",)


def export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m core export",
                                description="Export a saved run's network to ONNX (cached beside the run).")
    p.add_argument("--model", required=True, help="a saved run folder")
    p.add_argument("--format", choices=FORMATS, default="onnx", help="onnx (ONNX Runtime, no TensorFlow to serve)")
    p.add_argument("--out", default=None, help="also copy the exported file here (e.g. credit.onnx)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--verbose", action="store_true", help="keep TensorFlow's own start-up lines")
    return p


def run_export(args) -> dict:
    """Export (or find the cached export of) ``args.model``; copy it to ``args.out`` when given."""
    from core.store.registry import load_run, write_atomic
    from core.runtime.onnx import _check_against_keras, cached_onnx, export_onnx

    run_dir = Path(args.model)
    cached = cached_onnx(run_dir) if (run_dir / "metadata.json").exists() else None
    model = load_run(run_dir).model  # checks the run's files, loads Keras in safe mode
    if cached is None:
        result = export_onnx(run_dir, model=model)
        result["cached"] = False
    else:
        data = cached.read_bytes()
        result = {"path": str(cached), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                  "max_abs_diff": _check_against_keras(model, data), "cached": True}
    if args.out:
        write_atomic(args.out, Path(result["path"]).read_bytes(), what="Writing the ONNX file")
        result["out"] = str(args.out)
    result["format"] = args.format
    meta = load_run(run_dir, load_model=False).metadata
    blend = meta.get("blend") if meta.get("scenario") == "demand" else None
    if blend is not None:
        from core.present.console import say

        # The blend's baseline is numpy on the request's history, not a layer of the file.
        result["blend"] = {**{k: blend.get(k) for k in ("baseline", "weight", "label")}, "in_file": False, "note": (
            f"The file holds the network alone. The run's recommended forecast is {blend.get('label')}: "
            "python -m core score / serve apply the blend outside the file (P50 = weight x network + "
            "(1 - weight) x baseline, computed from the history sent).")}
        say(f"export: {result['blend']['note']}")
    return result

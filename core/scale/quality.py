"""Quality inspection on a Dask cluster: a folder of images cut into blocks of files, each block
decoded and classified on a worker with the single-process engine's own steps.

The file list, the wrapper folder that is dropped and whether images are labelled by their class
folders or names are decided here once for the whole folder, exactly as
``core.quality.data.load_images_for_scoring`` decides them, so every block reads its images the
same way; the parts joined in order are the single-process table.
"""

from __future__ import annotations

import math
import time
from pathlib import Path, PurePosixPath

from core.errors import DataValidationError

IMAGES_PER_BLOCK = 1_000


def list_images(folder) -> tuple[list[str], dict[str, str], list[str]]:
    """(sorted image names as the scorer sees them, name -> path under the folder, notices)."""
    from core.quality.archive import _skip_entry
    from core.quality.data import _skipped
    from core.quality.labels import IMAGE_EXTENSIONS, strip_common_root

    root = Path(folder)
    if not root.is_dir():
        raise DataValidationError(
            f"Expected a folder of images for --engine dask; got '{folder}'. Fix: unpack the zip into a folder "
            "on storage every worker can read and pass that folder, or score the zip with --engine local.")
    rel = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file()]
    rel = [r for r in rel if not _skip_entry(PurePosixPath(r))]
    stripped = strip_common_root({r: r.encode() for r in rel})  # the value carries the original path
    where = {name: orig.decode() for name, orig in stripped.items()}
    paths = sorted(p for p in where if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS)
    notices = _skipped([p for p in where if PurePosixPath(p).suffix.lower() not in IMAGE_EXTENSIONS],
                       "are not images and were skipped")
    if not paths:
        raise DataValidationError(
            f"Expected image files (PNG, JPEG, BMP, GIF, TIFF, WebP) in '{folder}'; got {len(where)} file(s) and no "
            "images. Fix: point --data to the folder of images (in class folders if you know their labels).")
    return paths, where, notices


def label_images(paths: list[str], class_names) -> dict[str, str] | None:
    """Each image's class when all are in folders (or have names) of the training classes, else None:
    the rule of ``load_images_for_scoring``, applied to the whole folder."""
    from core.quality.labels import class_from_filename

    classes = list(class_names)
    by_folder = {p: PurePosixPath(p).parts[0] if len(PurePosixPath(p).parts) >= 2 else None for p in paths}
    lower = {c.lower(): c for c in classes}
    by_name = {p: lower.get((class_from_filename(p) or "").lower()) for p in paths}
    return next((m for m in (by_folder, by_name) if all(m[p] in classes for p in paths)), None)


def score_image_block(index: int, names: list[str], folder: str, where: dict, labels: dict | None, packed,
                      staging: str, fmt: str, *, threshold: float) -> dict:
    """On a worker: decode and classify one block of images; write its part."""
    import numpy as np

    from core.quality.data import _decode_all, _to_channels
    from core.quality.evaluate import get_predictions_frame
    from core.quality.export import load_quality_model
    from core.scale.engine import load_shipped
    from core.scale.output import write_part

    saved = load_shipped(packed, load_quality_model)
    files = {n: (Path(folder) / where[n]).read_bytes() for n in names}
    decoded = _decode_all(files, names, saved.image_size)
    pixels = np.stack([_to_channels(a, saved.channels) for a in decoded.pixels]).astype(np.uint8)
    y = None if labels is None else np.asarray([list(saved.class_names).index(labels[n]) for n in decoded.names])
    proba = saved.predict_proba(pixels)
    scored = get_predictions_frame(decoded.names, y, proba, saved.class_names, saved.ok_class, threshold)
    write_part(scored, staging, index, fmt)
    out = {"rows": len(scored), "notices": decoded.notices,
           "rejected": int((scored["verdict"] == "reject").sum()) if "verdict" in scored else None}
    if "actual" in scored:
        out["correct"] = int((scored["actual"] == scored["predicted"]).sum())
    return out


def run_score_dask(args) -> dict:
    """``python -m core score`` for a quality run with ``--engine dask`` over a folder of images."""
    from core.cli import say
    from core.registry import read_metadata
    from core.scale.cluster import open_client
    from core.scale.engine import Progress, run_ordered, ship_run
    from core.scale.output import StagedOutput, choose_format
    from core.workspace.scoring import get_decision_settings

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    if meta.get("scenario") != "quality":
        raise DataValidationError(f"Expected a saved quality-inspection run; got scenario '{meta.get('scenario')}' "
                                  f"at {args.model}. Point --model to a folder written by the quality page or CLI.")
    threshold = get_decision_settings(meta)["threshold"] if args.threshold is None else float(args.threshold)
    if not 0 <= threshold <= 1:
        raise DataValidationError(f"The reject threshold must be between 0 and 1; got {threshold}. Fix: e.g. 0.3.")
    paths, where, notices = list_images(args.data)
    labels = label_images(paths, meta["class_names"])
    size = max(1, min(int(getattr(args, "chunk_size", 0) or IMAGES_PER_BLOCK), IMAGES_PER_BLOCK))
    blocks = [(i, paths[i * size:(i + 1) * size]) for i in range(math.ceil(len(paths) / size))]
    fmt = choose_format(args.out, getattr(args, "out_format", None))
    staged = StagedOutput(args.out, fmt)
    progress = Progress(quiet=getattr(args, "quiet", False), what="images")
    results = {}
    try:
        with open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=say) as client:
            packed = ship_run(client, args.model)
            where_f, labels_f = client.scatter([where, labels], broadcast=True, hash=False)

            def submit(block):
                i, names = block
                return client.submit(score_image_block, i, names, str(Path(args.data).resolve()), where_f, labels_f,
                                     packed, str(staged.staging), fmt, threshold=threshold, pure=False)

            def done(block, res):
                results[block[0]] = res
                progress.update(res["rows"], total=len(blocks))

            run_ordered(client, blocks, submit, done)
        staged.finish(len(blocks))
    except BaseException:
        staged.abort()
        raise
    parts = [results[i] for i, _ in blocks]
    rows = sum(p["rows"] for p in parts)
    out = {"rows": rows, "out": str(args.out), "threshold": threshold,
           "notices": notices + [n for p in parts for n in p["notices"]],
           "engine": {"name": "dask", "partitions": len(blocks), "out_format": fmt, "files": len(paths)},
           "timings": {"score_s": round(time.perf_counter() - t0, 3)}}
    if parts and parts[0]["rejected"] is not None:
        out["rejected"] = sum(p["rejected"] for p in parts)
    if labels is not None:
        out["accuracy"] = sum(p["correct"] for p in parts) / max(rows, 1)
    return out

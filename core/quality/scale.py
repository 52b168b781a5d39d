"""Quality inspection on a Dask cluster: a folder or a zip of images cut into blocks of files, each
block decoded and classified on a worker with the single-process engine's own steps.

The file list, the wrapper folder that is dropped, the masks beside the photos that are left out
and whether images are labelled by their class folders or names are decided here once for the
whole input, exactly as ``core.quality.data.load_images_for_scoring`` decides them, so every block
reads its images the same way; the parts joined in order are the single-process table, and the
notices (damaged archive members, files that are not images, images that do not decode, masks)
are gathered from every block into the single-process sentences. Two-valued images among photos
(masks by content alone) are only known once every block has decoded its images: the few blocks
that hold them are scored again without them, replacing their parts.

A zip is never unpacked: its directory is read here, with the upload's safety checks on every
entry (paths leaving the archive, links, password protection, members that unpack to far more
than they hold), and each worker reads its block's members from the zip by path, so the zip must
be on storage every worker sees, like every other input. The upload's caps on the whole archive
(200 MB, 20,000 entries) and the Score page's 5,000-image cap do not apply here: scoring large
sets is what this engine is for.
"""

from __future__ import annotations

import math
import time
from pathlib import Path, PurePosixPath

from core.errors import DataValidationError

IMAGES_PER_BLOCK = 1_000


def list_images(source, *, keep_masks: bool = False):
    """(sorted image names as the scorer sees them, name -> path under the folder or zip member,
    notices about files that are not images, damaged archive members found here, the wrapper
    folders dropped, the masks found beside the photos (``core.quality.masks.MaskReport``))."""
    from core.quality.archive import _skip_entry
    from core.quality.data import _skipped
    from core.quality.labels import IMAGE_EXTENSIONS, split_common_root
    from core.quality.masks import find_masks

    root = Path(source)
    damaged: list[str] = []
    if root.is_dir():
        rel = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*")) if p.is_file()]
        rel = {r: r for r in rel if not _skip_entry(PurePosixPath(r))}
    elif root.is_file() and _is_zip(root):
        rel = zip_members(root)
    else:
        raise DataValidationError(
            f"Expected a folder of images or a zip of images for --engine dask; got '{source}'. Fix: point --data "
            "to the folder or the .zip (on storage every worker can read).")
    stripped, wrapper = split_common_root({r: r.encode() for r in rel})  # the value carries the original path
    where = {name: rel[orig.decode()] for name, orig in stripped.items()}
    paths = sorted(p for p in where if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS)
    with _Reader(Path(source), where) as read:
        masks = find_masks(paths, read)  # reads only images with a same-name partner or a mask word
    if not keep_masks:
        paths = [p for p in paths if p not in masks.reasons]
    others = [p for p in where if PurePosixPath(p).suffix.lower() not in IMAGE_EXTENSIONS]
    if not root.is_dir() and others:
        # A damaged member is skipped as damaged, not as "not an image" (as the upload reader does).
        damaged = read_members(root, [where[p] for p in others])[1]
        others = [p for p in others if where[p] not in damaged]
    notices = _skipped(others, "are not images and were skipped")
    if not paths:
        from core.quality.masks import only_masks_text

        raise DataValidationError(
            f"Expected image files (PNG, JPEG, BMP, GIF, TIFF, WebP) in '{source}'; got {len(where)} file(s) and no "
            f"images{only_masks_text(masks)}. Fix: point --data to the folder or zip of images (in class folders if "
            "you know their labels).")
    return paths, where, notices, damaged, wrapper, masks


class _Reader:
    """``read(name)``: one file's bytes from the folder or the zip, the zip opened once."""

    def __init__(self, source: Path, where: dict[str, str]):
        self.source, self.where, self.zf = source, where, None

    def __enter__(self):
        if not self.source.is_dir():
            import zipfile

            self.zf = zipfile.ZipFile(self.source)
        return self.read

    def __exit__(self, *exc):
        if self.zf is not None:
            self.zf.close()

    def read(self, name: str) -> bytes:
        from core.quality.archive import ArchiveLimits, _read_capped

        if self.zf is None:
            return (self.source / self.where[name]).read_bytes()
        return _read_capped(self.zf, self.zf.getinfo(self.where[name]), ArchiveLimits())


def _is_zip(path: Path) -> bool:
    import zipfile

    return zipfile.is_zipfile(path)


def zip_members(path: Path) -> dict[str, str]:
    """{entry path as the upload reader names it: member name} of a zip's regular files, after the
    upload's checks on every entry (``core.quality.archive.read_zip``), clutter left out."""
    import zipfile

    from core.quality.archive import ArchiveLimits, _skip_entry, check_entries, check_member

    limits = ArchiveLimits()
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise DataValidationError(
            f"Expected a zip archive of images; got '{path.name}', which is not a readable zip ({exc}). "
            "Fix: create it with your system's 'Compress' / 'Send to zip' command.") from exc
    out: dict[str, str] = {}
    check_entries(infos)
    for info in infos:
        entry = PurePosixPath(info.filename.replace("\\", "/"))
        if _skip_entry(entry):
            continue
        check_member(info, limits)
        out[str(entry)] = info.filename
    return out


def read_members(path, members: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """({member: bytes}, damaged members) read from the zip at ``path``, each capped at its declared size."""
    import zipfile

    from core.quality.archive import ArchiveLimits, CorruptMember, _read_capped

    files, damaged = {}, []
    with zipfile.ZipFile(path) as zf:
        for m in members:
            try:
                files[m] = _read_capped(zf, zf.getinfo(m), ArchiveLimits())
            except CorruptMember as exc:
                damaged.append(exc.name)
    return files, damaged


def score_image_block(index: int, names: list[str], source: str, where: dict, labels: dict | None, packed,
                      staging: str, fmt: str, *, threshold: float, drop=(), log: dict | None = None) -> dict:
    """On a worker: read, decode and classify one block of images (less the two-valued images in
    ``drop``); log it (``core.scale.predlog``) and write its part. Returns its counts, the damaged archive members, the images that did
    not decode and the two-valued images (for the notices and the mask rule)."""
    import numpy as np

    from core.quality.data import _to_channels, decode_with_levels
    from core.quality.export import load_quality_model
    from core.quality.service import score_images
    from core.scale.engine import load_shipped
    from core.scale.output import write_part
    from core.scale.predlog import log_block

    saved = load_shipped(packed, load_quality_model)
    if Path(source).is_dir():
        files, damaged = {n: (Path(source) / where[n]).read_bytes() for n in names}, []
    else:
        raw, damaged = read_members(source, [where[n] for n in names])
        files = {n: raw[where[n]] for n in names if where[n] in raw}
    decoded, pixels, bad, two_valued = [], [], [], []
    for n in names:  # as core.quality.data._decode_all: a file that does not decode is skipped
        if n not in files:
            continue
        try:
            arr, _, _, two = decode_with_levels(files[n], image_size=saved.image_size)
        except Exception as exc:  # PIL raises many error types for broken files
            bad.append(f"{n} ({type(exc).__name__})")
            continue
        if two:
            two_valued.append(n)
            if n in drop:
                continue
        decoded.append(n)
        pixels.append(_to_channels(arr, saved.channels))
    classes = list(saved.class_names)
    y = None if labels is None else np.asarray([classes.index(labels[n]) for n in decoded], dtype=int)
    images = np.stack(pixels).astype(np.uint8) if pixels else np.zeros((0,), dtype=np.uint8)
    scored = score_images(saved, images, decoded, y, threshold=threshold)
    scored, logged = log_block(log, packed, None, scored, staging, index)
    write_part(scored, staging, index, fmt)
    out = {"rows": len(scored), "damaged": damaged, "bad": bad, "two_valued": two_valued, "log": logged,
           "rejected": int((scored["verdict"] == "reject").sum()) if "verdict" in scored else None}
    if "actual" in scored:
        out["correct"] = int((scored["actual"] == scored["predicted"]).sum())
    return out


def run_score_dask(args) -> dict:
    """``python -m core score`` for a quality run with ``--engine dask`` over a folder of images."""
    from core.cli import say
    from core.store.registry import read_metadata
    from core.scale.cluster import open_client
    from core.scale.engine import Progress, run_ordered, ship_run
    from core.scale.output import StagedOutput, choose_format
    import pandas as pd

    from core.scale.predlog import plan_log, publish_block_logs
    from core.serve.decisions import get_decision_settings

    t0 = time.perf_counter()
    meta = read_metadata(args.model)
    if meta.get("scenario") != "quality":
        raise DataValidationError(f"Expected a saved quality-inspection run; got scenario '{meta.get('scenario')}' "
                                  f"at {args.model}. Point --model to a folder written by the quality page or CLI.")
    threshold = get_decision_settings(meta)["threshold"] if args.threshold is None else float(args.threshold)
    if not 0 <= threshold <= 1:
        raise DataValidationError(f"The reject threshold must be between 0 and 1; got {threshold}. Fix: e.g. 0.3.")
    from core.quality.labels import scoring_labels

    keep = bool(getattr(args, "keep_masks", False))
    paths, where, skipped, damaged, root, masks = list_images(args.data, keep_masks=keep)
    labels = scoring_labels(paths, meta["class_names"], root)
    size = max(1, min(int(getattr(args, "chunk_size", 0) or IMAGES_PER_BLOCK), IMAGES_PER_BLOCK))
    blocks = [(i, paths[i * size:(i + 1) * size]) for i in range(math.ceil(len(paths) / size))]
    fmt = choose_format(args.out, getattr(args, "out_format", None))
    staged = StagedOutput(args.out, fmt)
    progress = Progress(quiet=getattr(args, "quiet", False), what="images")
    recorder = getattr(args, "prediction_log", None)  # the run's prediction log (core.monitor)
    # Every scored row carries its image's file name (its id in the log), as the first block shows.
    plan = plan_log(recorder, pd.DataFrame({"file": paths[:size]}))
    results = {}
    try:
        with open_client(getattr(args, "scheduler", None), workers=getattr(args, "workers", None), say=say) as client:
            packed = ship_run(client, args.model)
            where_f, labels_f = client.scatter([where, labels], broadcast=True, hash=False)

            drop: set[str] = set()

            def submit(block):
                i, names = block
                return client.submit(score_image_block, i, names, str(Path(args.data).resolve()), where_f, labels_f,
                                     packed, str(staged.staging), fmt, threshold=threshold,
                                     drop=sorted(drop.intersection(names)), log=plan, pure=False)

            def done(block, res):
                results[block[0]] = res
                progress.update(res["rows"], total=len(blocks))

            run_ordered(client, blocks, submit, done)
            drop.update(binary_masks([results[i] for i, _ in blocks], masks))
            if drop and not keep:
                # Two-valued images among photos are masks: score the blocks holding them again without them.
                run_ordered(client, [b for b in blocks if drop.intersection(b[1])], submit,
                            lambda block, res: results.__setitem__(block[0], res))
        if not any(results[i]["rows"] for i, _ in blocks):
            bad = sum(len(results[i]["bad"]) for i, _ in blocks)
            raise DataValidationError(  # the single-process message (core.quality.data._decode_all)
                f"Expected readable images (PNG, JPEG, BMP, GIF, TIFF, WebP); got {bad} file(s), none "
                "of which could be decoded. Check that the files are real images, not renamed documents.")
        publish_block_logs(recorder, staged, [results[i].get("log") for i, _ in blocks])
        staged.finish(len(blocks))
    except BaseException:
        staged.abort()
        raise
    parts = [results[i] for i, _ in blocks]
    rows = sum(p["rows"] for p in parts)
    out = {"rows": rows, "out": str(args.out), "threshold": threshold,
           "notices": gather_notices(damaged, skipped, parts, list(where.values()), masks, keep),
           "engine": {"name": "dask", "partitions": len(blocks), "out_format": fmt, "files": len(paths)},
           "timings": {"score_s": round(time.perf_counter() - t0, 3)}}
    if parts and parts[0]["rejected"] is not None:
        out["rejected"] = sum(p["rejected"] for p in parts)
    if labels is not None:
        out["accuracy"] = sum(p["correct"] for p in parts) / max(rows, 1)
    return out


def binary_masks(parts: list[dict], masks) -> set[str]:
    """The two-valued images that are masks among photos (``core.quality.masks.binary_minority`` over
    every block's images), recorded in ``masks``; none when they are half or more of the images."""
    from core.quality.masks import binary_minority

    two = [n for p in parts for n in p["two_valued"]]
    total = sum(p["rows"] for p in parts)  # the first pass drops nothing: every decoded image is a row
    if not binary_minority([True] * len(two) + [False] * (total - len(two))):
        return set()
    for n in two:
        masks.add(n, "binary")
    return set(two)


def gather_notices(damaged: list[str], skipped: list[str], parts: list[dict], members: list[str], masks=None,
                   keep: bool = False) -> list[str]:
    """The single-process notices from every block's findings, in its order: damaged archive
    members (in the archive's order, ``members``), files that are not images, images that did
    not decode, two-valued images kept as photos, masks left out."""
    from core.quality.data import _skipped
    from core.quality.masks import binary_kept_notice, describe_masks

    order = {m: i for i, m in enumerate(members)}
    damaged = sorted(list(damaged) + [m for p in parts for m in p["damaged"]], key=lambda m: order.get(m, -1))
    notices = [f"{len(damaged)} damaged archive member(s) were skipped: {', '.join(damaged[:5])}."] if damaged else []
    notices += list(skipped) + _skipped([b for p in parts for b in p["bad"]],
                                        "could not be read as images and were skipped")
    reasons = {} if masks is None else masks.reasons
    if "binary" not in reasons.values():
        two = sum(len(p["two_valued"]) for p in parts)
        notices += binary_kept_notice(two, sum(p["rows"] for p in parts))
    return notices + describe_masks(reasons, kept=keep)

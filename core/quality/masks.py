"""Masks and annotation images that public defect catalogues ship beside their photos, found so they
are left out of training and scoring instead of being read as more photos.

A catalogue such as the magnetic-tile set keeps a segmentation mask beside every photo
(``MT_Blowhole/Imgs/x.jpg`` + ``MT_Blowhole/Imgs/x.png``); MVTec AD keeps them under
``ground_truth/``; DAGM under ``Label/`` with ``_label`` in the name. An image is a mask when:

* **pair**: it shares its name (stem) with another image in the same folder and differs from it as a
  mask does: it is black-and-white (two-valued, or near-binary for a lossy file) where the other is
  not, or it is single-channel where the other is a colour photo;
* **folder** / **name**: a folder above it is named mask(s), label(s), gt, ground_truth,
  annotation(s), seg or segmentation, or its file name holds one of these words (``x_mask.png``),
  *and* its content agrees (black-and-white, or single-channel beside a colour photo of the same
  name), so a class of real photos that happens to be called ``label`` keeps its images;
* **binary**: it is two-valued (every pixel one of two values) while most images are not. This is
  decided after decoding (``binary_minority``); a catalogue of black-and-white images keeps them all.

A grey photo is never a mask on its own: grey photos have many levels. Nothing is deleted: the
notice says how many were left out, how they were recognised and how to keep them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable, Iterable

import numpy as np

from core.quality.labels import IMAGE_EXTENSIONS, name_tokens

MASK_WORDS = frozenset({"mask", "masks", "label", "labels", "gt", "groundtruth", "annotation", "annotations",
                        "seg", "segmentation", "segmentations"})
_FOLDER_WORDS = MASK_WORDS | {"ground", "truth"}
SINGLE_CHANNEL_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
# Near-binary: almost every pixel close to black or white (a mask saved as JPEG rings a little at edges).
NEAR_BINARY_MARGIN = 24
NEAR_BINARY_SHARE = 0.97
REASONS = {
    "pair": "have the same name as a photo beside them with another extension (x.png beside x.jpg) and are "
            "black-and-white or single-channel where the photo is not",
    "folder": "are in a mask / annotation folder ({examples}) and look like masks",
    "name": "are named as masks ({examples}) and look like masks",
    "binary": "are black-and-white (two-valued) images among photos that are not",
}
KEEP_FIX = ("If they are photos, keep them: tick 'Keep mask-like images as photos' on the page, or pass "
            "--keep-masks on the command line.")


@dataclass(frozen=True)
class Look:
    """What an image's pixels say about it being a mask."""

    level: int  # 2: two-valued, 1: near-binary, 0: neither
    single: bool  # stored with one channel (L, 1, I;16, ...)
    colour: bool  # stored as colour with channels that really differ


@dataclass
class MaskReport:
    """Masks found among the images: path -> how it was recognised, and the photo each belongs to."""

    reasons: dict[str, str] = field(default_factory=dict)
    photo_of: dict[str, str] = field(default_factory=dict)

    def add(self, path: str, reason: str, photo: str | None = None) -> None:
        self.reasons[path] = reason
        if photo:
            self.photo_of[path] = photo

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(mask path, its photo's path or '') for every mask, sorted by mask path."""
        return tuple((m, self.photo_of.get(m, "")) for m in sorted(self.reasons))


def count_levels(im, cap: int = 2) -> int:
    """Distinct pixel values of a loaded PIL image, counted up to ``cap + 1`` (cheap: stops early)."""
    try:
        colours = im.getcolors(cap)
    except Exception:  # modes getcolors does not support (32-bit float / int)
        values = np.unique(np.asarray(im))
        return int(min(len(values), cap + 1))
    return cap + 1 if colours is None else len(colours)


def look_at(data: bytes) -> Look | None:
    """How mask-like one image file is; None when it does not decode (the decoder reports it later)."""
    from PIL import Image

    from core.quality.sizing import is_near_gray

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > 40_000_000:
                return None
            if im.format == "JPEG":
                im.draft(None, (256, 256))  # a lossy file is judged at a reduced scale: much faster
            im.load()
            two = count_levels(im) <= 2
            single = im.mode in SINGLE_CHANNEL_MODES
            small = _to_8bit(im)
            small.thumbnail((256, 256))
            hist = np.asarray(small.convert("L").histogram(), dtype=np.int64)
            near = (hist[:NEAR_BINARY_MARGIN + 1].sum() + hist[255 - NEAR_BINARY_MARGIN:].sum()) \
                >= NEAR_BINARY_SHARE * hist.sum()
            colour = not single and not is_near_gray(np.asarray(small.convert("RGB")))
    except Exception:  # PIL raises many error types for broken files
        return None
    return Look(2 if two else 1 if near else 0, single, colour)


def _to_8bit(im):
    """A copy in an 8-bit mode; 16-bit and float images scaled by their own range (as the decoder does)."""
    from PIL import Image

    if im.mode not in ("I", "I;16", "I;16B", "I;16L", "F"):
        return im.copy()
    arr = np.asarray(im, dtype=np.float64)
    lo, hi = float(arr.min()), float(arr.max())
    return Image.fromarray(((arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)).astype(np.uint8))


def _stem_key(path: PurePosixPath) -> tuple[str, ...]:
    """A file name's words without mask words: ``0001_mask`` and ``0001`` give the same key."""
    return tuple(w for w in name_tokens(path.stem) if w not in MASK_WORDS)


def _mask_folder(part: str) -> bool:
    words = [w for w in name_tokens(part) if not w.isdigit()]
    return bool(words) and all(w in _FOLDER_WORDS for w in words)


def _named_as_mask(path: PurePosixPath) -> bool:
    words = name_tokens(path.stem)
    return any(w in MASK_WORDS for w in words) or any(a == "ground" and b == "truth" for a, b in zip(words, words[1:]))


def find_masks(paths: Iterable[str], read: Callable[[str], bytes]) -> MaskReport:
    """Masks among the image ``paths`` by the pair, folder and name rules (module docstring).

    ``read(path)`` gives a file's bytes; only images with a same-name partner or a mask word in their
    folders or name are read, so a catalogue without either costs nothing here.
    """
    paths = sorted(paths)
    looks: dict[str, Look | None] = {}

    def look(p: str) -> Look | None:
        if p not in looks:
            try:
                looks[p] = look_at(read(p))
            except Exception:  # unreadable: not a mask; the loader reports it
                looks[p] = None
        return looks[p]

    report = MaskReport()
    groups: dict[tuple[str, str], list[str]] = {}
    for p in paths:
        pp = PurePosixPath(p)
        groups.setdefault((str(pp.parent), pp.stem.lower()), []).append(p)
    photos_of_pairs: set[str] = set()
    for members in groups.values():
        if len(members) < 2 or len({PurePosixPath(m).suffix.lower() for m in members}) < 2:
            continue
        seen = {m: look(m) for m in members}
        ok = {m: v for m, v in seen.items() if v is not None}
        if len(ok) < 2:
            continue
        low = min(v.level for v in ok.values())
        masks = [m for m, v in ok.items() if v.level > low]
        if not masks and low == 0 and any(v.colour for v in ok.values()):
            masks = [m for m, v in ok.items() if v.single]
        photos = [m for m in ok if m not in masks]
        if masks and photos:
            photos_of_pairs.update(photos)
            for m in masks:
                report.add(m, "pair", photos[0])
    candidates = {}
    for p in paths:
        pp = PurePosixPath(p)
        if p in report.reasons or p in photos_of_pairs:
            continue
        if any(_mask_folder(part) for part in pp.parts[:-1]):
            candidates[p] = "folder"
        elif _named_as_mask(pp):
            candidates[p] = "name"
    if not candidates:
        return report
    index: dict[tuple[str, ...], list[str]] = {}
    for p in paths:
        if p not in candidates and p not in report.reasons:
            index.setdefault(_stem_key(PurePosixPath(p)), []).append(p)
    for p, reason in candidates.items():
        seen = look(p)
        if seen is None:
            continue
        photo = _closest(p, index.get(_stem_key(PurePosixPath(p)), []))
        partner = look(photo) if photo and seen.level == 0 and seen.single else None
        if seen.level >= 1 or (partner is not None and partner.colour):
            report.add(p, reason, photo)
    return report


def leave_out_masks(files: dict[str, bytes], *, keep: bool) -> tuple[dict[str, bytes], MaskReport]:
    """The files without the masks beside the photos (all of them when ``keep``), and the masks found."""
    report = find_masks([p for p in files if PurePosixPath(p).suffix.lower() in IMAGE_EXTENSIONS], files.__getitem__)
    if keep or not report.reasons:
        return files, report
    return {p: b for p, b in files.items() if p not in report.reasons}, report


def only_masks_text(masks: MaskReport) -> str:
    """The part of the 'no images' error that says the only images looked like masks."""
    if not masks.reasons:
        return ""
    return (f" ({len(masks.reasons):,} image(s) were left out as masks or annotations, e.g. "
            f"{sorted(masks.reasons)[0]}; if they are photos, keep them with 'Keep mask-like images as photos' "
            "on the page or --keep-masks on the command line)")


def _closest(mask: str, photos: list[str]) -> str | None:
    """The photo sharing most folder names with the mask (``ground_truth/crack/000_mask.png`` ->
    ``test/crack/000.png`` rather than ``test/good/000.png``)."""
    if not photos:
        return None
    folders = set(PurePosixPath(mask).parts[:-1])
    return max(photos, key=lambda p: (len(folders & set(PurePosixPath(p).parts[:-1])), -len(p), p))


def binary_minority(two_valued: list[bool]) -> bool:
    """Whether the two-valued images are fewer than the others (then they are masks among photos);
    a catalogue that is mostly black-and-white keeps them."""
    n = sum(two_valued)
    return 0 < n < len(two_valued) - n


def describe_masks(reasons: dict[str, str], *, kept: bool = False) -> list[str]:
    """The notice: how many images were left out as masks and how each group was recognised."""
    if not reasons:
        return []
    by: dict[str, list[str]] = {}
    for path, reason in sorted(reasons.items()):
        by.setdefault(reason, []).append(path)
    parts = []
    for reason, text in REASONS.items():
        found = by.get(reason, [])
        if not found:
            continue
        if reason == "folder":
            examples = sorted({next(f"{part}/" for part in PurePosixPath(p).parts[:-1] if _mask_folder(part))
                               for p in found})
        else:
            examples = sorted({PurePosixPath(p).name for p in found})
        parts.append(f"{len(found):,} {text.format(examples=', '.join(examples[:3]))}")
    n = len(reasons)
    sample = ", ".join(sorted(reasons)[:3]) + (f" and {n - 3:,} more" if n > 3 else "")
    if kept:
        return [f"{n:,} image(s) look like masks or annotations ({'; '.join(parts)}) and were kept as photos, "
                f"as asked: {sample}."]
    return [f"{n:,} mask or annotation image(s) were left out, not read as photos: {'; '.join(parts)}. "
            f"They are {sample}. {KEEP_FIX}"]


def binary_kept_notice(n: int, total: int) -> list[str]:
    """Two-valued images that were kept because they are not a minority."""
    if not n or n == total:
        return []
    return [f"{n:,} of {total:,} images are black-and-white (two-valued), as masks are; they were kept as photos "
            "because they are half or more of the images. If they are masks, remove them from the upload."]

"""Safe reading of uploaded image archives and folders into (relative path -> bytes).

Nothing is ever extracted to disk: members are read into memory with hard caps, so a
hostile archive can at worst be refused.  Checks (each with its own clear message):
archive size, number of entries, declared uncompressed size, compression ratio
(zip bombs), actual bytes read versus declared size, and entry paths that would
escape the archive (``../``, absolute paths, drive letters, symlinks).
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.errors import DataValidationError

MB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Hard caps for uploads; generous for real image sets, small enough for a 1 GB server."""

    max_archive_bytes: int = 200 * MB
    max_entries: int = 20_000
    max_total_bytes: int = 500 * MB
    max_member_bytes: int = 50 * MB
    # Image formats are already compressed (PNG/JPEG ratios are ~1-5); 100:1 is a bomb.
    max_ratio: float = 100.0
    # Tiny files compress well legitimately (a blank 64x64 BMP); only judge ratios above this.
    ratio_min_bytes: int = 1 * MB


def _fmt_mb(n: int) -> str:
    return f"{n / MB:,.1f} MB"


class CorruptMember(Exception):
    """One archive member could not be read; the rest of the archive is still usable."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def check_member_path(name: str, *, example: str = "ok/img_001.png", source: str = "image folder") -> PurePosixPath:
    """Normalised relative path of an archive entry; raise when it would escape the archive.
    ``example`` and ``source`` word the message for what the archive holds (images, tables)."""
    clean = name.replace("\\", "/")
    path = PurePosixPath(clean)
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":") or ".." in path.parts:
        raise DataValidationError(
            f"Archive entry '{name}' points outside the archive (absolute path or '..'). "
            f"Expected relative paths such as '{example}'; got a path that could overwrite "
            f"other files. Re-create the zip from the {source} itself."
        )
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _skip_entry(path: PurePosixPath) -> bool:
    """Operating-system clutter that is not user data (macOS resource forks, hidden files)."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def read_zip(data: bytes, *, limits: ArchiveLimits = ArchiveLimits()) -> tuple[dict[str, bytes], list[str]]:
    """All regular files of a zip as ``{relative_path: bytes}``, after the safety checks.

    Returns the files and the names of damaged members that were skipped (CRC errors,
    unsupported compression): one bad file should not cost the user the whole upload.
    """
    if len(data) > limits.max_archive_bytes:
        raise DataValidationError(
            f"The archive is {_fmt_mb(len(data))}; the limit is {_fmt_mb(limits.max_archive_bytes)}. "
            "Upload fewer or smaller images (a few thousand small images are plenty to start)."
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise DataValidationError(
            f"Expected a zip archive of images; got a file that is not a readable zip ({exc}). "
            "Create it with your system's 'Compress' / 'Send to zip' command."
        ) from exc
    if len(infos) > limits.max_entries:
        raise DataValidationError(
            f"The archive has {len(infos):,} entries; the limit is {limits.max_entries:,}. "
            "Upload a smaller subset of images."
        )
    files = [i for i in infos if not i.is_dir()]
    check_entries(files)
    declared = sum(i.file_size for i in files)
    if declared > limits.max_total_bytes:
        raise DataValidationError(
            f"The archive would unpack to {_fmt_mb(declared)}; the limit is "
            f"{_fmt_mb(limits.max_total_bytes)} (possible zip bomb). Upload fewer or smaller images."
        )
    out: dict[str, bytes] = {}
    skipped: list[str] = []
    for info in files:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if _skip_entry(path):
            continue
        check_member(info, limits)
        try:
            out[str(path)] = _read_capped(zf, info, limits)
        except CorruptMember as exc:
            skipped.append(exc.name)
    return out, skipped


def check_entries(files: list[zipfile.ZipInfo], *, what: str = "image files", example: str = "ok/img_001.png",
                  source: str = "image folder") -> None:
    """Every entry's path stays inside the archive and none is a symbolic link."""
    for info in files:
        check_member_path(info.filename, example=example, source=source)
        if _is_symlink(info):
            raise DataValidationError(
                f"Archive entry '{info.filename}' is a symbolic link; expected regular {what}. "
                "Re-create the zip without links."
            )


def check_member(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    """One member to be read: not a zip bomb (size and compression ratio), not password-protected."""
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.max_member_bytes or (
        info.file_size >= limits.ratio_min_bytes and ratio > limits.max_ratio
    ):
        raise DataValidationError(
            f"Archive entry '{info.filename}' unpacks to {_fmt_mb(info.file_size)} from "
            f"{_fmt_mb(info.compress_size)} (ratio {ratio:,.0f}:1); expected image files under "
            f"{_fmt_mb(limits.max_member_bytes)} and ratios under {limits.max_ratio:.0f}:1. "
            "This looks like a zip bomb; upload the images themselves."
        )
    if info.flag_bits & 0x1:
        raise DataValidationError(
            f"Archive entry '{info.filename}' is password-protected; expected an unencrypted zip. "
            "Re-create the zip without a password."
        )


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits) -> bytes:
    """Read one member, never more than its declared size allows (headers can lie: such a
    member fails its CRC check and is reported as damaged)."""
    cap = min(info.file_size, limits.max_member_bytes)
    buf = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(64 * 1024)
                if not chunk:
                    break
                buf.extend(chunk)
                if len(buf) > cap:
                    # zipfile already stops at the declared size; this is a second fence.
                    raise CorruptMember(info.filename, "more data than its declared size")
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        # A damaged member (CRC error, unsupported compression): the caller skips it.
        raise CorruptMember(info.filename, str(exc)) from exc
    return bytes(buf)


def read_directory(root: Path, *, limits: ArchiveLimits = ArchiveLimits()) -> dict[str, bytes]:
    """All regular files under ``root`` as ``{relative_path: bytes}``; links leaving ``root`` are refused."""
    root = Path(root).resolve()
    out: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        if _skip_entry(rel) or not path.is_file():
            continue
        if root not in path.resolve().parents:
            raise DataValidationError(
                f"'{rel}' links to a file outside the folder {root}; expected the images to be inside it. "
                "Copy the images into the folder instead of linking them."
            )
        size = path.stat().st_size
        total += size
        if len(out) >= limits.max_entries or total > limits.max_total_bytes:
            raise DataValidationError(
                f"The folder holds more than {limits.max_entries:,} files or {_fmt_mb(limits.max_total_bytes)}; "
                "expected a smaller image set. Point to a subset of the images."
            )
        out[str(rel)] = path.read_bytes()
    return out

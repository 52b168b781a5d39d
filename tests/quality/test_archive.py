import io
import zipfile

import numpy as np
import pytest

from core.errors import DataValidationError
from core.quality.archive import ArchiveLimits, check_member_path, read_directory, read_zip
from tests.quality.conftest import make_zip, png_bytes

PNG = png_bytes(np.zeros((8, 8), np.uint8))


def test_reads_regular_members_and_skips_os_clutter():
    data = make_zip({"ok/a.png": PNG, "__MACOSX/ok/._a.png": b"x", "ok/.DS_Store": b"x"})
    files, damaged = read_zip(data)
    assert list(files) == ["ok/a.png"] and files["ok/a.png"] == PNG and damaged == []


@pytest.mark.parametrize("name", ["../evil.png", "ok/../../evil.png", "/etc/evil.png", "C:/evil.png", "..\\evil.png"])
def test_path_traversal_is_refused(name):
    data = make_zip({"ok/a.png": PNG, name: PNG})
    with pytest.raises(DataValidationError, match="points outside the archive"):
        read_zip(data)


def test_check_member_path_accepts_nested_relative_paths():
    assert str(check_member_path("a/b/c.png")) == "a/b/c.png"


def test_symlink_member_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("ok/link.png")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DataValidationError, match="symbolic link"):
        read_zip(buf.getvalue())


def test_zip_bomb_by_ratio_is_refused():
    # 5 MB of zeros compresses ~1000:1: a classic bomb shape.
    data = make_zip({"ok/a.png": PNG, "ok/bomb.png": b"\0" * (5 * 1024 * 1024)})
    assert len(data) < 100_000
    with pytest.raises(DataValidationError, match="zip bomb"):
        read_zip(data)


def test_declared_total_size_limit():
    data = make_zip({f"ok/{i}.png": b"\0" * 300_000 for i in range(4)})
    with pytest.raises(DataValidationError, match=r"would unpack to .*\(possible zip bomb\)"):
        read_zip(data, limits=ArchiveLimits(max_total_bytes=1_000_000))


def test_member_lying_about_its_size_is_refused():
    data = bytearray(make_zip({"ok/a.png": b"A" * 5000}, compression=zipfile.ZIP_DEFLATED))
    # Shrink the declared uncompressed size in the central directory (offset 24 of the entry).
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24: cd + 28] = (100).to_bytes(4, "little")
    lh = data.find(b"PK\x03\x04")
    data[lh + 22: lh + 26] = (100).to_bytes(4, "little")
    files, damaged = read_zip(bytes(data))
    # The member is never read past its declared size; the CRC check then marks it damaged.
    assert files == {} and damaged == ["ok/a.png"]


def test_archive_size_limit():
    with pytest.raises(DataValidationError, match="The archive is .* the limit is"):
        read_zip(b"x" * 2000, limits=ArchiveLimits(max_archive_bytes=1000))


def test_too_many_entries():
    data = make_zip({f"ok/{i}.png": PNG for i in range(12)})
    with pytest.raises(DataValidationError, match="12 entries; the limit is 10"):
        read_zip(data, limits=ArchiveLimits(max_entries=10))


def test_not_a_zip():
    with pytest.raises(DataValidationError, match="not a readable zip"):
        read_zip(b"this is a text file")


def test_damaged_member_is_skipped_not_fatal():
    data = bytearray(make_zip({"ok/a.png": PNG, "ok/b.png": PNG * 3}, compression=zipfile.ZIP_STORED))
    # Flip bytes inside the second member's data: its CRC check fails on read.
    pos = data.find(b"ok/b.png") + len("ok/b.png") + 40
    data[pos: pos + 8] = b"\xff" * 8
    files, damaged = read_zip(bytes(data))
    assert list(files) == ["ok/a.png"]
    assert damaged == ["ok/b.png"]


def test_encrypted_member_is_refused():
    data = bytearray(make_zip({"ok/a.png": PNG}))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 8] |= 0x1  # general-purpose flag bit 0: encrypted
    with pytest.raises(DataValidationError, match="password-protected"):
        read_zip(bytes(data))


def test_directory_reading_refuses_links_outside(tmp_path):
    (tmp_path / "data" / "ok").mkdir(parents=True)
    (tmp_path / "data" / "ok" / "a.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(PNG)
    assert list(read_directory(tmp_path / "data")) == ["ok/a.png"]
    (tmp_path / "data" / "ok" / "b.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(DataValidationError, match="links to a file outside the folder"):
        read_directory(tmp_path / "data")


def test_directory_size_limit(tmp_path):
    (tmp_path / "ok").mkdir()
    for i in range(3):
        (tmp_path / "ok" / f"{i}.png").write_bytes(PNG)
    with pytest.raises(DataValidationError, match="more than 2 files"):
        read_directory(tmp_path, limits=ArchiveLimits(max_entries=2))

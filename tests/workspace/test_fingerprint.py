"""The SHA-256 a saved run records is the file's, as uploaded or read: `sha256sum FILE` prints it, the
same for every run on that file, so anyone can check which file a model was trained on."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import pandas as pd
import pytest

from core.data.datasets import read_table
from core.store.registry import read_metadata
from core.report.runsummary import get_fingerprint, source_sha256
from core.workspace.demos import SAMPLES


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_table_read_from_a_file_carries_the_files_hash(tmp_path):
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    plain = tmp_path / "t.csv"
    df.to_csv(plain, index=False)
    packed = tmp_path / "t.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    zipped = tmp_path / "t.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(plain, "t.csv")
    for path in (plain, packed, zipped):
        table = read_table(path)
        # The bytes as uploaded: a gzip's or a zip's own, not the table inside it.
        assert table.sha256 == _sha(path) == get_fingerprint(table.df)["sha256"], path.name
        # Row subsets and copies (the outcome's rows, the training split) keep it.
        assert get_fingerprint(table.df.iloc[1:].reset_index(drop=True))["sha256"] == _sha(path)
    # An upload (bytes in memory) gives the hash of those bytes; the same content read twice, the same hash.
    assert read_table(io.BytesIO(plain.read_bytes()), name="t.csv").sha256 == _sha(plain)
    assert get_fingerprint(df)["sha256"] is None  # rows built in code came from no file: nothing to check


def test_a_folders_hash_covers_its_files_in_name_order(tmp_path):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.png").write_bytes(b"first")
    (tmp_path / "b.txt").write_bytes(b"second")
    expected = hashlib.sha256()
    for rel, data in (("b.txt", b"second"), ("ok/a.png", b"first")):
        expected.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    assert source_sha256(tmp_path) == expected.hexdigest()
    (tmp_path / "ok" / "a.png").write_bytes(b"changed")
    assert source_sha256(tmp_path) != expected.hexdigest()


def test_an_image_zip_records_the_zips_hash(tmp_path):
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.summary import image_fingerprint

    folder = SAMPLES["quality"]
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for cls in sorted(p for p in folder.iterdir() if p.is_dir()):
            for img in sorted(cls.iterdir())[:6]:
                zf.write(img, f"{cls.name}/{img.name}")
    data = load_image_dataset(archive, options=LoadOptions(image_size=16))
    assert image_fingerprint(data)["sha256"] == _sha(archive)
    assert image_fingerprint(data.subset([0, 1, 2]))["sha256"] == _sha(archive)  # the test split keeps it
    upload = load_image_dataset(io.BytesIO(archive.read_bytes()), options=LoadOptions(image_size=16))
    assert image_fingerprint(upload)["sha256"] == _sha(archive)


def test_every_demo_run_records_its_sample_files_hash(saved_demo_runs):
    for key, run_dir in saved_demo_runs.items():
        ds = read_metadata(run_dir)["workspace"]["dataset"]
        sample = SAMPLES[key]
        expected = source_sha256(sample) if sample.is_dir() else _sha(sample)
        assert ds["sha256"] == expected, key
        assert ds["sha256_of"] == "file as uploaded"


@pytest.mark.parametrize("scenario", ["credit", "demand"])
def test_the_command_line_save_records_the_files_hash(scenario, tmp_path):
    from core.cli import main

    src = SAMPLES[scenario]
    data = tmp_path / src.name
    if scenario == "credit":
        pd.read_csv(src).head(600).to_csv(data, index=False)
        extra = ["--epochs", "1", "--no-explain"]
    else:
        df = pd.read_csv(src)
        df[df["store"].eq(df["store"].iloc[0]) & df["product"].eq(df["product"].iloc[0])].to_csv(data, index=False)
        extra = ["--epochs", "1", "--horizon", "14", "--origins", "1"]
    save = tmp_path / "run"
    assert main(["train", "--scenario", scenario, "--data", str(data), "--save", str(save), "--json", *extra]) == 0
    assert read_metadata(save)["workspace"]["dataset"]["sha256"] == _sha(data)

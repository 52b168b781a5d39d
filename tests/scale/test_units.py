"""Input discovery, row blocks, staged output and the checks made before any cluster is reached."""

from __future__ import annotations

import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pandas as pd
import pytest

from core.data.tablestream import iter_table_chunks
from core.errors import DataValidationError
from core.scale.cluster import check_scheduler_address, open_client
from core.scale.inputs import find_input_files, plan_blocks, read_block, record_starts
from core.scale.output import StagedOutput, choose_format, write_part

ROOT = Path(__file__).resolve().parents[2]


def test_record_starts_skip_quoted_newlines_and_blank_lines(tmp_path):
    f = tmp_path / "q.csv"
    f.write_bytes(b'a,b\n1,"x\ny"\n\n2,"z""q"\r\n3,w\n4,"a,b"\n')
    assert record_starts(f).tolist() == [0, 4, 13, 23, 27, 35]


@pytest.mark.parametrize("scan", [None, 1, 3, 7])
@pytest.mark.parametrize("chunk", [1, 3, 10])
@pytest.mark.parametrize("tail", [b"5;\n", b"5;\r\n\r\n", b"5;x"])
def test_csv_blocks_are_the_single_process_chunks(tmp_path, monkeypatch, chunk, scan, tail):
    # The file is scanned a few bytes at a time too, so records, quotes and blank lines straddle
    # the scan's block edges as they do in a large file.
    if scan is not None:
        monkeypatch.setattr("core.scale.inputs._SCAN_BLOCK", scan)
    f = tmp_path / "q.csv"
    f.write_bytes(b'a;b\n1;"x\ny"\n\n2;"z""q"\r\n3;w\n4;"a;b"\n' + tail)
    blocks = list(plan_blocks([f], chunk_size=chunk))
    chunks = list(iter_table_chunks(f, chunk_size=chunk))
    assert len(blocks) == len(chunks)
    for b, c in zip(blocks, chunks):
        pd.testing.assert_frame_equal(read_block(b), c.reset_index(drop=True))


def test_parquet_and_gzip_blocks(tmp_path):
    df = pd.DataFrame({"x": range(25), "y": [f"v{i}" for i in range(25)]})
    df.to_parquet(tmp_path / "d.parquet", row_group_size=7, index=False)
    df.to_csv(tmp_path / "d.csv.gz", index=False)
    for name, kind in (("d.parquet", "parquet"), ("d.csv.gz", "frame")):
        blocks = list(plan_blocks([tmp_path / name], chunk_size=10))
        assert [b.kind for b in blocks] == [kind] * 3 and [b.index for b in blocks] == [0, 1, 2]
        pd.testing.assert_frame_equal(pd.concat([read_block(b) for b in blocks], ignore_index=True), df)


def test_find_input_files(tmp_path):
    (tmp_path / "logs").mkdir()
    for i in (2, 1):
        (tmp_path / "logs" / f"day{i}.csv").write_text("a\n1\n")
        pd.DataFrame({"a": [i]}).to_parquet(tmp_path / "logs" / f"part{i}.parquet")
    (tmp_path / "logs" / "_tmp.parquet").write_text("")
    assert [p.name for p in find_input_files(tmp_path / "logs" / "day*.csv")] == ["day1.csv", "day2.csv"]
    assert [p.name for p in find_input_files(tmp_path / "logs")] == ["part1.parquet", "part2.parquet"]
    assert find_input_files(tmp_path / "logs" / "day1.csv") == [tmp_path / "logs" / "day1.csv"]
    with pytest.raises(DataValidationError, match=r"Expected the glob '.*nothing\*\.csv' to match CSV or Parquet"):
        find_input_files(tmp_path / "nothing*.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match=r"Expected Parquet files \(\*\.parquet\) in the folder"):
        find_input_files(tmp_path / "empty")
    with pytest.raises(DataValidationError, match="File not found"):
        find_input_files(tmp_path / "missing.csv")


def test_unreadable_inputs(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataValidationError, match="is empty: expected a header row"):
        list(plan_blocks([tmp_path / "e.csv"], chunk_size=5))
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(DataValidationError, match="has column names but no data rows"):
        list(plan_blocks([tmp_path / "h.csv"], chunk_size=5))
    (tmp_path / "p.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataValidationError, match="is not a readable Parquet file"):
        list(plan_blocks([tmp_path / "p.parquet"], chunk_size=5))
    with pytest.raises(DataValidationError, match="Chunk size must be at least 1 row"):
        list(plan_blocks([tmp_path / "h.csv"], chunk_size=0))
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    block = next(iter(plan_blocks([tmp_path / "bad.csv"], chunk_size=5)))
    with pytest.raises(DataValidationError, match=r"Could not split 'bad.csv' into columns with delimiter ',' in bytes"):
        read_block(block)
    (tmp_path / "enc.csv").write_bytes(b"a,b\n1,2\n" + "3,é\n".encode("cp1252") * 2)
    block = next(iter(plan_blocks([tmp_path / "enc.csv"], chunk_size=1)))
    enc = block.__class__(**{**block.__dict__, "encoding": "utf-8", "start": 8, "stop": 16})
    with pytest.raises(DataValidationError, match=r"Could not read 'enc.csv' in bytes 8-16: the text is not utf-8"):
        read_block(enc)


def test_output_format_and_staging(tmp_path):
    assert choose_format(tmp_path / "s.csv", None) == "csv"
    assert choose_format(tmp_path / "scored", None) == "parquet"
    assert choose_format(tmp_path / "s.csv", "parquet") == "parquet"
    with pytest.raises(DataValidationError, match="Expected --out-format csv or parquet; got 'xlsx'"):
        choose_format(tmp_path / "s", "xlsx")
    with pytest.raises(DataValidationError, match="Expected the folder of --out to exist"):
        StagedOutput(tmp_path / "no" / "s.csv", "csv")
    (tmp_path / "f").write_text("x")
    with pytest.raises(DataValidationError, match="Expected --out to be a folder for Parquet output"):
        StagedOutput(tmp_path / "f", "parquet")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(DataValidationError, match="Expected --out to be a file for CSV output"):
        StagedOutput(tmp_path / "d.csv", "csv")

    staged = StagedOutput(tmp_path / "s.csv", "csv")
    for i in (1, 0, 1):  # out of order, and part 1 twice (a retried task): written once
        write_part(pd.DataFrame({"a": [i, i]}), str(staged.staging), i, "csv")
    with pytest.raises(DataValidationError, match=r"Expected 3 scored parts; 1 are missing \(e.g. part 2\)"):
        staged.finish(3)
    assert not (tmp_path / "s.csv").exists()
    staged.finish(2)
    assert (tmp_path / "s.csv").read_text() == "a\n0\n0\n1\n1\n" and not staged.staging.exists()

    old = tmp_path / "pq"
    old.mkdir()
    (old / "stale.parquet").write_text("")
    staged = StagedOutput(old, "parquet")
    write_part(pd.DataFrame({"a": [1]}), str(staged.staging), 0, "parquet")
    staged.finish(1)
    assert sorted(p.name for p in old.iterdir()) == ["part-00000.parquet"]
    staged = StagedOutput(tmp_path / "gone", "parquet")
    staged.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "f", "pq", "s.csv"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_staged_output_reaches_the_disk_before_it_is_renamed_into_place(tmp_path, monkeypatch, fmt):
    import os
    import stat

    out = tmp_path / ("s.csv" if fmt == "csv" else "scored")
    staged = StagedOutput(out, fmt)
    for i in range(2):
        write_part(pd.DataFrame({"a": [i, i]}), str(staged.staging), i, fmt)
    if fmt == "csv":  # a partial file a killed run left an hour ago
        stale = tmp_path / ".s.csv.dead0000.partial"
        stale.write_text("a\n0\n")
        os.utime(stale, (0, 0))
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        return real_fsync(fd)

    def replace(src, dst):
        if Path(dst) == out:
            events.append("rename")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    staged.finish(2)
    # Every file written is flushed before the rename puts the output in place; the folder after.
    assert "rename" in events and events[-1] == "fsync folder", events
    assert events.index("rename") > 0 and "fsync file" in events[:events.index("rename")], events
    if fmt == "csv":
        assert out.read_text() == "a\n0\n0\n1\n1\n" and not stale.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    else:
        assert events[:events.index("rename")].count("fsync file") == 2
        assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]


def test_scheduler_address_and_workers_are_checked():
    assert check_scheduler_address(" tcp://10.0.0.5:8786 ") == "tcp://10.0.0.5:8786"
    for bad in ("localhost:8786", "http://host:8786/", "tcp://"):
        with pytest.raises(DataValidationError, match="Expected a Dask scheduler address like tcp://10.0.0.5:8786"):
            check_scheduler_address(bad)
    with pytest.raises(DataValidationError, match="Expected --workers of 1 or more; got -1"):
        with open_client(None, workers=-1):
            pass


def test_closed_port_is_a_clear_error():
    with pytest.raises(DataValidationError, match=r"Could not reach the Dask scheduler at tcp://127.0.0.1:1 within 2 s"):
        with open_client("tcp://127.0.0.1:1", timeout=2):
            pass


def test_pack_run_needs_a_saved_run(tmp_path):
    from core.scale.engine import pack_run

    with pytest.raises(DataValidationError, match="Expected a saved run folder with metadata.json"):
        pack_run(tmp_path)


def _saved(tmp_path, scenario: str, **meta) -> Path:
    from core.store.registry import save_run

    return save_run(tmp_path, model=None, metadata={"scenario": scenario, **meta}, run_id=f"{scenario}-x")


def test_scenario_checks_before_any_cluster(tmp_path):
    from core.credit import scale as credit
    from core.demand import scale as demand
    from core.fraud import scale as fraud
    from core.quality import scale as quality

    other = _saved(tmp_path, "quality")
    args = Namespace(model=str(other), data="x", out=str(tmp_path / "o.csv"), threshold=None, no_reasons=False)
    with pytest.raises(DataValidationError, match="holds a 'quality' model, not a credit model"):
        credit.run_score_dask(args)
    with pytest.raises(DataValidationError, match="Expected a saved fraud run"):
        fraud.run_score_dask(args)
    with pytest.raises(DataValidationError, match="is not a saved demand run"):
        demand.run_score_dask(args)
    args.model = str(_saved(tmp_path, "credit"))
    with pytest.raises(DataValidationError, match="Expected a saved quality-inspection run"):
        quality.run_score_dask(args)
    cr = _saved(tmp_path / "c", "credit", credit={"threshold": 0.3})
    with pytest.raises(DataValidationError, match="--threshold must be between 0 and 1; got 2.0"):
        credit.run_score_dask(Namespace(model=str(cr), data="x", out="o", threshold=2.0, no_reasons=False))
    fr = _saved(tmp_path / "f", "fraud", threshold=0.5)
    with pytest.raises(DataValidationError, match="Expected --threshold between 0 and 1; got 2.0"):
        fraud.run_score_dask(Namespace(model=str(fr), data="x", out="o", threshold=2.0))
    qu = _saved(tmp_path / "q", "quality", class_names=["ok", "pit"], threshold=0.5)
    with pytest.raises(DataValidationError, match="The reject threshold must be between 0 and 1; got 2.0"):
        quality.run_score_dask(Namespace(model=str(qu), data="x", out="o", threshold=2.0))
    with pytest.raises(DataValidationError, match="Expected a folder of images or a zip of images for --engine dask"):
        quality.run_score_dask(Namespace(model=str(qu), data=str(tmp_path / "x.zip"), out="o", threshold=None))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    with pytest.raises(DataValidationError, match="Expected image files .* in '.*docs'; got 1 file"):
        quality.run_score_dask(Namespace(model=str(qu), data=str(tmp_path / "docs"), out="o", threshold=None))


def test_empty_input_is_refused():
    from core.scale.tables import check_first_block

    with pytest.raises(DataValidationError, match="Expected rows to score; the input has none"):
        check_first_block({}, iter([]))


def test_series_are_split_freely_unless_a_covariate_scale_is_missing():
    from core.demand.scale import pack_groups, series_sets

    ids = ["S1 / P1", "S1 / P2", "S2 / P2", "S3 / Q1", "S4 / Q2"]
    # Store and product profiles are shared with every worker: series sharing them need not stay together.
    assert series_sets(ids, None) == [[s] for s in ids]
    assert series_sets(ids, set(ids)) == [[s] for s in ids]
    assert series_sets(ids, {"S1 / P1"}) == [ids]  # unseen series: a floor over all series, all together
    groups = pack_groups(series_sets(ids, None), 2)
    assert groups == {"S1 / P1": 0, "S1 / P2": 1, "S2 / P2": 0, "S3 / Q1": 1, "S4 / Q2": 0}
    assert pack_groups(series_sets(ids, {"S1 / P1"}), 2) == {s: 0 for s in ids}


def test_shared_profiles_are_cut_to_a_workers_date_grid():
    import numpy as np

    from core.demand.scale import SharedProfiles

    grid = pd.date_range("2024-01-01", periods=6, freq="D")
    mats = np.arange(3 * 36, dtype=np.float32).reshape(3, 6, 6)  # three stores
    shared = SharedProfiles(grid, [(mats, {"a": 0, "b": 1, "c": 2})])
    (sub, codes), = shared.for_grid(grid[2:5], ["c", "a"])
    assert codes == {"c": 1, "a": 0}
    assert np.array_equal(sub[codes["c"]], mats[2][2:5, 2:5]) and np.array_equal(sub[codes["a"]], mats[0][2:5, 2:5])
    assert SharedProfiles(grid, []).for_grid(grid[1:3], ["a"]) == []
    with pytest.raises(DataValidationError, match="Expected every group of series to lie on the date grid of the "
                                                  "whole file.*Fix: score this file with --engine local"):
        shared.for_grid(pd.date_range("2024-01-01 12:00", periods=2, freq="D"), ["a"])


def test_dask_stays_out_of_the_app_and_cli_start_up():
    code = ("import sys, core.cli, core.credit.cli, core.fraud.cli, core.demand.cli, core.quality.cli, "
            "core.workspace.scoring; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

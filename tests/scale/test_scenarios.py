"""The Dask engine gives the single-process scorer's output, row by row, for all four scenarios.

Every test scores the same file twice, with ``--engine local`` and with ``--engine dask`` on the
shared 2-worker LocalCluster, and compares the outputs byte for byte (CSV) or value for value
(Parquet) and the JSON summaries, timings and engine details aside.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from tests.scale.conftest import SAMPLES

# Both engines record their predictions in the run's prediction log and report it alike ("prediction_log").
SKIP = {"timings", "engine", "out"}


def score(capsys, *argv) -> tuple[int, dict | None, str]:
    capsys.readouterr()
    code = main(["score", *argv, "--json"])
    cap = capsys.readouterr()
    lines = cap.out.strip().splitlines()
    return code, (json.loads(lines[-1]) if code == 0 and lines else None), cap.err


def same_summary(a: dict, b: dict) -> None:
    assert {k: v for k, v in a.items() if k not in SKIP} == {k: v for k, v in b.items() if k not in SKIP}


def both(capsys, tmp_path, model, data, scheduler, *extra, name="scored.csv"):
    local, dask = tmp_path / f"local-{name}", tmp_path / f"dask-{name}"
    code, a, err = score(capsys, "--model", str(model), "--data", str(data), "--out", str(local), "--quiet", *extra)
    assert code == 0, err
    code, b, err = score(capsys, "--model", str(model), "--data", str(data), "--out", str(dask), "--engine", "dask",
                         "--scheduler", scheduler, *extra)
    assert code == 0, err
    return local, dask, a, b, err


def test_credit_identical_to_single_process(capsys, tmp_path, credit_model, scheduler):
    data = tmp_path / "applicants.csv"
    pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:1200].to_csv(data, index=False)
    local, dask, a, b, err = both(capsys, tmp_path, credit_model, data, scheduler, "--chunk-size", "250")
    assert local.read_bytes() == dask.read_bytes()
    same_summary(a, b)
    assert b["engine"] == {"name": "dask", "partitions": 5, "out_format": "csv", "files": 1}
    assert "metrics" in b and b["drift"]
    # Progress: one bar line per partition done, and the scheduler line with the dashboard.
    assert err.count("partitions, ") == 5 and "[####################] 5/5 partitions, 1,200 rows" in err
    assert f"Dask scheduler {scheduler}: 2 worker(s)" in err and "dashboard http://127.0.0.1:" in err

    # The same rows as a Parquet folder, one part per partition.
    code, c, err = score(capsys, "--model", str(credit_model), "--data", str(data), "--out", str(tmp_path / "pq"),
                         "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "250", "--quiet")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "pq")) == [f"part-{i:05d}.parquet" for i in range(5)]
    assert pd.read_parquet(tmp_path / "pq").to_csv(index=False) == local.read_text()
    assert c["engine"]["out_format"] == "parquet"


def test_credit_glob_of_files_and_parquet_folder(capsys, tmp_path, credit_model, scheduler):
    df = pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:600]
    whole = tmp_path / "whole.csv"
    df.to_csv(whole, index=False)
    (tmp_path / "in").mkdir()
    (tmp_path / "pq").mkdir()
    for i in range(3):
        df.iloc[i * 200:(i + 1) * 200].to_csv(tmp_path / "in" / f"day{i}.csv", index=False)
        df.iloc[i * 200:(i + 1) * 200].to_parquet(tmp_path / "pq" / f"part{i}.parquet", index=False)
    code, a, err = score(capsys, "--model", str(credit_model), "--data", str(whole), "--out",
                         str(tmp_path / "a.csv"), "--quiet", "--chunk-size", "200")
    assert code == 0, err
    for source in (str(tmp_path / "in" / "day*.csv"), str(tmp_path / "pq")):
        out = tmp_path / f"out-{len(os.listdir(tmp_path))}.csv"
        code, b, err = score(capsys, "--model", str(credit_model), "--data", source, "--out", str(out),
                             "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "200", "--quiet")
        assert code == 0, err
        assert b["engine"]["files"] == 3 and b["engine"]["partitions"] == 3 and b["rows"] == 600
        pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(tmp_path / "a.csv"))


def test_fraud_identical_row_by_row(capsys, tmp_path, fraud_model, scheduler):
    # Two months of a few hundred cards in blocks of a few days: early blocks fall out of the
    # 38-day reach (30-day window + 7-day label delay + 1) of later ones and are released.
    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    df = df[df["customer_id"] >= "C000760"].drop(columns="is_fraud")
    data = tmp_path / "log.csv.gz"
    df.to_csv(data, index=False)
    local, dask, a, b, _ = both(capsys, tmp_path, fraud_model, data, scheduler, "--chunk-size", "600")
    x, y = pd.read_csv(local), pd.read_csv(dask)
    assert len(x) == len(df) and b["engine"]["partitions"] == -(-len(df) // 600) >= 6
    pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert local.read_bytes() == dask.read_bytes()
    same_summary(a, b)
    assert list(y["transaction_id"]) == list(df["transaction_id"])


def test_fraud_unordered_file_gets_the_same_notice(capsys, tmp_path, fraud_model, scheduler):
    df = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz").drop(columns="is_fraud")
    df = df[df["customer_id"] < "C000015"]
    data = tmp_path / "mixed.csv"
    pd.concat([df.iloc[len(df) // 2:], df.iloc[:len(df) // 2]]).to_csv(data, index=False)
    local, dask, a, b, _ = both(capsys, tmp_path, fraud_model, data, scheduler, "--chunk-size", "400")
    assert local.read_bytes() == dask.read_bytes()
    same_summary(a, b)
    assert any("not in time order" in n for n in b["notices"])


def test_demand_identical_to_single_process(capsys, tmp_path, work, demand_model, scheduler):
    from tests.scale.conftest import demand_sales

    local, dask, a, b, _ = both(capsys, tmp_path, demand_model, demand_sales(work), scheduler, "--chunk-size", "5000")
    assert local.read_bytes() == dask.read_bytes()
    assert b["engine"] == {"name": "dask", "partitions": 2, "groups": 2, "out_format": "csv", "files": 1}
    assert b["series"] == a["series"] > 2
    assert {k: v for k, v in a.items() if k not in SKIP | {"notices"}} == \
        {k: v for k, v in b.items() if k not in SKIP | {"notices"}}
    assert set(a["notices"]) == set(b["notices"])

    # Stores S1 and S2 both sell P1 and P2: every series reads profiles the others feed, and the
    # four are still split over the two workers, with the same forecasts, safety stock and reorder points.
    df = pd.read_csv(demand_sales(work))
    tied = tmp_path / "tied.csv"
    df[df["store"].isin(["S1", "S2"])].to_csv(tied, index=False)
    local, dask, a, b, err = both(capsys, tmp_path, demand_model, tied, scheduler, "--chunk-size", "1500",
                                  name="tied.csv")
    assert b["engine"]["groups"] == 2 and b["engine"]["partitions"] >= 3 and b["series"] == a["series"] == 4
    assert local.read_bytes() == dask.read_bytes()
    x = pd.read_csv(dask)
    assert {"p50", "safety_stock", "reorder_point"} <= set(x.columns) and x["safety_stock"].gt(0).any()
    assert not any("forecast together" in n for n in b["notices"])
    assert set(a["notices"]) == set(b["notices"])


def test_quality_identical_to_single_process(capsys, tmp_path, quality_model, scheduler):
    from tests.quality.conftest import sample_entries

    folder = tmp_path / "lot" / "images"
    for name, data in sample_entries({"ok": 14, "pit": 6, "crack": 5}, size=24, seed=7).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    local, dask, a, b, _ = both(capsys, tmp_path, quality_model, tmp_path / "lot", scheduler, "--chunk-size", "7")
    assert local.read_bytes() == dask.read_bytes()
    assert b["engine"]["partitions"] == 4 and b["rows"] == 25 and "actual" in pd.read_csv(dask).columns
    same_summary(a, b)
    assert b["prediction_log"]["rows"] == 25 and b["prediction_log"]["generated_ids"] is False  # file names are ids


def test_quality_zip_identical_to_single_process(capsys, tmp_path, quality_model, scheduler):
    import io
    import zipfile

    from tests.quality.conftest import make_zip, sample_entries

    entries = sample_entries({"ok": 14, "pit": 6, "crack": 5}, size=24, seed=7, prefix="lot/")
    entries["lot/ok/broken.png"] = b"not a png"  # does not decode: skipped with a notice
    entries["lot/pit/broken2.png"] = b"nor this"  # in another block: one notice for both
    entries["lot/readme.txt"] = b"batch 7"  # not an image
    entries["__MACOSX/lot/._0001.png"] = b"x"  # clutter, never listed
    entries["lot/crack/damaged.png"] = entries["lot/crack/0024.png"]
    raw = bytearray(make_zip(entries, compression=zipfile.ZIP_STORED))
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("lot/crack/damaged.png")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + 40] ^= 0xFF  # a flipped byte: the member fails its CRC check and is skipped as damaged
    data = tmp_path / "lot.zip"
    data.write_bytes(bytes(raw))

    local, dask, a, b, _ = both(capsys, tmp_path, quality_model, data, scheduler, "--chunk-size", "7")
    assert local.read_bytes() == dask.read_bytes()
    assert b["engine"]["partitions"] == 4 and b["rows"] == 25 and "actual" in pd.read_csv(dask).columns
    same_summary(a, b)
    assert b["notices"][0] == "1 damaged archive member(s) were skipped: lot/crack/damaged.png."
    assert any(n.startswith("1 file(s) are not images") and "readme.txt" in n for n in b["notices"])
    assert any(n.startswith("2 file(s) could not be read as images") for n in b["notices"])

    # A zip of nothing readable: the single-process message, and no output.
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_zip({"a.png": b"x", "b.png": b"y"}))
    code, _, err = score(capsys, "--model", str(quality_model), "--data", str(bad), "--out", str(tmp_path / "o.csv"),
                         "--engine", "dask", "--scheduler", scheduler, "--quiet")
    assert code == 1 and "none of which could be decoded" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()


def test_quality_catalogue_with_masks_identical_to_single_process(capsys, tmp_path, quality_model, scheduler):
    """A catalogue as downloaded (a mask beside every photo, Imgs/ levels) plus one stray two-valued image:
    both engines leave the same masks out with the same notice; the stray one is only known once every
    block has decoded its images, so its block is scored again without it."""
    from tests.quality.conftest import make_zip
    from tests.quality.mtlike import magnetic_tile_files

    files = magnetic_tile_files({"ok": 8, "pit": 6, "crack": 5}, seed=4, root="lot")
    stray = next(v for k, v in files.items() if k.endswith(".png"))  # a mask, alone under another name
    files["lot/crack/Imgs/stray.png"] = stray
    data = tmp_path / "lot.zip"
    data.write_bytes(make_zip(files))
    local, dask, a, b, _ = both(capsys, tmp_path, quality_model, data, scheduler, "--chunk-size", "7")
    assert local.read_bytes() == dask.read_bytes()
    same_summary(a, b)
    assert b["rows"] == 19 and "accuracy" in b and b["engine"]["partitions"] == 3
    scored = pd.read_csv(dask)
    assert scored["file"].str.endswith(".jpg").all() and (scored["actual"] == scored["file"].str[:-4].str.split("/").str[0]).all()
    notice = next(n for n in b["notices"] if "were left out" in n)
    assert notice.startswith("20 mask or annotation image(s) were left out") and "1 are black-and-white" in notice

    folder = tmp_path / "lot"
    for name, raw in files.items():
        (folder.parent / name).parent.mkdir(parents=True, exist_ok=True)
        (folder.parent / name).write_bytes(raw)
    local, dask, a, b, _ = both(capsys, tmp_path, quality_model, folder, scheduler, "--chunk-size", "7",
                                "--keep-masks", name="kept.csv")
    assert local.read_bytes() == dask.read_bytes()
    same_summary(a, b)
    assert b["rows"] == 39 and any("kept as photos, as asked" in n for n in b["notices"])


def test_the_saved_run_is_loaded_once_per_worker(cluster, credit_model, scheduler, capsys, tmp_path):
    from core.scale.engine import pack_run, worker_loads

    data = tmp_path / "a.csv"
    pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:400].to_csv(data, index=False)
    code, b, err = score(capsys, "--model", str(credit_model), "--data", str(data), "--out", str(tmp_path / "o.csv"),
                         "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "40", "--quiet")
    assert code == 0, err
    assert b["engine"]["partitions"] == 10
    digest = pack_run(credit_model)["digest"]
    loads = [w.get(digest, 0) for w in cluster[1].run(worker_loads).values()]
    assert sum(loads) >= 1 and max(loads) == 1  # ten partitions, at most one load per worker


def test_a_failing_partition_leaves_no_output(capsys, tmp_path, credit_model, scheduler):
    lines = (SAMPLES / "credit_applications.csv").read_text().splitlines()[:301]
    lines[250] += ",1,2,3"  # a row with too many fields, in the third block
    data = tmp_path / "broken.csv"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "scored.csv"
    code, _, err = score(capsys, "--model", str(credit_model), "--data", str(data), "--out", str(out),
                         "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "100", "--quiet")
    assert code == 1 and "Could not split 'broken.csv' into columns" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == ["broken.csv"]  # neither the output nor a staging folder


def test_a_killed_worker_loses_and_duplicates_no_rows(capsys, tmp_path, credit_model, cluster, scheduler):
    client = cluster[1]
    data = tmp_path / "applicants.csv"
    pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:2000].to_csv(data, index=False)
    local = tmp_path / "local.csv"
    code, a, err = score(capsys, "--model", str(credit_model), "--data", str(data), "--out", str(local), "--quiet",
                         "--chunk-size", "100")
    assert code == 0, err
    pids = list(client.run(os.getpid).values())
    out = tmp_path / "dask.csv"
    killed = []

    def kill_when_half_done():
        # Once some parts are written, kill one worker process outright (as a machine failure would).
        deadline = time.time() + 300
        while time.time() < deadline:
            staging = [p for p in tmp_path.iterdir() if p.name.startswith(".dask.csv.staging-")]
            if staging and len([p for p in staging[0].iterdir() if p.suffix == ".csv"]) >= 4:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.05)

    t = threading.Thread(target=kill_when_half_done)
    t.start()
    code, b, err = score(capsys, "--model", str(credit_model), "--data", str(data), "--out", str(out),
                         "--engine", "dask", "--scheduler", scheduler, "--chunk-size", "100")
    t.join()
    assert killed and code == 0, err
    assert b["engine"]["partitions"] == 20 and b["rows"] == 2000
    assert local.read_bytes() == out.read_bytes()  # every row once, in order
    same_summary(a, b)
    client.wait_for_workers(2, timeout=120)  # the nanny brings the worker back for later tests


def test_bad_scheduler_address_is_a_clear_message_within_10_s(capsys, tmp_path, credit_model):
    t0 = time.perf_counter()
    code, _, err = score(capsys, "--model", str(credit_model), "--data", str(SAMPLES / "credit_applications.csv"),
                         "--out", str(tmp_path / "o.csv"), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1")
    assert time.perf_counter() - t0 < 10
    assert code == 1 and "Could not reach the Dask scheduler at tcp://127.0.0.1:1 within 5 s" in err
    assert "dask scheduler" in err and "Traceback" not in err
    assert os.listdir(tmp_path) == []  # nothing written, no staging folder left


def test_without_scheduler_a_local_cluster_is_started(capsys, tmp_path, credit_model):
    data = tmp_path / "a.csv"
    pd.read_csv(SAMPLES / "credit_applications.csv").iloc[:300].to_csv(data, index=False)
    code, b, err = score(capsys, "--model", str(credit_model), "--data", str(data), "--out", str(tmp_path / "pq"),
                         "--engine", "dask", "--workers", "1", "--chunk-size", "100")
    assert code == 0, err
    assert "Dask scheduler tcp://127.0.0.1:" in err and ": 1 worker(s)" in err
    assert b["rows"] == 300 and len(pd.read_parquet(tmp_path / "pq")) == 300

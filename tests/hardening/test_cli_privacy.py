"""Personal data in a file scored from the command line: left out of the output file by default,
hashed with a salt made for the run (equal values alike across chunks and Dask blocks), or copied
on request; a one-line notice on standard error names the columns. The output bytes are searched
for every original value."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd
import pytest

from core.data.privacy import PersonalDataFilter
from tests.hardening.pipelines import SCORE_META
from tests.hardening.test_privacy import _needles, personal_values

ROOT = Path(__file__).resolve().parents[2]
N = 120
PERSONAL = list(personal_values(N))


def _with_personal_data(base: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    values = personal_values(len(base))
    df = base.reset_index(drop=True).copy()
    for i, (c, v) in enumerate(values.items()):
        df.insert(1 + i, c, v)
    return df, values


def _leaks(raw: bytes, values) -> list[str]:
    return sorted(v for v in _needles(values) if v.encode() in raw)[:3]


def _small_file(tmp_path) -> tuple[Path, dict[str, list[str]]]:
    base = pd.DataFrame({"age": [30 + i % 40 for i in range(N)], "income": [1000.0 + i for i in range(N)],
                         "region": ["North", "South", "East"] * (N // 3), "purpose": ["car", "home"] * (N // 2)})
    df, values = _with_personal_data(base)
    data = tmp_path / "to_score.csv"
    df.to_csv(data, index=False)
    return data, values


def _stream(data: Path, out: Path, mode: str, meta=None):
    from core.serve.streaming import stream_score

    return stream_score(meta or SCORE_META["credit"], data, out, lambda part: part.assign(score=0.5),
                        chunk_size=50, personal=mode)


def test_chunked_scorer_drops_hashes_or_keeps_the_same_columns_in_every_chunk(tmp_path):
    data, values = _small_file(tmp_path)
    # drop (the default when nothing is said): no column, no value, in any of the three chunks.
    done = _stream(data, tmp_path / "dropped.csv", None)
    raw = (tmp_path / "dropped.csv").read_bytes()
    assert done.rows == N and not _leaks(raw, values)
    scored = pd.read_csv(tmp_path / "dropped.csv")
    assert len(scored) == N and not set(PERSONAL) & set(scored.columns)
    assert {p["column"] for p in done.personal} == set(PERSONAL) and done.personal[0]["action"] == "dropped"

    # hash: the columns stay, every value a code; one value has one code in every chunk.
    _stream(data, tmp_path / "hashed.csv", "hash")
    raw = (tmp_path / "hashed.csv").read_bytes()
    assert not _leaks(raw, values)
    hashed = pd.read_csv(tmp_path / "hashed.csv")
    assert list(hashed.columns[1:8]) == PERSONAL and hashed[PERSONAL].map(lambda v: v.startswith("h:")).all().all()
    codes = pd.DataFrame({"name": values["first_name"], "code": hashed["first_name"]})
    per_name = codes.groupby("name")["code"].nunique()
    assert len(per_name) == 8 and (per_name == 1).all() and codes["code"].nunique() == 8  # rows 0..119, 3 chunks
    # A new run makes a new salt: the same e-mail gets another code, so no code can be looked up later.
    _stream(data, tmp_path / "hashed2.csv", "hash")
    again = pd.read_csv(tmp_path / "hashed2.csv")
    assert not set(again["contact_email"]) & set(hashed["contact_email"])

    # keep: copied as they are.
    done = _stream(data, tmp_path / "kept.csv", "keep")
    kept = pd.read_csv(tmp_path / "kept.csv", dtype=str)
    assert kept["contact_email"].tolist() == values["contact_email"] and done.personal[0]["action"] == "kept"


def test_a_model_input_left_out_as_personal_data_is_a_clear_message(tmp_path):
    from core.errors import DataValidationError

    data, _ = _small_file(tmp_path)
    meta = {"scenario": "credit", "credit": {"numeric": ["age"], "categorical": ["region", "contact_email"]}}
    with pytest.raises(DataValidationError) as err:
        _stream(data, tmp_path / "s.csv", "drop", meta)
    msg = str(err.value)
    assert "'contact_email' (e-mail addresses) hold personal data and were left out" in msg
    assert "Fix: pass --personal-data hash" in msg and "--personal-data keep" in msg
    assert not (tmp_path / "s.csv").exists()
    assert _stream(data, tmp_path / "s.csv", "keep", meta).rows == N  # asked for: read as they are


def test_dask_blocks_carry_the_columns_found_on_the_first_block_and_one_salt(tmp_path):
    """What every Dask worker does with its block (``core.scale.inputs.read_block``), after the
    block has travelled to it pickled: the columns found on the first block, the run's salt."""
    from core.scale.inputs import read_block
    from core.scale.run import plan_input
    from core.scale.tables import check_first_block

    data, values = _small_file(tmp_path)
    for mode in ("drop", "hash"):
        guard = PersonalDataFilter(mode)
        _, blocks, total = plan_input(data, 40)
        report, blocks = check_first_block(SCORE_META["credit"], blocks, guard)
        parts = [read_block(pickle.loads(pickle.dumps(b))) for b in blocks]
        assert total == 3 and report.ok and sum(map(len, parts)) == N
        assert {c.column for c in guard.columns} == set(PERSONAL)
        joined = pd.concat(parts, ignore_index=True)
        assert not _leaks(joined.to_csv(index=False).encode(), values)
        if mode == "drop":
            assert not set(PERSONAL) & set(joined.columns)
        else:
            codes = pd.DataFrame({"name": values["first_name"], "code": joined["first_name"]})
            assert (codes.groupby("name")["code"].nunique() == 1).all() and codes["code"].nunique() == 8
    assert "salt" not in repr(guard) and guard._salt.hex() not in repr(guard)


def test_the_command_line_says_what_it_left_out_and_hashes_on_request(tmp_path, capsys, saved_demo_runs):
    from core.cli import main

    base = pd.read_csv(ROOT / "sample_data" / "credit_new_month.csv").head(N)
    df, values = _with_personal_data(base)
    data = tmp_path / "applicants.csv"
    df.to_csv(data, index=False)
    run = str(saved_demo_runs["credit"])
    outputs = {}
    for mode in ("drop", "hash"):  # keep: the chunked scorer's test above
        out = tmp_path / f"{mode}.csv"
        capsys.readouterr()
        argv = ["score", "--model", run, "--data", str(data), "--out", str(out), "--chunk-size", "50", "--quiet",
                "--json"] + ([] if mode == "drop" else ["--personal-data", mode])
        assert main(argv) == 0
        cap = capsys.readouterr()
        outputs[mode] = (out.read_bytes(), cap)
        notice = [line for line in cap.err.splitlines() if line.startswith("Personal data")]
        assert len(notice) == 1 and "'contact_email' (e-mail addresses)" in notice[0] and "'surname'" in notice[0]
        result = json.loads(cap.out.strip().splitlines()[-1])
        assert result["rows"] == N and {p["column"] for p in result["personal_data"]} == set(PERSONAL)
    for mode in ("drop", "hash"):
        raw, cap = outputs[mode]
        assert not _leaks(raw, values), mode
        assert not _leaks((cap.out + cap.err).encode(), values), mode
    assert "left out of the output" in outputs["drop"][1].err and "hashed in the output" in outputs["hash"][1].err
    hashed = pd.read_csv(tmp_path / "hash.csv")
    assert hashed["card_number"].str.startswith("h:").all() and hashed["card_number"].nunique() == N
    assert len(hashed) == N and "probability_of_default" in hashed


def test_a_bad_personal_data_choice_is_argparses_clear_message(capsys):
    from core.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["score", "--scenario", "credit", "--model", "m", "--data", "d.csv", "--out", "o.csv",
              "--personal-data", "mask"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --personal-data: invalid choice: 'mask' (choose from 'drop', 'hash', 'keep')" in err
    assert "Traceback" not in err
    with pytest.raises(Exception, match="Expected personal data handling drop / hash / keep; got 'mask'. Fix"):
        PersonalDataFilter("mask")

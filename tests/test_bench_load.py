"""bench/bench_load.py's library floor: the fresh-import measure and the flags that need each other."""

from __future__ import annotations

import sys

import pytest

from bench.bench_load import fresh_import, main


def test_fresh_import_loads_the_listed_modules_and_skips_what_cannot_be_imported(tmp_path):
    listed = tmp_path / "few.modules"
    listed.write_text("__main__\njson\nno_such_module_for_the_floor\n")
    more = tmp_path / "more.modules"
    more.write_text("__main__\njson\nno_such_module_for_the_floor\ncsv\nxml.dom.minidom\n")
    n_few, mb_few = fresh_import(listed)
    n_more, mb_more = fresh_import(more)
    assert mb_few > 0
    assert n_more > n_few  # csv and xml.dom.minidom (with their own imports) came in; the missing one did not stop it


def test_fresh_import_imports_the_app_modules_from_the_project_folder(tmp_path):
    listed = tmp_path / "app.modules"
    listed.write_text("core.errors\n")
    baseline = tmp_path / "none.modules"
    baseline.write_text("")
    assert fresh_import(listed)[0] > fresh_import(baseline)[0]


def test_browse_first_without_a_settle_time_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--browse-first"])
    assert "--browse-first needs --settle S" in capsys.readouterr().err


def test_trace_without_a_memory_log_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--trace"])
    assert "--trace needs --memory-log FILE" in capsys.readouterr().err


def test_memory_diff_names_the_line_and_the_type_that_grew(tmp_path):
    import json
    import tracemalloc

    from bench.memory_diff import heap_diff, type_diff

    class Held:  # what a visitor would leave: 200 objects of a type, 2 MB from one line
        pass

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.take_snapshot().dump(str(tmp_path / "old.snap"))
        kept = [bytearray(10_000) for _ in range(200)]  # the line that grows
        line = sys._getframe().f_lineno - 1
        held = [Held() for _ in range(200)]
        tracemalloc.take_snapshot().dump(str(tmp_path / "new.snap"))
    finally:
        if started:
            tracemalloc.stop()
    where, mb, count = heap_diff(tmp_path / "old.snap", tmp_path / "new.snap", top=1)[0]
    assert where.endswith(f"test_bench_load.py:{line}") and mb > 1.8 and count >= 200
    (tmp_path / "old.types.json").write_text(json.dumps({"builtins.dict": 10, "x.Gone": 5}))
    (tmp_path / "new.types.json").write_text(json.dumps({"builtins.dict": 11, "t.Held": len(held)}))
    assert type_diff(tmp_path / "old.types.json", tmp_path / "new.types.json") == [
        ("t.Held", 200), ("x.Gone", -5), ("builtins.dict", 1)]
    assert len(kept) == 200

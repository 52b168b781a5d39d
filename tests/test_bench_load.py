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

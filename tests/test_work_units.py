"""The units the two xdist workers share the suite in (tests/work_units.py): the files that read a trained
session fixture go to one worker together, so that fixture is built once."""

from __future__ import annotations

import re

from tests.work_units import TESTS, TRAINED_SESSION_FIXTURES, grouped_files, work_unit


def _write(root, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_files_reading_a_folders_trained_fixture_are_one_unit_and_a_mention_is_not_a_use(tmp_path):
    _write(tmp_path, "a/test_reads.py", "def test_x(small_run):\n    pass\n")
    _write(tmp_path, "a/test_fixture_reads.py",
           "import pytest\n@pytest.fixture\ndef page(\n    small_run, tmp_path):\n    pass\n")
    _write(tmp_path, "a/test_marks.py", "import pytest\npytestmark = pytest.mark.usefixtures('small_run')\n")
    _write(tmp_path, "a/test_mentions.py",
           '"""Not the small_run of the conftest."""\ndef test_y(small_runner):\n    pass\n')
    _write(tmp_path, "b/test_reads_too.py", "def test_z(small_run):\n    pass\n")  # another folder's conftest
    units = grouped_files(tmp_path, (("a", ("small_run",)),))
    assert units == {f"tests/a/{n}.py": "tests/a/ (trained session fixtures)"
                     for n in ("test_fixture_reads", "test_marks", "test_reads")}


def test_a_file_reading_two_conftests_fixtures_joins_their_units(tmp_path):
    _write(tmp_path, "a/test_one.py", "def test_x(run_a):\n    pass\n")
    _write(tmp_path, "a/test_both.py", "def test_x(run_a, demo):\n    pass\n")
    _write(tmp_path, "b/test_demo.py", "def test_x(demo):\n    pass\n")
    _write(tmp_path, "b/test_plain.py", "def test_x(tmp_path):\n    pass\n")
    units = grouped_files(tmp_path, (("a", ("run_a",)), ("", ("demo",))))
    assert set(units) == {"tests/a/test_one.py", "tests/a/test_both.py", "tests/b/test_demo.py"}
    assert len(set(units.values())) == 1


def test_every_named_fixture_is_a_session_fixture_of_its_conftest():
    """A renamed or moved fixture would leave its files split over both workers again, silently."""
    for folder, names in TRAINED_SESSION_FIXTURES.items():
        text = (TESTS / folder / "conftest.py").read_text()
        session = set(re.findall(r'@pytest\.fixture\(scope="session"\)\s*\ndef (\w+)\(', text))
        assert set(names) <= session, (folder, set(names) - session)


def test_the_suites_slow_setups_share_a_unit_and_other_files_stay_alone():
    assert work_unit("tests/quality/test_typing.py::t") == work_unit("tests/quality/test_gallery.py::t")
    assert work_unit("tests/demand/test_page.py::t") == work_unit("tests/demand/test_service.py::t")
    assert work_unit("tests/workspace/test_demos.py::t") == work_unit("tests/browser/test_one_story_browser.py::t")
    assert work_unit("tests/core/test_money.py::test_x[1]") == "tests/core/test_money.py"

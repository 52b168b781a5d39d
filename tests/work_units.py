"""How the two xdist workers share out the suite: whole files (``--dist loadfile``), except the files that read
one of the session fixtures that train a model (``small_run``, the workspace runs, the tiny demo runs...),
which go to one worker together, one unit per conftest that defines such fixtures (a file reading two
conftests' fixtures joins their units). A session fixture is built once per worker that needs it; split file
by file, both workers trained each of these runs (a 10-50 s setup each on a loaded machine).
tests/conftest.py hands these units to xdist and puts them right after the browser files, so no long unit is
left for the end of the run."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Where the fixtures are defined ("" for tests/conftest.py, whose fixtures every folder sees) -> the session
# fixtures there that train or start something. Not tests/server's ``runs``: with its files on one worker,
# test_serve_onnx.py's demand forecasts from ONNX and Keras differed by 0.002 (tolerance 0.001) after the
# deploy browser test, twice in two runs; the server files stay split by file until that is understood.
TRAINED_SESSION_FIXTURES = {
    "": ("demo_runs_report", "saved_demo_runs"),
    "credit": ("credit_run",),
    "demand": ("small_sales", "small_run"),
    "quality": ("tiny_run", "typing_run"),
    "scale": ("cluster", "scheduler", "credit_model", "fraud_model", "demand_model", "quality_model"),
    "workspace": ("credit_run", "fraud_run", "demand_run", "quality_run"),
}


def _uses(names: tuple[str, ...]) -> re.Pattern:
    """A test or fixture taking one of ``names`` as an argument, or naming it in usefixtures / getfixturevalue."""
    alt = "|".join(names)
    return re.compile(rf"def \w+\([^)]*\b(?:{alt})\b|usefixtures\([^)]*[\"'](?:{alt})[\"']"
                      rf"|getfixturevalue\([\"'](?:{alt})[\"']")


@lru_cache(maxsize=4)
def grouped_files(tests: Path = TESTS, fixtures: tuple = tuple(TRAINED_SESSION_FIXTURES.items())) -> dict[str, str]:
    """``tests/<folder>/test_x.py`` -> the name of its unit, for the files that read a trained session fixture
    (found in their source). A file that reads the fixtures of two places joins their units into one."""
    unit_of: dict[str, str] = {}  # file -> unit name; a unit's files are those mapped to its name
    for folder, names in fixtures:
        uses, name = _uses(names), "/".join(["tests", *filter(None, [folder])]) + "/ (trained session fixtures)"
        # A conftest's fixtures reach the files of its folder and of the folders under it.
        files = [f"tests/{p.relative_to(tests).as_posix()}" for p in sorted((tests / folder).rglob("test_*.py"))
                 if uses.search(p.read_text(encoding="utf-8"))]
        joined = {unit_of[f] for f in files if f in unit_of}
        for f, unit in list(unit_of.items()):
            if unit in joined:
                unit_of[f] = name
        for f in files:
            unit_of[f] = name
    return unit_of


def work_unit(nodeid: str) -> str:
    """The unit a test goes to a worker in: its shared-fixture unit, or its own file."""
    path = nodeid.split("::", 1)[0]
    return grouped_files().get(path, path)

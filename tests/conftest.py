"""Shared fixtures: the real data sets, a running app and a browser page."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Flags for a sandboxed, offline machine: no background downloads, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The memory guard counts the memory this process already holds; one pytest process that has
# trained hundreds of models holds far more than a fresh server, so the suite lifts the server's
# default limit. Tests of the guard set their own limits.
os.environ.setdefault("STUDIO_MEMORY_LIMIT_MB", "200000")
# Page tests (AppTest) run a page's training job in the test's own thread, through the same job folder and
# result files as a worker process; the browser tests start the app as a user gets it (worker processes).
os.environ.setdefault("STUDIO_JOBS", "inline")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config, items):
    """Files with browser tests run first, then the units of files that share a folder's trained session
    fixtures (tests/work_units.py). The two xdist workers take whole files (``--dist loadfile``), or those
    units, in this order (``--no-loadscope-reorder`` in pytest.ini; xdist would otherwise hand out the files
    with the most tests first, which puts the long one-test browser files at the end of the run, where one
    left for a single worker keeps the other idle). A file's tests keep their order."""
    from tests.work_units import grouped_files

    browser_files = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("browser")}
    grouped = grouped_files()

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return 0 if path in browser_files else 1 if path in grouped else 2

    items.sort(key=rank)  # a stable sort


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, with the files that read one folder's trained session fixtures (a trained run,
    the server's runs) as one unit: one worker builds those fixtures instead of both."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    from tests.work_units import work_unit

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return SharedFixtureScheduling(config, log)


def _require(env: str) -> bool:
    return os.environ.get(env, "") == "1"


# The process's own ``__main__`` (pytest's, or an xdist worker's), put back before each test: see below.
_SESSION_MAIN = sys.modules.get("__main__")


@pytest.fixture(autouse=True)
def _session_main_restored():
    """Streamlit's AppTest (the page tests) leaves ``sys.modules["__main__"]`` pointing at the last page
    script it ran. A process started with multiprocessing's spawn re-runs the parent's ``__main__`` script,
    so a later test's worker processes would run that page in bare mode and die (BrokenProcessPool) or hang.
    Each test starts with the process's own ``__main__``, which spawn never re-runs."""
    if _SESSION_MAIN is not None:
        sys.modules["__main__"] = _SESSION_MAIN
    yield


@pytest.fixture(autouse=True)
def _runtime_default_restored():
    """The app's router sets STUDIO_RUNTIME=onnx for its process; an AppTest of app.py runs it in the test's
    process, so the setting is put back after each test (scoring in later tests keeps the default engine)."""
    before = os.environ.get("STUDIO_RUNTIME")
    yield
    if before is None:
        os.environ.pop("STUDIO_RUNTIME", None)
    else:
        os.environ["STUDIO_RUNTIME"] = before


@pytest.fixture(scope="session")
def shared_data():
    """Path of a file or folder in ../shared/datasets.

    Skips with a reason on a user's machine, where the folder does not exist; fails instead when
    REQUIRE_SHARED_DATA=1 (CI), so a missing data set can never pass as a skip there.
    """

    def get(relative: str) -> Path:
        path = SHARED / relative
        if not path.exists():
            msg = f"real data set not found at {path} (see ../shared/datasets/README.md)"
            if _require("REQUIRE_SHARED_DATA"):
                pytest.fail(msg + "; REQUIRE_SHARED_DATA=1 makes this a failure")
            pytest.skip(msg)
        return path

    return get


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_app(workdir: Path, env: dict | None = None, prefix: list[str] | None = None,
            extra_args: list[str] | None = None):
    """Start ``streamlit run app.py`` on a free localhost port; yield its URL; stop it after.
    ``prefix``: a command the server runs under (e.g. the cloud memory limit's wrapper); ``extra_args``:
    more ``streamlit run`` options (e.g. ``["--runner.postScriptGC", "true"]``)."""
    port = _free_port()
    log = workdir / f"server-{port}.log"
    env = {**os.environ, "STUDIO_RUNS_DIR": str(workdir / "runs"), "STUDIO_JOBS": "process", **(env or {})}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *(extra_args or [])],
            cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited early:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"streamlit did not answer within 90 s:\n{log.read_text()[-3000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_workdir(tmp_path_factory) -> Path:
    """The folder of the session's running app: its runs folder (STUDIO_RUNS_DIR) is ``runs`` in it."""
    return tmp_path_factory.mktemp("streamlit")


@pytest.fixture(scope="session")
def app_url(app_workdir):
    """One running app for the whole test session (runs saved into a temporary folder)."""
    with run_app(app_workdir) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Missing Chromium fails in CI (REQUIRE_BROWSER=1)."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _require("REQUIRE_BROWSER"):
            pytest.fail(msg + "; REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser page (own cookies and session) sized like a laptop screen."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


@dataclass
class SharedPage:
    """A browser page the tests of one module share, so that they read one training instead of each
    training its own; ``trained`` says whether that training is on it (done by the first test that
    trains, or by the module's fixture when that test did not run or failed before its result);
    ``done`` names other steps a test completed on it, which a later test may continue from."""

    page: object
    trained: bool = False
    done: set = field(default_factory=set)


@contextlib.contextmanager
def shared_page(browser):
    """A page like ``page`` (own cookies and session, laptop-sized), kept for a whole module."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    try:
        yield SharedPage(pg)
    finally:
        context.close()


@pytest.fixture(scope="module")
def module_runs_dir(tmp_path_factory):
    """A workspace folder (``STUDIO_RUNS_DIR``) for the whole test module, so its tests can share a save."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("ws") / "runs"
    mp.setenv("STUDIO_RUNS_DIR", str(root))
    yield root
    mp.undo()


@pytest.fixture(scope="module")
def shared(browser):
    """One ``SharedPage`` per test module (a module's tests read one training on it)."""
    with shared_page(browser) as s:
        yield s


# Text cut off in its box (an ellipsis instead of the end of a figure or a label): metric tiles,
# widget labels and the values shown in select boxes.
_CLIPPED_JS = """() => [...document.querySelectorAll(
        '[data-testid="stMetric"], [data-testid="stWidgetLabel"], [data-baseweb="select"] [value], [data-baseweb="select"] div')]
    .flatMap(m => [m, ...m.querySelectorAll('*')])
    .filter(e => e.offsetParent !== null && e.children.length === 0 && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText.trim()).filter(t => t.length > 0)"""


def clipped_texts(page) -> list[str]:
    """Visible tile values, widget labels and select-box values whose text does not fit its box."""
    return sorted(set(page.evaluate(_CLIPPED_JS)))


def plotly_chart(page, title: str):
    """The first Plotly chart whose text holds ``title``, waited for (a training's charts draw late on a
    loaded machine) and scrolled into view."""
    chart = page.locator(".js-plotly-plot").filter(has_text=title)
    chart.first.wait_for(timeout=120_000)
    chart.first.scroll_into_view_if_needed()
    return chart.first


def pick(page, label: str, text: str, *, wait_ms: int = 1500) -> None:
    """Choose ``text`` in the select box ``label`` by typing it (the option list is virtual), then give the
    rerun ``wait_ms`` to start; 0 when the caller next waits for something only the new choice shows."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    if wait_ms:
        page.wait_for_timeout(wait_ms)


def click_tab(page, name: str) -> None:
    """Click a tab and make sure it stays selected. While a rerun redraws the page (after a
    download, say) the old and the new tab bar are briefly both there, and a click on the old one
    is lost when it goes; so wait for a single tab bar, click, and check, a few times over."""
    tab = page.get_by_role("tab", name=name)
    for _ in range(20):
        for _ in range(150):  # a rerun on a loaded 2-core machine can take tens of seconds
            if tab.count() == 1:
                break
            page.wait_for_timeout(200)
        else:
            raise AssertionError(f"the page kept {tab.count()} tab bars with a '{name}' tab for 30 s")
        tab.click()
        page.wait_for_timeout(700)
        if tab.count() == 1 and tab.get_attribute("aria-selected") == "true":
            return
    raise AssertionError(f"tab '{name}' could not be selected")


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where browser tests save screenshots (kept after the run for a person to look at)."""
    d = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "tests" / "_screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session")
def demo_runs_report(tmp_path_factory) -> tuple[Path, object, list]:
    """``run_all_demos`` once per test process on tiny settings (one epoch on small samples): the runs
    folder, the report and the progress events it gave. tests/workspace/test_demos.py checks the report
    and the progress of this very call; ``saved_demo_runs`` hands its runs to the other tests."""
    from core.workspace.demos import DemoSettings, run_all_demos

    root = tmp_path_factory.mktemp("demo_runs")
    tiny = DemoSettings(epochs=1, shap_rows=20, credit_rows=700, fraud_customers=120, demand_series=2,
                        quality_images=110, image_size=32)
    events: list = []
    report = run_all_demos(root, settings=tiny, progress=lambda *e: events.append(e))
    return root, report, events


@pytest.fixture(scope="session")
def saved_demo_runs(demo_runs_report) -> dict:
    """Tiny saved runs of all four scenarios (one epoch on small samples): scenario -> run folder."""
    _, report, _ = demo_runs_report
    assert report.ok, report.errors
    return {k: Path(v) for k, v in report.saved.items()}


TRUST_ICON = ":material/report:"


def errors_besides_trust(at) -> list[str]:
    """An AppTest's error boxes other than the trust flags of ``ui.trust`` (a tiny model trained in
    one epoch is rightly flagged as no better than chance; a test of another path checks that
    nothing else went wrong, and the trust flags have tests of their own)."""
    return [e.value for e in at.error if e.icon != TRUST_ICON]


def a_failing_tab_keeps_the_save(at, scenario: str, target: str, tab: str, monkeypatch, runs_dir) -> None:
    """On a trained page: the view ``target`` (a ``module.function`` a result tab calls) raises; the page shows
    one message in that tab's place naming it, the other tabs still draw, and a Save click in the same rerun
    saves the run. With the view mended the message is gone."""
    from core.store.registry import list_runs

    def broken(*args, **kwargs):
        raise TypeError("'<' not supported between instances of 'str' and 'int'")

    monkeypatch.setenv("STUDIO_RUNS_DIR", str(runs_dir))
    before = len(list_runs(runs_dir)[0])
    monkeypatch.setattr(target, broken)
    at.button(key=f"{scenario}.ws_save").click().run()
    assert not at.exception
    drawn = [e.value for e in at.error if "could not be drawn" in e.value]
    assert [d.split(" could not")[0] for d in drawn] == [f"**The {tab} tab"], drawn
    assert "(TypeError: '<' not supported" in drawn[0] and "Save to workspace" in drawn[0]
    assert any(s.value.startswith("Saved as run") for s in at.success)
    assert len(list_runs(runs_dir)[0]) == before + 1
    monkeypatch.undo()
    at.run()
    assert not at.exception and not [e for e in at.error if "could not be drawn" in e.value]

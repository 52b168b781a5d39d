"""Six analysts on one server, each with their own file and scenario: the uploads, the clicks and
the checks that tests/browser/test_concurrent_sessions.py asserts on and bench/bench_load.py prints.

One app server (STUDIO_MAX_CONCURRENT_TRAININGS=limit, STUDIO_RUNS_PER_SESSION=1), one Chromium,
one browser context per session (own cookies, own Streamlit session). Every session uploads a tiny
file of its own (credit applications, a transaction log, a sales history or a zip of sample images)
in which a tag only it has (``only_s3``) is written into ids, column or class names, and the upload
has figures no other has (row counts, date ranges). All "Train" clicks land within a second or
two; the sessions then check that their page shows their own figures and none of another's, download
a file and find only their own rows in it, save the run and find it alone in a runs folder no other
session lists.
"""

from __future__ import annotations

import io
import math
import os
import re
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tests.conftest import ROOT, click_tab, run_app

WAITING = "Waiting for a free training slot"
# Six sessions over the four scenarios; the cheapest settings each page offers.
MIX = ("credit", "fraud", "demand", "quality", "credit", "fraud")


@dataclass
class Session:
    """One browser context: its scenario, its upload, the texts only it may show, and what it saw."""

    index: int
    scenario: str
    file: Path
    tag: str
    own: list[str] = field(default_factory=list)  # texts only this session's page may show
    facts: dict = field(default_factory=dict)  # figures of the upload the checks need
    page: object = None
    clicked: float = 0.0
    done: float | None = None
    saw_queue: bool = False
    waited: float | None = None
    trained_text: str = ""
    download_rows: int = 0
    run_id: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"session {self.index + 1} ({self.scenario})"


# ---------------------------------------------------------------- the uploads, one per session
def _credit_file(s: Session, k: int) -> None:
    rows = 240 + 37 * k
    sample = pd.read_csv(ROOT / "sample_data" / "credit_applications.csv")
    # The outcome column is found by its name ('default' in it); no other column may look like one.
    df = sample.sample(n=rows, random_state=100 + s.index).rename(columns={
        "default": f"default_{s.tag}", "past_delinquencies": "past_arrears", "sex": f"sex_{s.tag}"})
    df["applicant_id"] = s.tag + "-" + df["applicant_id"].astype(str)
    df.to_csv(s.file, index=False)
    test = math.ceil(rows * 0.25)  # the default test share, rounded up as scikit-learn does
    s.facts = {"rows": rows, "test": test, "target": f"default_{s.tag}"}
    # The protected-looking column is named on the page ("Kept out of the model: sex_only_s1").
    s.own = [f"{rows:,} rows × 17 columns", f"{rows - test:,} training and {test:,} test applicants",
             f"sex_{s.tag}"]


def _fraud_file(s: Session, k: int) -> None:
    log = pd.read_csv(ROOT / "sample_data" / "fraud_transactions.csv.gz")
    fraud, legit = log[log["is_fraud"] == 1], log[log["is_fraud"] == 0]
    # A tenth fraud, so a one-epoch network on 600 rows still raises alerts in the test weeks.
    df = pd.concat([fraud.sample(60 + 4 * k, random_state=10 + s.index),
                    legit.sample(540 + 36 * k, random_state=10 + s.index)])
    ts = pd.to_datetime(df["timestamp"]) + pd.Timedelta(days=364 * k)  # same weekdays, another year
    df = df.assign(timestamp=ts.dt.strftime("%Y-%m-%d %H:%M:%S"),
                   customer_id=s.tag + "-" + df["customer_id"], terminal_id=s.tag + "-" + df["terminal_id"])
    df = df.sort_values("timestamp")
    df.to_csv(s.file, index=False)
    s.facts = {"rows": len(df)}
    s.own = [f"Transactions run from {ts.min():%Y-%m-%d %H:%M} to {ts.max():%Y-%m-%d %H:%M}"]


def _demand_file(s: Session, k: int) -> None:
    sales = pd.read_csv(ROOT / "sample_data" / "demand_sales.csv")
    days = sorted(sales["date"].unique())[30 * k: 30 * k + 200]
    df = sales[(sales["store"] == "S1") & sales["product"].isin(["P1", "P2"]) & sales["date"].isin(days)]
    df = df.assign(store=f"S1_{s.tag}", product=df["product"] + f"_{s.tag}")
    df.to_csv(s.file, index=False)
    s.facts = {"rows": len(df), "series": sorted(df["product"].unique())}
    s.own = [f"{days[0]} → {days[-1]}"]


def _quality_file(s: Session, k: int) -> None:
    src = ROOT / "sample_data" / "quality_images"
    counts = {"ok": 36 + 4 * k, "scratch": 12, "pit": 12}
    # Defect classes named after the session: they show in the class list, the charts and the CSV.
    classes = {"ok": "ok", "scratch": f"scratch_{s.tag}", "pit": f"pit_{s.tag}"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for label, n in counts.items():
            for p in sorted((src / label).glob("*.png"))[k * n: k * n + n]:
                zf.write(p, f"{s.tag}/{classes[label]}/{s.tag}_{p.name}")
    s.file.write_bytes(buf.getvalue())
    s.facts = {"images": sum(counts.values()), "classes": sorted(classes.values())}
    s.own = [f"scratch_{s.tag}"]


MAKERS = {"credit": (_credit_file, ".csv"), "fraud": (_fraud_file, ".csv"), "demand": (_demand_file, ".csv"),
          "quality": (_quality_file, ".zip")}


def make_uploads(folder: Path, n: int = len(MIX)) -> list[Session]:
    """``n`` sessions over the scenarios in MIX order, each with its own distinct small upload."""
    out = []
    for i in range(n):
        scenario = MIX[i % len(MIX)]
        k = sum(s.scenario == scenario for s in out)  # the how-many-th upload of this scenario
        make, ext = MAKERS[scenario]
        s = Session(index=i, scenario=scenario, file=folder / f"upload_s{i + 1}_{scenario}{ext}", tag=f"only_s{i + 1}")
        make(s, k)
        out.append(s)
    return out


# ---------------------------------------------------------------- what each page needs
def _fill(page, label: str, value, role: str | None = None) -> None:
    box = page.get_by_role("spinbutton", name=label) if role else page.get_by_label(label)
    box.fill(str(value))
    box.press("Tab")


class Credit:
    url, upload, train, done = "credit", "Upload my file", "Train model", "Model trained:"

    @staticmethod
    def loaded(s):
        return s.own[0]

    @staticmethod
    def configure(page, epochs):
        _fill(page, "Epochs (early stopping may end sooner)", epochs)
        _fill(page, "Rows explained with SHAP", 50)

    @staticmethod
    def start_download(page):
        click_tab(page, "Export")
        page.get_by_role("button", name="Prepare scored CSV (with reason codes for declines)").click()

    @staticmethod
    def download(page):
        return page.get_by_role("button", name="Download scored CSV")

    @staticmethod
    def check_download(s, df):
        errs = []
        if len(df) != s.facts["test"]:
            errs.append(f"scored CSV has {len(df)} rows, expected its {s.facts['test']} test applicants")
        if not df["applicant_id"].astype(str).str.startswith(s.tag + "-").all():
            errs.append("scored CSV holds applicants of another upload")
        return errs

    @staticmethod
    def to_save(page):
        pass  # the save control is in the Export tab, already open


class Fraud:
    url, upload, train, done = "fraud", "Upload my file", "Train model", "Model trained:"  # the data tab's line

    @staticmethod
    def loaded(s):
        return s.own[0]

    @staticmethod
    def configure(page, epochs):
        _fill(page, "Epochs (early stopping)", epochs)
        _fill(page, "Alerts explained (SHAP)", 20)

    @staticmethod
    def start_download(page):
        click_tab(page, "Alert queue")

    @staticmethod
    def download(page):
        return page.get_by_role("button", name="Download alert queue (CSV)")

    @staticmethod
    def check_download(s, df):
        errs = []
        if df.empty:
            errs.append("the alert queue is empty: nothing to check")
        for col in ("customer", "terminal"):
            if col in df and not df[col].astype(str).str.startswith(s.tag + "-").all():
                errs.append(f"alert queue holds a {col} of another upload")
        if "customer" not in df:
            errs.append(f"alert queue has no customer column: {list(df.columns)}")
        return errs

    @staticmethod
    def to_save(page):
        click_tab(page, "Export")  # the save control is in the Export tab, as on every scenario page


class Demand:
    url, upload, train, done = "demand", "Upload my file", "Train forecast model", "Model trained:"

    @staticmethod
    def loaded(s):
        return s.own[0]

    @staticmethod
    def configure(page, epochs):
        for label, value in (("Horizon (periods to forecast)", 7), ("Backtest origins", 1), ("Max epochs", epochs)):
            _fill(page, label, value, role="spinbutton")

    @staticmethod
    def start_download(page):
        click_tab(page, "Export")

    @staticmethod
    def download(page):
        return page.get_by_role("button", name="Forecast table (CSV: P10/P50/P90, reorder points)")

    @staticmethod
    def check_download(s, df):
        text = df.astype(str)
        cols = [c for c in df.columns if text[c].str.contains("only_s").any()]
        if not cols:
            return [f"forecast CSV names no series of the upload: {list(df.columns)}"]
        bad = [v for c in cols for v in text[c].unique() if s.tag not in v]
        others = [v for c in cols for v in text[c].unique() if re.search(r"only_s\d", v) and s.tag not in v]
        return ([f"forecast CSV holds other series: {bad[:3]}"] if bad else []) + (
            [f"forecast CSV holds another upload's series: {others[:3]}"] if others else [])

    @staticmethod
    def to_save(page):
        pass  # Export tab, already open


class Quality:
    url, upload, train, done = "quality", "Upload a zip", "Train model", "Model trained ("

    @staticmethod
    def loaded(s):
        return "Examples per class"

    @staticmethod
    def configure(page, epochs):
        _fill(page, "Epochs (early stopping may end sooner)", epochs)

    @staticmethod
    def start_download(page):
        click_tab(page, "Export")

    @staticmethod
    def download(page):
        return page.get_by_role("button", name="Download test predictions (CSV)")

    @staticmethod
    def check_download(s, df):
        errs = []
        if df.empty or not df["file"].astype(str).str.contains(s.tag).all():
            errs.append("test predictions name images of another upload")
        if not set(df["actual"]) <= set(s.facts["classes"]):
            errs.append(f"test predictions hold classes {sorted(set(df['actual']))}")
        return errs

    @staticmethod
    def to_save(page):
        pass  # Export tab, already open


DRIVERS = {"credit": Credit, "fraud": Fraud, "demand": Demand, "quality": Quality}


# ---------------------------------------------------------------- the server's memory
class PeakMemory:
    """Peak resident memory of the app server process and its children (the training workers), and of
    the server process alone, sampled every 0.2 s."""

    def __init__(self, port: int):
        import psutil

        me = psutil.Process()
        # The Python process serving the port (not a wrapper such as cloud-limits that started it).
        self.proc = next(p for p in me.children(recursive=True)
                         if "streamlit" in " ".join(p.cmdline()) and str(port) in p.cmdline()
                         and "python" in os.path.basename(p.cmdline()[0]))
        self.start_mb = self._rss()
        self.peak_mb = self.start_mb
        self.server_start_mb = self.server_mb()
        self.server_peak_mb = self.server_start_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> float:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except Exception:
                pass
        return total / 2**20

    def cloud_limits(self) -> str | None:
        """The cloud-limits memory group's peak and kills so far, when the server runs under it."""
        try:
            lines = Path(f"/proc/{self.proc.pid}/cgroup").read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if "cloud-limits" not in path:
                continue
            if controllers == "":  # cgroup v2
                base = Path("/sys/fs/cgroup") / path.lstrip("/")
                peak, events, limit = base / "memory.peak", base / "memory.events", base / "memory.max"
            elif "memory" in controllers.split(","):
                base = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
                peak, events, limit = (base / "memory.max_usage_in_bytes", base / "memory.oom_control",
                                       base / "memory.limit_in_bytes")
            else:
                continue
            try:
                kills = next((ln.split()[1] for ln in events.read_text().splitlines() if ln.startswith("oom_kill ")), "0")
                return (f"cloud-limits: limit {int(limit.read_text()) // 2**20} MB, peak "
                        f"{int(peak.read_text()) // 2**20} MB (server + workers), processes killed for memory: {kills}")
            except (OSError, ValueError):
                return None
        return None

    def server_mb(self) -> float:
        """The server process alone (no workers)."""
        try:
            return self.proc.memory_info().rss / 2**20
        except Exception:
            return float("nan")

    def _run(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._rss())
            self.server_peak_mb = max(self.server_peak_mb, self.server_mb())
            time.sleep(0.2)

    def cpu_s(self) -> float:
        """CPU seconds the server has used so far (user + system, its children included)."""
        t = self.proc.cpu_times()
        return t.user + t.system + t.children_user + t.children_system

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(2)
        return self.peak_mb


def _text(page, visible: bool = True) -> str:
    """The page's visible text, or all its text (hidden tabs too) for the checks on other sessions."""
    try:
        return page.evaluate("() => document.body." + ("innerText" if visible else "textContent")) or ""
    except Exception:
        return ""


def _error_on(text: str) -> str | None:
    # A view that failed to draw and a failed save are messages now, not tracebacks: still errors here.
    for marker in ("Something went wrong", "Traceback", "could not be drawn", "The run was not saved"):
        if marker in text:
            at = text.find(marker)
            # A traceback's exception type and message are the lines just above it.
            before = "\n".join(text[:at].splitlines()[-2:]) + "\n" if marker == "Traceback" else ""
            return before + text[at:][:600]
    return None


def _left(end: float, least: float = 5.0) -> float:
    """Milliseconds until ``end`` (time.monotonic), at least ``least`` seconds."""
    return max(end - time.monotonic(), least) * 1000


def _read_csv(path: str) -> pd.DataFrame:
    return pd.read_csv(path)


# ---------------------------------------------------------------- the scenario, end to end
def run_sessions(browser, workdir: Path, *, n: int = len(MIX), limit: int = 2, epochs: int = 1,
                 timeout: float = 300, shots: Path | None = None, settle: float = 0.0,
                 prefix: list[str] | None = None, before=None, env: dict | None = None) -> dict:
    """Drive ``n`` sessions against one fresh server; return the figures (and the sessions). With
    ``shots``, the first page seen waiting in the queue and every page's result are saved there. With
    ``settle``, the visitors leave at the end and the server's memory is read that many seconds later.
    ``prefix`` starts the server under a wrapper (e.g. ``../shared/tools/cloud-limits``). ``before(url,
    memory)`` runs once the server is up and before the sessions open; the dict it returns joins the
    figures. ``env`` adds to the server's environment."""
    sessions = make_uploads(workdir, n)
    env = {"STUDIO_MAX_CONCURRENT_TRAININGS": str(limit), "STUDIO_RUNS_PER_SESSION": "1", **(env or {})}
    contexts = []
    shared_runs = workdir / "runs"
    timings: dict[str, float] = {}
    t_start = time.monotonic()
    after: dict[str, float] = {}
    with run_app(workdir, env=env, prefix=prefix) as url:
        memory = PeakMemory(int(url.rsplit(":", 1)[1]))
        timings["server_ready_s"] = round(time.monotonic() - t_start, 1)
        try:
            if before is not None:
                after.update(before(url, memory))
                timings["before_s"] = round(time.monotonic() - t_start - sum(timings.values()), 1)
            for s in sessions:
                ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
                contexts.append(ctx)
                page = ctx.new_page()
                page.set_default_timeout(90_000)
                s.page = page
                d = DRIVERS[s.scenario]
                page.goto(f"{url}/{d.url}")
                page.get_by_text(d.upload).click()
                page.locator("input[type=file]").first.set_input_files(str(s.file))
            for s in sessions:
                d = DRIVERS[s.scenario]
                s.page.get_by_text(d.loaded(s)).first.wait_for(timeout=120_000)
                d.configure(s.page, epochs)
            timings["upload_s"] = round(time.monotonic() - t_start - sum(timings.values()), 1)
            # All the "Train" clicks within a second or two: the trainings overlap on the server.
            for s in sessions:
                s.page.get_by_role("button", name=DRIVERS[s.scenario].train).click()
                s.clicked = time.monotonic()
            deadline = time.monotonic() + timeout
            while any(s.done is None for s in sessions) and time.monotonic() < deadline:
                for s in (s for s in sessions if s.done is None):
                    text = _text(s.page, visible=False)  # no layout pass, unlike innerText
                    if WAITING in text and shots is not None and not any(x.saw_queue for x in sessions):
                        s.page.screenshot(path=str(shots / "concurrent_waiting.png"))
                    s.saw_queue |= WAITING in text
                    if DRIVERS[s.scenario].done in text:
                        s.done = time.monotonic()
                    elif _error_on(text):
                        s.errors.append(_error_on(text))
                        s.done = time.monotonic()
                time.sleep(1.0)  # the browser's CPU is the server's: read the pages now and then
            timings["train_s"] = round(time.monotonic() - t_start - sum(timings.values()), 1)
            after["server_after_training_mb"] = round(memory.server_mb())
            for s in sessions:
                if s.done is None:
                    s.errors.append(f"no result within {timeout:.0f} s")
                d = DRIVERS[s.scenario]
                text = _text(s.page)
                marker = s.page.get_by_text(d.done).first
                if s.done is not None and shots is not None and marker.count():
                    marker.scroll_into_view_if_needed()
                    s.page.screenshot(path=str(shots / f"concurrent_session{s.index + 1}.png"))
                line = text[text.find(d.done):].split("\n", 1)[0] if d.done in text else ""
                s.trained_text = line[:200]
                w = re.search(r"Waited (\d+) s for a training slot", text)
                s.waited = float(w.group(1)) if w else 0.0
                for u in s.own:
                    if u not in _text(s.page, visible=False):
                        s.errors.append(f"does not show its own '{u}'")
                if s.scenario == "credit":
                    chosen = s.page.get_by_role("combobox", name="Outcome column (target)").input_value()
                    if chosen != s.facts["target"]:
                        s.errors.append(f"outcome column reads '{chosen}', expected '{s.facts['target']}'")
                if _error_on(text):
                    s.errors.append("shows an error: " + _error_on(text))
            # Downloads: each file holds this session's rows only.
            phase_end = time.monotonic() + 300
            for s in sessions:
                try:
                    DRIVERS[s.scenario].start_download(s.page)
                except Exception as exc:
                    s.errors.append(f"no download offered: {str(exc).splitlines()[0][:200]}")
            for s in sessions:
                d = DRIVERS[s.scenario]
                try:
                    button = d.download(s.page)
                    button.wait_for(timeout=_left(phase_end))
                    with s.page.expect_download() as dl:
                        button.click()
                    df = _read_csv(dl.value.path())
                    s.download_rows = len(df)
                    s.errors += d.check_download(s, df)
                except Exception as exc:  # reported per session with the others' checks
                    s.errors.append(f"download failed: {str(exc).splitlines()[0][:200]}")
            timings["download_s"] = round(time.monotonic() - t_start - sum(timings.values()), 1)
            # Nothing of one session on another's page, in any tab.
            texts = {s.index: _text(s.page, visible=False) for s in sessions}
            # Save: every run lands in a runs folder of its own session. The sessions' waits share
            # one deadline, so a page that never offers its button costs minutes, not six times that.
            phase_end = time.monotonic() + 300
            saved = []
            for s in sessions:
                try:
                    DRIVERS[s.scenario].to_save(s.page)
                    save = s.page.get_by_role("button", name="Save to workspace")
                    save.wait_for(timeout=_left(phase_end))  # a page may still be redrawing after its download
                    save.click()
                except Exception as exc:  # reported per session with the others' checks
                    s.errors.append(f"save failed: {str(exc).splitlines()[0][:200]}")
            for s in sessions:
                try:
                    s.page.get_by_text("Saved as run").first.wait_for(timeout=_left(phase_end))
                    # The page names the run it saved, never the server path of the folder.
                    m = re.search(r"Saved as run\s*`?([A-Za-z0-9._-]+)", _text(s.page, visible=False))
                    s.run_id = m.group(1) if m else ""
                    saved.append(s)
                except Exception as exc:
                    s.errors.append(f"save failed: {_text(s.page)[-300:]!r} ({str(exc).splitlines()[0][:120]})")
            # The Runs page of each session lists its one run, in its own folder, and nothing else.
            phase_end = time.monotonic() + 180
            for s in saved:
                try:
                    s.page.get_by_role("link", name="Open the Runs page").first.click(timeout=_left(phase_end))
                except Exception as exc:
                    s.errors.append(f"no link to the Runs page after saving: {str(exc).splitlines()[0][:150]}")
            for s in saved:
                try:
                    s.page.get_by_text("1 of 1 runs").wait_for(timeout=_left(phase_end))
                    shown = s.page.get_by_role("combobox", name="Run", exact=True)  # Run details' pick
                    shown.wait_for(timeout=_left(phase_end))
                    text = _text(s.page, visible=False)
                    texts[s.index] += text
                    # The run id is a column of the table, drawn on a canvas: the run is known by its name.
                    if s.run_id and not shown.input_value().startswith(_saved_name(shared_runs, s.run_id) + " · "):
                        s.errors.append(f"its Runs page does not list its run {s.run_id}: {shown.input_value()!r}")
                    if "Runs folder: your private folder" not in text or str(shared_runs) in text:
                        s.errors.append("its Runs page does not name its private folder, or shows a server path")
                except Exception as exc:
                    s.errors.append(f"its Runs page does not list exactly its run: {str(exc).splitlines()[0][:150]}")
            timings["save_and_list_s"] = round(time.monotonic() - t_start - sum(timings.values()), 1)
            # A visitor with no runs of their own sees none of the six.
            ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
            contexts.append(ctx)
            stranger = ctx.new_page()
            stranger.goto(f"{url}/runs")
            stranger.get_by_text("No saved runs yet").wait_for(timeout=60_000)
            stranger_text = _text(stranger, visible=False)
            for s in sessions:
                for other in sessions:
                    if other is s:
                        continue
                    for u in [*other.own, other.tag]:
                        if u in texts[s.index]:
                            s.errors.append(f"shows {other.name}'s '{u}'")
                if s.tag in stranger_text:
                    s.errors.append("a visitor with no runs sees this session's run")
            if settle:  # every visitor leaves; the server's memory a while later
                after["server_before_leaving_mb"] = round(memory.server_mb())
                while contexts:
                    contexts.pop().close()
                time.sleep(settle)
                after["server_after_leaving_mb"] = round(memory.server_mb())
                after["app_after_leaving_mb"] = round(memory._rss())
        finally:
            after["cloud_limits"] = memory.cloud_limits()
            peak = memory.stop()
            cpu = memory.cpu_s()
            for ctx in contexts:
                ctx.close()
    runs = check_runs_folders(sessions, shared_runs)
    done = [s for s in sessions if s.done is not None]
    return {
        "sessions": n, "limit": limit, "scenarios": [s.scenario for s in sessions],
        "server_start_mb": round(memory.start_mb), "server_peak_mb": round(peak),
        "server_process_start_mb": round(memory.server_start_mb), "server_process_peak_mb": round(memory.server_peak_mb),
        **after, "settle_s": settle,
        "all_trained": all(s.trained_text for s in sessions),
        "saw_queue": sum(s.saw_queue for s in sessions),
        "waited_s": [s.waited for s in sessions],
        "seconds_to_result": [None if s.done is None else round(s.done - s.clicked, 1) for s in sessions],
        "last_result_s": round(max(s.done for s in done) - min(s.clicked for s in sessions), 1) if done else None,
        "download_rows": [s.download_rows for s in sessions],
        "runs_folders": runs,
        "phases_s": timings, "server_cpu_s": round(cpu), "wall_s": round(time.monotonic() - t_start),
        "trained": [s.trained_text[:90] for s in sessions],
        "errors": {s.index + 1: s.errors for s in sessions if s.errors},
        "_sessions": sessions,
    }


def _saved_name(shared: Path, run_id: str) -> str:
    """The name of the run ``run_id`` saved in a session's private folder under ``shared``."""
    from core.workspace.runs import get_run_name, list_workspace_runs

    for folder in shared.glob(".session-*"):
        for meta in list_workspace_runs(folder)[0]:
            if meta.get("run_id") == run_id:
                return get_run_name(meta)
    return f"(no run {run_id} saved)"


def check_runs_folders(sessions: list[Session], shared: Path) -> int:
    """Each session's run alone in its own folder (a hidden one under the shared runs folder, so the
    shared listing shows none of them); returns how many distinct folders hold runs."""
    import json

    from core.store.registry import list_runs, read_metadata

    folders = {}
    for s in sessions:
        # The folder that holds the run the page said it saved (the page never shows the path).
        found = [p for p in shared.glob(".session-*") if (p / s.run_id).is_dir()] if s.run_id else []
        if len(found) != 1:
            s.errors.append(f"its run {s.run_id or '(none named)'} is in {len(found)} private folders, expected 1")
            continue
        folder = found[0]
        if folder in folders.values():
            s.errors.append(f"shares its runs folder {folder} with another session")
        folders[s.index] = folder
        if folder.resolve() == shared.resolve():
            s.errors.append("saved into the shared runs folder")
        runs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")] if folder.is_dir() else []
        if len(runs) != 1:
            s.errors.append(f"its runs folder holds {len(runs)} runs, expected its 1")
            continue
        meta = read_metadata(runs[0])
        blob = json.dumps(meta, default=str)
        if meta.get("scenario") != s.scenario or s.file.name not in blob:
            s.errors.append(f"its saved run is not its own {s.scenario} run on {s.file.name}")
        for other in sessions:
            if other is not s and other.tag in blob:
                s.errors.append(f"its saved run mentions {other.name}")
    shared_runs, _ = list_runs(shared)
    if shared_runs:
        sessions[0].errors.append(f"the shared runs folder lists {len(shared_runs)} runs")
    return len(set(folders.values()))

"""App start-up benchmark: how soon a visitor sees the overview, and what the server holds then.

    python bench/bench_app.py [--repeats 3]

Starts ``streamlit run app.py`` on localhost (a fresh server each repeat), opens the overview in
Debian's Chromium through Playwright and times, from the first request: the heading and the four
scenario cards (the page a visitor sees), and the device line (found without importing
TensorFlow). The server's memory (RSS) is read when the page is up and after the device line.
In the same run, as the baseline, a bare Streamlit page ("hello") is started and timed the same
way. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port  # noqa: E402


def _start(script: Path, tmp: Path):
    port = _free_port()
    env = {**os.environ, "STUDIO_RUNS_DIR": str(tmp / "runs")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def _rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 1024 ** 2


def _measure(browser, script: Path, texts: list[str], later: str | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _start(script, Path(tmp))
        try:
            page = browser.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            for t in texts:
                page.get_by_text(t).first.wait_for(timeout=60_000)
            shown = time.perf_counter() - t0
            rss_shown = _rss_mb(proc.pid)
            out = {"shown": shown, "rss_shown": rss_shown}
            if later:
                page.get_by_text(later).first.wait_for(timeout=120_000)
                out["later"] = time.perf_counter() - t0
                out["rss_later"] = _rss_mb(proc.pid)
            page.close()
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from core.store.scenarios import SCENARIOS

    questions = ["AI Use-Case Studio", *[s.question for s in SCENARIOS.values()]]
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text("import streamlit as st\nst.title('hello')\n")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            app = [_measure(browser, ROOT / "app.py", questions, "Training device —") for _ in range(args.repeats)]
            base = [_measure(browser, hello, ["hello"], None) for _ in range(args.repeats)]
            browser.close()
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    print(f"App start-up · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · median of {args.repeats} "
          "fresh servers\n")
    print("| measure | studio overview | bare Streamlit page | ratio |")
    print("|---|---|---|---|")
    print(f"| first request to page shown | {med(app, 'shown'):.2f} s | {med(base, 'shown'):.2f} s | "
          f"{med(app, 'shown') / med(base, 'shown'):.2f}x |")
    print(f"| server memory when shown | {med(app, 'rss_shown'):.0f} MB | {med(base, 'rss_shown'):.0f} MB | "
          f"{med(app, 'rss_shown') / med(base, 'rss_shown'):.2f}x |")
    print(f"| device line shown | {med(app, 'later'):.2f} s | | |")
    print(f"| server memory with the whole overview shown | {med(app, 'rss_later'):.0f} MB | | |")


if __name__ == "__main__":
    main()

"""The server's CPU while a visitor watches a training: one credit training in the browser, its progress on screen.

    python bench/bench_watch.py [--rounds 2] [--epochs 2] [--rows 1200]

While a training job runs, its progress panel (``ui/jobs.py``) is a fragment that runs again every second. Streamlit
runs a full garbage collection after every script run, fragments included (``runner.postScriptGC``); the app turns
that off in ``.streamlit/config.toml`` and collects after each whole page's run instead (``app.py``). This bench
starts the app twice per round, alternately with the app's setting and with Streamlit's (``--runner.postScriptGC
true`` on the command line), trains the credit sample in Debian's Chromium (``--epochs`` epochs on ``--rows`` rows,
50 rows explained, as the credit browser tests do) and reads the CPU seconds of the Streamlit server, the training's
worker and Chromium's renderer from the click on *Train model* to *Model trained*. Prints a markdown table with the
1-minute load average, and the server's CPU per second of training for each setting (medians over the rounds).
Never part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_by_kind() -> dict[str, float]:
    """CPU seconds so far of this process's descendants: the server, its job workers, Chromium's renderers."""
    import psutil

    out: dict[str, float] = {}
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
            t = p.cpu_times()
        except psutil.Error:
            continue
        kind = ("renderer" if "--type=renderer" in cmd else "chromium") if "chrom" in cmd else \
            "server" if "streamlit" in cmd else "worker" if "core.jobs" in cmd else "other"
        out[kind] = out.get(kind, 0.0) + t.user + t.system
    return out


def one(browser, collect: bool, epochs: int, rows: int) -> dict:
    from tests.conftest import run_app

    extra = ["--runner.postScriptGC", "true"] if collect else []
    with tempfile.TemporaryDirectory() as tmp, run_app(Path(tmp), extra_args=extra) as url:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(600_000)
        page.goto(f"{url}/credit")
        page.get_by_text("Training options").wait_for()
        page.get_by_label("Epochs (early stopping may end sooner)").fill(str(epochs))
        page.get_by_label("Use at most this many rows (0 = all)").fill(str(rows))
        page.get_by_label("Rows explained with SHAP").fill("50")
        page.wait_for_timeout(2000)
        before, t0 = cpu_by_kind(), time.monotonic()
        page.get_by_role("button", name="Train model").click()
        page.get_by_text("Model trained").first.wait_for()
        wall = time.monotonic() - t0
        after = cpu_by_kind()
        context.close()
    used = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in ("server", "worker", "renderer")}
    return {"collect": collect, "wall": wall, **used, "load": os.getloadavg()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2, help="pairs of trainings (the app's setting, Streamlit's)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--rows", type=int, default=1200)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for r in range(args.rounds):
            for collect in ((False, True) if r % 2 == 0 else (True, False)):
                results.append(one(browser, collect, args.epochs, args.rows))
        browser.close()
    print(f"# bench_watch: one credit training watched in the browser ({args.epochs} epochs, {args.rows:,} rows), "
          f"{os.cpu_count()} cores\n")
    print("| collection after | training s | server CPU s | server CPU per training s | worker CPU s | "
          "Chromium renderer CPU s | load |")
    print("|---|---|---|---|---|---|---|")
    for x in results:
        what = "every run, fragments too (Streamlit's default)" if x["collect"] else "each page run (the app)"
        print(f"| {what} | {x['wall']:.0f} | {x['server']:.1f} | {x['server'] / x['wall']:.3f} | {x['worker']:.1f} | "
              f"{x['renderer']:.1f} | {x['load']:.1f} |")
    rate = {c: statistics.median(x["server"] / x["wall"] for x in results if x["collect"] == c) for c in (False, True)}
    print(f"\nServer CPU per second of training, median: {rate[False]:.3f} (the app) against {rate[True]:.3f} "
          f"(Streamlit's default): {rate[True] / max(rate[False], 1e-9):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

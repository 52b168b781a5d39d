"""Concurrent sessions on one app server: N browser contexts each upload their own file and train their own scenario at once.

    python bench/bench_load.py [--sessions 6] [--limit 2] [--epochs 1] [--settle S] [--browse-first]
                               [--cloud-limits] [--memory-log FILE [--trace]] [--json-out FILE]

One `streamlit run app.py` with STUDIO_MAX_CONCURRENT_TRAININGS=--limit and STUDIO_RUNS_PER_SESSION=1,
one Chromium (Debian's, /usr/bin/chromium), one context per session (own cookies, own Streamlit
session), the sessions cycling through credit, fraud, demand, quality, credit, fraud, each on a small
file of its own. Prints the server's resident memory at start and at its peak (sampled every 0.2 s,
the server and its children), how many sessions showed the queue, each session's wait for a slot and
time from "Train" to its result, the rows of each session's download, how many runs folders the saved
runs landed in, whether any page, download or runs folder showed another session's data or an error,
and the machine's load. Trainings run as jobs in worker processes: the server process alone is
measured too (at start, at its peak, after the trainings), and with ``--settle S`` again S seconds
after every visitor has left. ``--browse-first`` has one visitor open every page and tab first (nothing
trained) and leave; ``--settle`` seconds later the server process is read again: the libraries the pages
import, loaded for good (Python does not unload modules), which is the figure the server should come back
near once the trainers have left too. ``--memory-log FILE`` starts the server with STUDIO_MEMORY_DEBUG=FILE
(ui/memory.py: sessions, media files, modules and objects every 10 s); with ``--trace`` the server (not its
workers) runs tracemalloc too, and FILE.floor.snap / FILE.floor.types.json keep the libraries-loaded moment
for ``python bench/memory_diff.py FILE.floor.snap FILE.snap``. ``--cloud-limits`` starts the server (and so its workers) under
../shared/tools/cloud-limits, Community Cloud's 2.7 GB ceiling (``CLOUD_MB``): its peak and any kill
are in the server log's last line, printed at the end. Never part of the test run; tests/browser/test_concurrent_sessions.py runs
the same with the first 5 sessions (every scenario, credit twice) and asserts (the steps are in tests/browser/concurrent_scenarios.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.browse_pages import browse_every_page  # noqa: E402
from tests.browser.concurrent_scenarios import run_sessions  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


FRESH_IMPORT = """
import contextlib, importlib, io, sys
sys.path.insert(0, ".")
for name in open(sys.argv[1]).read().split():
    if name != "__main__" and name not in sys.modules:
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                importlib.import_module(name)
        except BaseException:  # a module of another process's making (__mp_main__, a built-in's alias)
            pass
print(len(sys.modules), next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmRSS")))
"""


def fresh_import(modules_file: Path) -> tuple[int, int]:
    """Modules loaded and resident MB of a fresh Python that imports the modules listed in ``modules_file``
    (the server's, written by STUDIO_MEMORY_DEBUG): what those libraries weigh with no visitor's data."""
    out = subprocess.run([sys.executable, "-c", FRESH_IMPORT, str(modules_file)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "STUDIO_RUNTIME": "onnx"}, check=True).stdout.split()
    return int(out[0]), round(int(out[1]) / 1024)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--limit", type=int, default=2, help="STUDIO_MAX_CONCURRENT_TRAININGS for the server")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--settle", type=float, default=0.0,
                    help="seconds to wait after the visitors leave before reading the server's memory again")
    ap.add_argument("--cloud-limits", action="store_true",
                    help="run the server and its workers under ../shared/tools/cloud-limits (2.7 GB)")
    ap.add_argument("--browse-first", action="store_true",
                    help="one visitor opens every page and tab, trains nothing and leaves; the server is read "
                         "--settle seconds later (the libraries loaded) before the trainings start")
    ap.add_argument("--memory-log", help="the server's STUDIO_MEMORY_DEBUG file (ui/memory.py)")
    ap.add_argument("--trace", action="store_true",
                    help="with --memory-log: tracemalloc in the server (slower), snapshots to diff by file:line")
    ap.add_argument("--json-out")
    args = ap.parse_args(argv)
    if args.browse_first and args.settle <= 0:
        ap.error("--browse-first needs --settle S: the browsing visitor's session is released only S seconds "
                 "after they leave (.streamlit/config.toml disconnectedSessionTTL, 60, plus up to 10 s)")
    if args.trace and not args.memory_log:
        ap.error("--trace needs --memory-log FILE: the snapshots are written next to it")
    from playwright.sync_api import sync_playwright

    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            prefix = [str(ROOT.parent / "shared" / "tools" / "cloud-limits")] if args.cloud_limits else None

            def browse(url, memory):
                seen = browse_every_page(browser, url)
                out = {"browse_errors": seen["errors"], "browse_tabs": seen["tabs"],
                       "server_after_browsing_mb": round(memory.server_mb())}
                time.sleep(args.settle)
                out["server_libraries_loaded_mb"] = round(memory.server_mb())
                for kept in (".modules", ".types.json", ".snap") if args.memory_log else ():  # as loaded by now
                    if Path(args.memory_log + kept).exists():
                        shutil.copyfile(args.memory_log + kept, args.memory_log + ".floor" + kept)
                return out

            env = {"STUDIO_MEMORY_DEBUG": str(Path(args.memory_log).resolve())} if args.memory_log else None
            if args.trace:
                env["STUDIO_MEMORY_TRACE"] = "1"
            figures = run_sessions(browser, Path(tmp), n=args.sessions, limit=args.limit, epochs=args.epochs,
                                   timeout=900, settle=args.settle, prefix=prefix,
                                   before=browse if args.browse_first else None, env=env)
        finally:
            browser.close()
    figures.pop("_sessions")
    figures["load_average_before"] = round(load0, 1)
    figures["load_average_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures, indent=2))
    print()
    print(f"{'sessions':>8} {'limit':>5} {'server start MB':>15} {'server peak MB':>14} {'saw queue':>9} "
          f"{'max wait s':>10} {'max s to result':>15} {'runs folders':>12} {'errors':>6}")
    done = [s for s in figures["seconds_to_result"] if s is not None]
    print(f"{figures['sessions']:>8} {figures['limit']:>5} {figures['server_start_mb']:>15} "
          f"{figures['server_peak_mb']:>14} {figures['saw_queue']:>9} {max(figures['waited_s']):>10.0f} "
          f"{max(done) if done else float('nan'):>15.1f} {figures['runs_folders']:>12} {len(figures['errors']):>6}")
    print()
    print(f"{'session':>7} {'scenario':>8} {'waited s':>8} {'s to result':>11} {'download rows':>13}")
    for i, (sc, w, t, r) in enumerate(zip(figures["scenarios"], figures["waited_s"], figures["seconds_to_result"],
                                          figures["download_rows"]), 1):
        print(f"{i:>7} {sc:>8} {w:>8.0f} {'-' if t is None else f'{t:.1f}':>11} {r:>13}")
    print()
    print(f"{'server process MB:':<20} start {figures['server_process_start_mb']}, peak {figures['server_process_peak_mb']}, "
          f"after the trainings {figures.get('server_after_training_mb')}, {args.settle:.0f} s after the visitors left "
          f"{figures.get('server_after_leaving_mb', '-')} (server + workers then {figures.get('app_after_leaving_mb', '-')})")
    if args.browse_first:
        floor, left = figures.get("server_libraries_loaded_mb"), figures.get("server_after_leaving_mb")
        if floor is not None and left is not None:
            figures["left_behind_mb"] = left - floor
        print()
        print("server process MB (same process, same run):")
        for label, value in (("start (nothing imported yet)", figures["server_process_start_mb"]),
                             ("one visitor browsed every page", figures.get("server_after_browsing_mb")),
                             (f"libraries loaded ({args.settle:.0f} s after they left)", floor),
                             ("peak", figures["server_process_peak_mb"]),
                             ("after the trainings", figures.get("server_after_training_mb")),
                             (f"after leaving ({args.settle:.0f} s after the trainers left)", left),
                             ("after leaving - libraries loaded", figures.get("left_behind_mb"))):
            print(f"  {label:<45} {'-' if value is None else value:>6}")
        lists = [Path(f"{args.memory_log}{x}.modules") for x in (".floor", "")] if args.memory_log else []
        if lists and all(p.exists() for p in lists):
            (n0, mb0), (n1, mb1) = (fresh_import(p) for p in lists)
            figures["fresh_import_mb"] = {"libraries loaded": [n0, mb0], "after leaving": [n1, mb1]}
            print(f"  {'a fresh Python importing the same modules:':<45} {mb0:>6} ({n0:,} modules) at "
                  f"libraries loaded, {mb1} ({n1:,}) after leaving: the trainings' pages imported "
                  f"{mb1 - mb0} MB of libraries more")
        if figures.get("browse_errors"):
            print("browsing errors:", figures["browse_errors"])
    if args.cloud_limits:
        print(figures.get("cloud_limits", "cloud-limits: no line in the server log"))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2))
    return 0 if not figures["errors"] and not figures.get("browse_errors") and figures["all_trained"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Click-to-result time of a short job, on a cold worker against a spare that has loaded Keras.

    python bench/bench_warm.py                 # 5 rounds of a trivial job
    python bench/bench_warm.py --job network --rounds 3
    python bench/bench_warm.py --job heatmap --rounds 3    # trains a small quality model first

Two job managers in this process: one without spares (``STUDIO_WARM_WORKERS=0``: every job starts
``python -m core.jobs.worker``, which loads Keras first) and one with the default spare. Rounds are
interleaved and their order alternates; before every measured job the spare is ready and idle, so
neither job shares the machine with a spare loading Keras. Click-to-result is from ``submit`` to the
result loaded in this process, as a page gets it. Also printed: the idle spare's resident memory
and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.jobs import TrainingQueue  # noqa: E402
from core.jobs.manager import JobManager  # noqa: E402

JOBS = {
    "trivial": ("tests.jobs.jobfuncs:count", {"n": 1}, "a trivial job (3 progress events)"),
    "network": ("tests.jobs.jobfuncs:tiny_network", {}, "build a small Keras network, save it as .keras and ONNX"),
    "heatmap": ("core.quality.jobs:explain_page", None,
                "the quality page's Grad-CAM + SHAP heatmaps of one test image (sample images, 3-epoch model)"),
}
ROOT = Path(__file__).resolve().parent.parent


def heatmap_kwargs(manager: JobManager) -> dict:
    """Train a quality model on the bundled sample images (a job, as the page does; 3 epochs: the heatmap's
    cost does not depend on how good the model is) and return what the page's "Compute heatmaps" submits."""
    import numpy as np

    from core.quality.data import LoadOptions, find_ok_class, load_image_dataset

    data = load_image_dataset(ROOT / "sample_data" / "quality_images", options=LoadOptions())
    job = manager.wait(manager.submit("bench", "quality", "core.quality.jobs:train_page", dict(
        data=data, ok_class=find_ok_class(data.class_names), config_options={"epochs": 3, "seed": 0},
        search=None)), timeout=1800)
    if job.state != "done":
        raise SystemExit(f"the quality training {job.state}: {job.error}")
    run = manager.result(job)["run"]
    return dict(model=run.model, image=np.asarray(run.test.images[0]), class_names=list(run.class_names),
                ok_class=run.ok_class, background=np.asarray(run.background), seed=int(run.config.seed),
                threshold=0.5, target="auto")


def rss_mb(pid: int) -> tuple[float, float, float]:
    """Resident memory of ``pid`` in MB: all, its own (anonymous), and mapped files (shared libraries,
    shared with every other process that has loaded TensorFlow)."""
    found = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", float("nan")), found.get("RssAnon", float("nan")), found.get("RssFile", float("nan"))


def load() -> float:
    return os.getloadavg()[0]


def click_to_result(manager: JobManager, target: str, kwargs: dict) -> tuple[float, bool]:
    t0 = time.perf_counter()
    job = manager.wait(manager.submit("bench", "bench", target, kwargs), timeout=600, poll=0.02)
    if job.state != "done":
        raise SystemExit(f"job {job.state}: {job.error}")
    manager.result(job)
    return time.perf_counter() - t0, job.warm


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--job", choices=sorted(JOBS), default="trivial")
    args = ap.parse_args(argv)
    target, kwargs, what = JOBS[args.job]
    root = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    queue = TrainingQueue(2)
    cold = JobManager(root / "cold", mode="process", queue=queue, warm=0)
    warm = JobManager(root / "warm", mode="process", queue=queue, warm=1)
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    loads, rss = [load()], []
    try:
        if kwargs is None:
            kwargs = heatmap_kwargs(cold)
        warm.warm.refill(warm.worker_env())  # as after the server's first job
        for r in range(args.rounds):
            for mode in (("cold", "warm") if r % 2 == 0 else ("warm", "cold")):
                spare = warm.warm.wait_ready(300)
                if spare is None:
                    raise SystemExit("no spare became ready within 300 s")
                time.sleep(1.0)  # the spare idle, as a visitor's click finds it
                rss.append(rss_mb(spare.pid))
                seconds, on_spare = click_to_result(cold if mode == "cold" else warm, target, kwargs)
                if on_spare != (mode == "warm"):
                    raise SystemExit(f"the {mode} job ran {'on' if on_spare else 'without'} a spare")
                times[mode].append(seconds)
                loads.append(load())
                print(f"round {r + 1} {mode}: {seconds:.2f} s (load {loads[-1]:.1f})", flush=True)
    finally:
        cold.shutdown()
        warm.shutdown()
    print(f"\n{what}, {args.rounds} rounds interleaved, load average {min(loads):.1f}–{max(loads):.1f}\n")
    print("| worker | median click-to-result | min | max |")
    print("|---|---|---|---|")
    for mode, label in (("cold", "cold (`STUDIO_WARM_WORKERS=0`)"), ("warm", "spare ready (default)")):
        xs = times[mode]
        print(f"| {label} | {statistics.median(xs):.2f} s | {min(xs):.2f} s | {max(xs):.2f} s |")
    total, anon, files = (statistics.median(x[i] for x in rss) for i in range(3))
    print(f"\nidle spare resident memory (median of {len(rss)}): {total:.0f} MB, of which {anon:.0f} MB its own "
          f"and {files:.0f} MB mapped library files (shared with running workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Quality-inspection benchmark: the CNN with the defaults a user gets, on real and bundled images.

    python bench/bench_quality.py                          # NEU steel (3 seeds) + the bundled sample
    python bench/bench_quality.py --cases neu --seeds 0 1 2 3 4
    python bench/bench_quality.py --cases tiles            # generated good-class catalogue (code path only)
    python bench/bench_quality.py --cases sample --plain   # + the plain Keras CNN script on the sample

Every training runs in a fresh process with ``QualityConfig(seed=s)`` and the input size ``auto``,
exactly as ``python -m core train --scenario quality`` and the page do without tuning flags, and
prints: test accuracy, macro F1 (or balanced accuracy and defect figures with a good class),
training seconds (wall), CPU seconds of the whole process (user + sys: the fairer figure on a
shared machine), its peak memory (maximum resident set size) and the load average (1 minute)
at the start and end.

Cases:

* ``neu``: the NEU surface-defect set (``../shared/datasets/quality_inspection/neu_surface_defects``,
  or ``--neu DIR``): 1,800 grey 200x200 JPEGs, six defect types, class = file-name prefix.  The
  reference split: file names sorted, shuffled with ``random.Random(0)``, every fifth file (positions
  0, 5, 10, ...) to the test set, so 360 test images and 1,440 training images (of which the studio
  keeps 15 % for validation and early stopping).  Goal: >= 97 % test accuracy, training <= 5 min on
  2 CPU cores.
* ``sample``: the bundled ``sample_data/quality_images`` (1,000 images of 64 px, 87 % good) with the
  app's own split.  Goal: training < 60 s.
* ``tiles``: a generated magnetic-tile look-alike (``core.quality.synth_tiles``: 952 good images,
  32 to 115 of each of five small defects, 192-256 px).  It exercises the imbalance path (class
  weights, balanced early stopping, the reject decision); figures on generated images are no
  quality claim.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

NEU_DIR = ROOT.parent / "shared" / "datasets" / "quality_inspection" / "neu_surface_defects" / "images"
SAMPLE_DIR = ROOT / "sample_data" / "quality_images"


def load_avg() -> float:
    return os.getloadavg()[0]


def reference_split(names) -> tuple[np.ndarray, np.ndarray]:
    """NEU's reference split over ``names`` (file paths): sorted, shuffled with ``random.Random(0)``,
    every fifth file (positions 0, 5, 10, ...) to the test set. Returns (train, test) positions in
    ``names``."""
    order = sorted(names)
    random.Random(0).shuffle(order)
    test = set(order[::5])
    train_idx = np.array([i for i, n in enumerate(names) if n not in test], dtype=int)
    test_idx = np.array([i for i, n in enumerate(names) if n in test], dtype=int)
    return train_idx, test_idx


def tiles_dir(seed: int = 0) -> Path:
    """The generated magnetic-tile look-alike (1,344 grey JPEGs in class folders), written once."""
    import tempfile

    from core.quality.synth_tiles import TILE_COUNTS, write_tiles

    dest = Path(tempfile.gettempdir()) / f"tiles_like_seed{seed}"
    if len(list(dest.glob("*/*.jpg"))) != sum(TILE_COUNTS.values()):
        write_tiles(dest, seed=seed)
    return dest


# ------------------------------------------------------------------ one training (child process)
def run_one(case: str, seed: int, neu: str) -> dict:
    """Load a case with the defaults, train with ``QualityConfig(seed=seed)`` and score its test images."""
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality
    from core.quality.recommend import recommend_quality

    path = {"neu": neu, "sample": str(SAMPLE_DIR), "tiles": str(tiles_dir())}[case]
    t = time.perf_counter()
    data = load_image_dataset(path, options=LoadOptions(max_images=20_000))
    load_s = time.perf_counter() - t
    test = None
    if case == "neu":
        tr, te = reference_split(data.names)
        data, test = data.subset(tr), data.subset(te)
    cpu0, load0 = time.process_time(), load_avg()
    run = train_quality(data, config=QualityConfig(seed=seed), test=test)
    train_cpu = time.process_time() - cpu0
    # The defaults' recommended model: the CNN, or its blend with the best baseline when that wins on validation.
    t, cpu1 = time.perf_counter(), time.process_time()
    recommend_quality(run, data, QualityConfig(seed=seed), test=test)
    blend_s, blend_cpu = time.perf_counter() - t, time.process_time() - cpu1
    m = run.metrics
    out = {"case": case, "seed": seed, "images": int(len(data.labels) + (len(test.labels) if test else 0)),
           "test_images": int(len(run.test.labels)), "image_size": run.image_size, "channels": run.channels,
           "stride": run.stem_stride, "load_s": round(load_s, 1),
           "train_s": run.timings["train_s"], "train_cpu_s": round(train_cpu, 1),
           "recommended": run.recommended, "blend_s": round(blend_s, 1), "blend_cpu_s": round(blend_cpu, 1),
           "network_accuracy": (run.network_metrics or m)["accuracy"],
           "epochs": run.timings["epochs_run"], "best_epoch": run.timings["best_epoch"],
           "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "balanced_accuracy": m["macro_recall"],
           "recall": {c: v["recall"] for c, v in m["per_class"].items()},
           "majority_share": float(np.bincount(run.test.labels).max() / len(run.test.labels)),
           "load": [round(load0, 1), round(load_avg(), 1)]}
    if run.ok_class is not None:
        out.update({k: m[k] for k in ("defect_recall", "false_reject_rate", "defect_roc_auc")})
    return out


def run_plain(seed: int) -> dict:
    """The classic tutorial script on the sample (Conv 32-64-64, Dense 64, Adam, 10 epochs), on the
    studio's split, for comparison."""
    import keras

    from core.quality.data import LoadOptions, find_ok_class, load_image_dataset, split_indices
    from core.quality.evaluate import compute_defect_metrics, get_defect_labels, get_defect_scores
    from core.quality.models import build_plain_cnn
    from core.ml.training import set_seed

    data = load_image_dataset(SAMPLE_DIR, options=LoadOptions())
    keras.backend.clear_session()
    set_seed(seed)
    tr, va, te = split_indices(data.labels, seed=seed)
    model = build_plain_cnn(data.image_size, data.channels, len(data.class_names))
    t, cpu0 = time.perf_counter(), time.process_time()
    model.fit(data.images[tr], data.labels[tr], validation_data=(data.images[va], data.labels[va]),
              epochs=10, batch_size=32, verbose=0)
    train_s, cpu = time.perf_counter() - t, time.process_time() - cpu0
    proba = model.predict(data.images[te], batch_size=256, verbose=0)
    ok = find_ok_class(data.class_names)
    y = data.labels[te]
    d = compute_defect_metrics(get_defect_labels(y, data.class_names, ok), get_defect_scores(proba, data.class_names, ok))
    recall = [float(np.mean(proba.argmax(1)[y == c] == c)) for c in np.unique(y)]
    return {"case": "plain", "seed": seed, "train_s": round(train_s, 1), "train_cpu_s": round(cpu, 1),
            "accuracy": float(np.mean(proba.argmax(1) == y)), "balanced_accuracy": float(np.mean(recall)),
            "defect_recall": d["defect_recall"], "false_reject_rate": d["false_reject_rate"]}


def own_usage() -> dict:
    """This process's CPU seconds (user + sys, every thread) and peak memory (maximum resident set size)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"process_cpu_s": round(ru.ru_utime + ru.ru_stime, 1), "peak_mb": round(ru.ru_maxrss / 1024)}


def child(case: str, seed: int, neu: str) -> dict:
    """Run one training in a fresh process (its figures are its own, imports included)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--one", case, "--seeds", str(seed), "--neu", neu],
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{case} seed {seed} failed:\n{proc.stderr[-3000:]}")
    return {**json.loads(lines[-1]), "process_s": round(time.perf_counter() - t, 1)}


# ------------------------------------------------------------------ tables
def mean_sd(values, fmt: str = ".3f") -> str:
    values = [float(v) for v in values]
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.mean(values), fmt)} ± {format(statistics.stdev(values), fmt)}"


def typing_table(rows: list[dict], title: str) -> str:
    lines = [f"**{title}**", "",
             "| seed | input | first convolution | recommended (CNN alone) | test accuracy | macro F1 | lowest class recall "
             "| epochs (best) | training s (+ blend check) | CPU s (training / process) | peak MB | load start -> end |",
             "|" + "---|" * 12]
    for r in rows:
        low = min(r["recall"], key=r["recall"].get)
        lines.append(f"| {r['seed']} | {r['image_size']} px x {r['channels']} | stride {r['stride']} "
                     f"| {r['recommended']} ({r['network_accuracy']:.3f}) "
                     f"| {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['recall'][low]:.3f} ({low}) "
                     f"| {r['epochs']} ({r['best_epoch']}) | {r['train_s']:.0f} (+{r['blend_s']:.1f}) "
                     f"| {r['train_cpu_s']:.0f} / "
                     f"{r['process_cpu_s']:.0f} | {r['peak_mb']:,} | {r['load'][0]} -> {r['load'][1]} |")
    lines.append(f"| mean ± sd | | | | {mean_sd(r['accuracy'] for r in rows)} | {mean_sd(r['macro_f1'] for r in rows)} "
                 f"| | | {mean_sd((r['train_s'] for r in rows), '.0f')} | {mean_sd((r['train_cpu_s'] for r in rows), '.0f')} "
                 f"| | |")
    return "\n".join(lines)


def inspection_table(rows: list[dict], title: str) -> str:
    lines = [f"**{title}**", "",
             "| model, seed | input | recommended (CNN alone) | test accuracy (majority class) | balanced accuracy "
             "| defect recall | false rejects | epochs (best) | training s (+ blend check) | CPU s (training / process) "
             "| peak MB | load start -> end |", "|" + "---|" * 12]
    for r in rows:
        if r["case"] == "plain":
            lines.append(f"| plain Keras CNN script (10 epochs), {r['seed']} | 64 px | | {r['accuracy']:.3f} "
                         f"| {r['balanced_accuracy']:.3f} | {r['defect_recall']:.3f} | {r['false_reject_rate']:.1%} "
                         f"| 10 | {r['train_s']:.0f} | {r['train_cpu_s']:.0f} / {r['process_cpu_s']:.0f} "
                         f"| {r['peak_mb']:,} | |")
            continue
        lines.append(f"| studio CNN, {r['seed']} | {r['image_size']} px, stride {r['stride']} "
                     f"| {r['recommended']} ({r['network_accuracy']:.3f}) | {r['accuracy']:.3f} ({r['majority_share']:.3f}) | {r['balanced_accuracy']:.3f} "
                     f"| {r['defect_recall']:.3f} | {r['false_reject_rate']:.1%} | {r['epochs']} ({r['best_epoch']}) "
                     f"| {r['train_s']:.0f} (+{r['blend_s']:.1f}) | {r['train_cpu_s']:.0f} / {r['process_cpu_s']:.0f} "
                     f"| {r['peak_mb']:,} "
                     f"| {r['load'][0]} -> {r['load'][1]} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default="neu,sample", help="comma-separated: neu, sample, tiles")
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="seeds (split of the sample and tiles, initial weights); default 0 1 2 for neu, 0 otherwise")
    p.add_argument("--neu", default=str(NEU_DIR), help="folder or zip of the NEU set (flat, class in the file name)")
    p.add_argument("--plain", action="store_true", help="also train the plain Keras CNN script on the sample")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: one training in this process
    args = p.parse_args()
    if args.one:
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        res = run_plain(args.seeds[0]) if args.one == "plain" else run_one(args.one, args.seeds[0], args.neu)
        print(json.dumps({**res, **own_usage()}))
        return
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    print(f"CPU cores: {os.cpu_count()}; load average at start {load_avg():.1f}\n")
    if "neu" in cases:
        if not Path(args.neu).exists():
            print(f"NEU set not found at {args.neu}: pass --neu DIR.\n")
        else:
            rows = [child("neu", s, args.neu) for s in (args.seeds or [0, 1, 2])]
            print(typing_table(rows, f"NEU steel surface defects, reference split ({rows[0]['test_images']} test "
                                     f"images of {rows[0]['images']:,}), defaults"))
            print()
    if "sample" in cases:
        rows = [child("sample", s, args.neu) for s in (args.seeds or [0])]
        if args.plain:
            rows += [child("plain", s, args.neu) for s in (args.seeds or [0])]
        print(inspection_table(rows, f"Bundled sample ({rows[0]['images']:,} images, {rows[0]['test_images']} test), "
                                     "defaults"))
        print()
    if "tiles" in cases:
        rows = [child("tiles", s, args.neu) for s in (args.seeds or [0])]
        print(inspection_table(rows, f"Generated tile catalogue ({rows[0]['images']:,} images, "
                                     f"{rows[0]['test_images']} test), defaults; code path only, no quality claim"))
        r = rows[0]
        print("\nPer-class recall, seed", r["seed"], ":", ", ".join(f"{c} {v:.3f}" for c, v in r["recall"].items()))
        print()
    print(f"Load average at the end: {load_avg():.1f}")


if __name__ == "__main__":
    main()

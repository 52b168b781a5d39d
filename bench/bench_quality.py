"""Quality-inspection benchmark: the studio's CNN against a plain Keras CNN script, same data, same run.

    python bench/bench_quality.py                      # bundled sample (sample_data/quality_images)
    python bench/bench_quality.py --seeds 0 1 2        # several seeds, mean of each figure
    python bench/bench_quality.py --neu /path/NEU-CLS  # six-class steel-surface set (200x200 grey)

Targets from the issue: training on the sample under 90 s, inference over 200 images/s on a
2-core CPU.  The reference is the classic tutorial script: Conv 32-64-64, Dense 64, Adam,
10 epochs, no augmentation, no class weights.  Both see the same train / validation / test split.
The NEU set (folders crazing, inclusion, patches, pitted_surface, rolled-in_scale, scratches) has
no 'ok' class, so defect recall is not defined there; accuracy and macro F1 are reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.quality.data import LoadOptions, load_image_dataset, split_indices  # noqa: E402
from core.quality.engine import QualityConfig, train_quality  # noqa: E402
from core.quality.evaluate import (  # noqa: E402
    compute_defect_metrics, compute_multiclass_metrics, get_defect_labels, get_defect_scores,
)


NEU_PREFIXES = {"cr": "crazing", "in": "inclusion", "pa": "patches", "ps": "pitted_surface",
                "rs": "rolled-in_scale", "sc": "scratches"}


def neu_source(path: str):
    """The NEU set as a loadable source: a folder per class as is, or the original flat NEU-CLS
    folder (Cr_1.bmp, In_1.bmp, ...) regrouped in memory into a zip of class folders."""
    import io
    import zipfile

    root = Path(path)
    if not root.is_dir() or any(p.is_dir() for p in root.iterdir()):
        return path
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for f in sorted(root.iterdir()):
            cls = NEU_PREFIXES.get(f.name.split("_")[0].lower())
            if cls and f.suffix.lower() in (".bmp", ".png", ".jpg", ".jpeg"):
                zf.write(f, f"{cls}/{f.name}")
    return buf.getvalue()


def inference_rate(model, images, *, repeats: int = 3) -> float:
    """Images per second for a batched predict over ``images`` (after one warm-up call)."""
    model.predict(images[:256], batch_size=256, verbose=0)
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict(images, batch_size=256, verbose=0)
        rates.append(len(images) / (time.perf_counter() - t))
    return float(statistics.median(rates))


def score(y, proba, class_names, ok_class) -> dict:
    m = compute_multiclass_metrics(y, proba, class_names)
    out = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "roc_auc": m["roc_auc"]}
    if ok_class is not None:
        d = compute_defect_metrics(get_defect_labels(y, class_names, ok_class),
                                   get_defect_scores(proba, class_names, ok_class), 0.5)
        out.update(defect_recall=d["defect_recall"], false_reject_rate=d["false_reject_rate"])
    return out


def run_studio(data, seed: int, epochs: int) -> dict:
    run = train_quality(data, config=QualityConfig(seed=seed, epochs=epochs))
    res = score(run.test.labels, run.test_proba, run.class_names, run.ok_class)
    res.update(train_s=run.timings["train_s"], epochs=run.timings["epochs_run"],
               img_per_s=inference_rate(run.model, data.images))
    return res


def run_plain(data, seed: int, epochs: int = 10) -> dict:
    """The reference script, on the studio's split (train on train, validate on validation)."""
    import keras

    from core.quality.data import find_ok_class
    from core.quality.models import build_plain_cnn
    from core.training import set_seed

    keras.backend.clear_session()
    set_seed(seed)
    tr, va, te = split_indices(data.labels, seed=seed)
    model = build_plain_cnn(data.image_size, data.channels, len(data.class_names))
    t = time.perf_counter()
    model.fit(data.images[tr], data.labels[tr], validation_data=(data.images[va], data.labels[va]),
              epochs=epochs, batch_size=32, verbose=0)
    train_s = time.perf_counter() - t
    proba = model.predict(data.images[te], batch_size=256, verbose=0)
    res = score(data.labels[te], proba, data.class_names, find_ok_class(data.class_names))
    res.update(train_s=train_s, epochs=epochs, img_per_s=inference_rate(model, data.images))
    return res


def mean_of(results: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in results])) for k in results[0]}


def table(rows: list[tuple[str, str, dict]]) -> str:
    head = ("| data | model | train time (s) | epochs | accuracy | macro F1 | ROC-AUC (OvR) | defect recall "
            "| false-reject rate | inference (images/s) |")
    lines = [head, "|" + "---|" * 10]
    for data_name, model_name, r in rows:
        def f(k, fmt):
            return format(r[k], fmt) if k in r else "n/a"
        lines.append(f"| {data_name} | {model_name} | {r['train_s']:.1f} | {r['epochs']:.0f} | {f('accuracy', '.3f')} "
                     f"| {f('macro_f1', '.3f')} | {f('roc_auc', '.3f')} | {f('defect_recall', '.3f')} "
                     f"| {f('false_reject_rate', '.3f')} | {r['img_per_s']:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(ROOT / "sample_data" / "quality_images"))
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=30, help="studio CNN epochs (early stopping may end sooner)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--neu", default=None, help="folder or zip of the NEU steel-surface set (one folder per class)")
    p.add_argument("--neu-size", type=int, default=200)
    args = p.parse_args()

    sets = [("sample", args.data, args.image_size)]
    if args.neu:
        sets.append(("NEU steel", args.neu, args.neu_size))
    rows, notes = [], []
    for name, path, size in sets:
        t = time.perf_counter()
        source = neu_source(path) if name.startswith("NEU") else path
        data = load_image_dataset(source, options=LoadOptions(image_size=size, max_images=20_000))
        notes.append(f"{name}: {len(data.labels)} images, classes {data.counts()}, loaded in "
                     f"{time.perf_counter() - t:.1f} s")
        studio = mean_of([run_studio(data, s, args.epochs) for s in args.seeds])
        plain = mean_of([run_plain(data, s) for s in args.seeds])
        rows += [(name, "studio CNN (augmentation, class weights, early stopping)", studio),
                 (name, "plain Keras CNN script (Conv 32-64-64, Dense 64, Adam, 10 epochs)", plain)]
        notes.append(f"{name}: studio / plain training-time ratio {studio['train_s'] / plain['train_s']:.2f}, "
                     f"inference ratio {studio['img_per_s'] / plain['img_per_s']:.2f}")
    print(table(rows))
    print()
    seeds = ", ".join(map(str, args.seeds))
    print(f"Seeds: {seeds} (figures are means). CPU cores: {__import__('os').cpu_count()}.")
    for n in notes:
        print(f"- {n}")
    if not args.neu:
        print("- NEU steel-surface set: not measured (no local copy; pass --neu DIR).")


if __name__ == "__main__":
    main()

"""Quality-inspection benchmark: the studio's CNN against a plain Keras CNN script, same data, same run.

    python bench/bench_quality.py                      # bundled sample (sample_data/quality_images)
    python bench/bench_quality.py --seeds 0 1 2        # several seeds, mean of each figure
    python bench/bench_quality.py --neu /path/NEU-CLS  # six-class steel-surface set (200x200 grey)
    python bench/bench_quality.py --neu-like           # its generated look-alike (6 x 300 RGB JPEGs)

Targets from the issue: training on the sample under 90 s, inference over 200 images/s on a
2-core CPU.  The reference is the classic tutorial script: Conv 32-64-64, Dense 64, Adam,
10 epochs, no augmentation, no class weights.  Both see the same train / validation / test split.
The NEU set (crazing, inclusion, patches, pitted_surface, rolled-in_scale, scratches; in class
folders, or flat with the class in the file name such as Cr_1.bmp) has no 'ok' class, so defect
recall is not defined there; accuracy, macro F1 and per-class recall are reported.

``--neu-like`` is the defect-typing goal: six balanced texture classes of 300 images, trained from
scratch with the defaults a user gets (input size 'auto', QualityConfig()), target >= 97 % test
accuracy in under 5 minutes on 2 CPU cores.  It also prints what simple baselines reach on the
same split (logistic regression on 16x16 block means and on per-image intensity statistics), to
show the generated set is not trivially easy, and the machine load during the run.
"""

from __future__ import annotations

import argparse
import os
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


def load_avg() -> str:
    """The 1-minute load average (other jobs on the machine inflate every timing)."""
    return f"{os.getloadavg()[0]:.1f}"


def baselines(data, seed: int) -> dict:
    """Accuracy of two simple baselines on the studio's split (training + validation images fit,
    test images scored): logistic regression on 16x16 block means, and on per-image intensity
    statistics (mean, standard deviation, percentiles)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tr, va, te = split_indices(data.labels, seed=seed)
    fit = np.r_[tr, va]
    x = data.images.astype(np.float32).mean(axis=-1)
    n, s = x.shape[0], x.shape[1]
    f = max(1, s // 16)
    blocks = x[:, :f * (s // f), :f * (s // f)].reshape(n, s // f, f, s // f, f).mean(axis=(2, 4)).reshape(n, -1)
    flat = x.reshape(n, -1)
    stats = np.c_[flat.mean(1), flat.std(1), np.percentile(flat, [1, 5, 25, 50, 75, 95, 99], axis=1).T]
    out = {}
    for name, feats in (("logistic, 16x16 block means", blocks), ("logistic, intensity statistics", stats)):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(feats[fit], data.labels[fit])
        out[name] = float(np.mean(model.predict(feats[te]) == data.labels[te]))
    return out


def neu_like_dir(seed: int = 0) -> Path:
    """The generated NEU-like set (6 x 300 RGB JPEGs, flat, class in the file name), made once."""
    import tempfile

    from core.quality.synth_neu import write_neu_like

    dest = Path(tempfile.gettempdir()) / f"neu_like_300_seed{seed}"
    if len(list(dest.glob("*.jpg"))) != 1_800:
        write_neu_like(dest, per_class=300, seed=seed)
    return dest


def run_typing(name: str, path, seed: int, size) -> dict:
    """Defect typing with the defaults a user gets: load (auto size unless given), train, score."""
    t = time.perf_counter()
    data = load_image_dataset(path, options=LoadOptions(image_size=size, max_images=20_000))
    t_load = time.perf_counter() - t
    before = load_avg()
    run = train_quality(data, config=QualityConfig(seed=seed))
    m = run.metrics
    return {"data": name, "images": len(data.labels), "layout": data.layout, "input": data.image_size,
            "channels": data.channels, "load_s": t_load, "train_s": run.timings["train_s"],
            "epochs": run.timings["epochs_run"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
            "recall": {c: v["recall"] for c, v in m["per_class"].items()}, "load": f"{before} -> {load_avg()}",
            "baselines": baselines(data, seed), "backbone": run.backbone_used}


def typing_report(results: list[dict]) -> str:
    lines = ["| data | input | train time (s) | epochs | test accuracy | macro F1 | lowest class recall "
             "| load avg (start -> end) |", "|" + "---|" * 8]
    for r in results:
        low = min(r["recall"], key=r["recall"].get)
        lines.append(f"| {r['data']} ({r['images']:,} images, labels from {r['layout']}) | {r['input']} px x "
                     f"{r['channels']} | {r['train_s']:.1f} | {r['epochs']} | {r['accuracy']:.3f} "
                     f"| {r['macro_f1']:.3f} | {r['recall'][low]:.3f} ({low}) | {r['load']} |")
    for r in results:
        lines.append("")
        lines.append(f"{r['data']}, per-class recall: "
                     + ", ".join(f"{c} {v:.3f}" for c, v in r["recall"].items()))
        lines.append(f"{r['data']}, baselines (test accuracy): "
                     + ", ".join(f"{k} {v:.3f}" for k, v in r["baselines"].items()))
    return "\n".join(lines)


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
    p.add_argument("--epochs", type=int, default=QualityConfig.epochs,
                   help="studio CNN epochs on the sample (early stopping may end sooner)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--neu", default=None, help="folder or zip of the NEU steel-surface set (class folders, or "
                                               "flat with the class in the file name)")
    p.add_argument("--neu-like", action="store_true", help="the generated NEU-like set, with the defaults")
    p.add_argument("--neu-size", default="auto", help="input size for the NEU sets: auto, native or pixels")
    p.add_argument("--skip-sample", action="store_true", help="only the NEU cases")
    args = p.parse_args()

    typing = []
    if args.neu_like:
        typing += [run_typing("NEU-like", neu_like_dir(), s, args.neu_size) for s in args.seeds]
    if args.neu:
        typing += [run_typing("NEU steel", args.neu, s, args.neu_size) for s in args.seeds]
    if typing:
        print(typing_report(typing))
        print()
    if args.skip_sample:
        return
    sets = [("sample", args.data, args.image_size)]
    rows, notes = [], []
    for name, path, size in sets:
        t = time.perf_counter()
        data = load_image_dataset(path, options=LoadOptions(image_size=size, max_images=20_000))
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
    print(f"- load average at the end: {load_avg()}")


if __name__ == "__main__":
    main()

"""Quality flags for ``python -m core train --scenario quality`` and ``python -m core score``.

    python -m core train --scenario quality --data DIR_OR_ZIP [--test-data DIR_OR_ZIP]
        [--image-size auto|native|N] [--epochs N] [--seed N] [--imbalance METHOD] [--save DIR] --json

The labels come from class folders, a labels CSV or the file names (``scratches_12.jpg``); which
one, and the images per class, is printed before training and returned under ``data``, with the
good-part class and the masks left out (``--keep-masks`` keeps them).  Without
a 'good part' class the run is multi-class defect typing: the JSON has ``task: defect_typing``,
per-class precision / recall and the confusion matrix, and no reject decision.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace


from core.quality.data import LoadOptions, load_image_dataset
from core.quality.engine import QualityConfig
from core.quality.service import COST_ESCAPE, COST_FALSE_REJECT
from core.data.safety import escape_formula_cells

SUPPORTS_SEARCH = True  # --search-budget (see core/quality/search.py)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Image size, colour mode, backbone, costs and the OK class."""
    g = parser.add_argument_group("quality")
    g.add_argument("--image-size", default="auto",
                   help="input size: auto (fits the time budget), native (the images' own size), 64, 128 "
                        "or any N from 16 to 256 pixels")
    g.add_argument("--color", default="auto", choices=("auto", "grayscale", "rgb"))
    g.add_argument("--backbone", default="cnn", choices=("cnn", "mobilenetv2"))
    g.add_argument("--no-augment", action="store_true", help="train without random flips and quarter turns of the images (the CNN) "
                        "or flips, rotations and contrast jitter (MobileNetV2)")
    g.add_argument("--ok-class", default=None,
                   help="the 'no defect' class (default: the class whose name means it: ok, good, normal, free, "
                        "defect-free, ..., also with a prefix or suffix such as MT_Free or OK_parts)")
    g.add_argument("--keep-masks", action="store_true",
                   help="read images that look like masks or annotations (x.png beside x.jpg, ground_truth/, "
                        "x_mask.png, two-valued images among photos) as photos instead of leaving them out")
    g.add_argument("--batch-size", type=int, default=None)
    g.add_argument("--learning-rate", type=float, default=None)
    g.add_argument("--test-size", type=float, default=0.2, help="held-out share when --test-data is not given")
    g.add_argument("--min-per-class", type=int, default=5)
    g.add_argument("--max-images", type=int, default=20_000)
    g.add_argument("--threshold", type=float, default=0.5, help="reject when P(defect) reaches this")
    g.add_argument("--cost-escape", type=float, default=COST_ESCAPE, help="cost of a defect that passes")
    g.add_argument("--cost-false-reject", type=float, default=COST_FALSE_REJECT, help="cost of rejecting a good part")


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """Scoring reads the image size, colours and threshold from the saved run."""
    g = parser.add_argument_group("quality")
    g.add_argument("--threshold", type=float, default=None, help="override the saved reject threshold")
    g.add_argument("--keep-masks", action="store_true",
                   help="score images that look like masks or annotations instead of leaving them out")


def run_train(args) -> dict:
    """Load --data (and --test-data), train, and report metrics, baselines and timings."""
    from core.cli import say
    from core.search.scenarios import print_trials
    from core.quality.data import check_image_size
    from core.quality.labels import describe_layout, describe_ok_class

    t0 = time.perf_counter()
    opts = LoadOptions(image_size=check_image_size(args.image_size), color=args.color,
                       min_per_class=args.min_per_class, max_images=args.max_images,
                       keep_masks=bool(getattr(args, "keep_masks", False)))
    data = load_image_dataset(args.data, options=opts)
    say(describe_layout(data.layout, data.counts()))
    if data.masks:
        say(f"{len(data.masks):,} mask or annotation image(s) left out (see notices; --keep-masks keeps them)")
    say(describe_ok_class(data.class_names, args.ok_class))
    say(f"Input {data.image_size}×{data.image_size}, {'grayscale' if data.channels == 1 else 'colour'}")
    # The test set is read at the training set's size, whatever the choice said.
    test = (load_image_dataset(args.test_data, options=replace(opts, min_per_class=1, image_size=data.image_size),
                               class_names=data.class_names)
            if getattr(args, "test_data", None) else None)
    t_load = time.perf_counter() - t0
    config = QualityConfig(backbone=args.backbone, augment=not args.no_augment, seed=int(args.seed),
                           test_size=args.test_size, threshold=args.threshold,
                           **{k: v for k, v in {"epochs": args.epochs, "imbalance": args.imbalance,
                                                "batch_size": args.batch_size,
                                                "learning_rate": args.learning_rate}.items() if v is not None})
    from core.quality import service

    searching = getattr(args, "search_budget", None) is not None
    outcome = service.train_and_decide(
        data, config=config, test=test, ok_class=args.ok_class,
        search_budget=args.search_budget if searching else None, search_trials=getattr(args, "search_trials", None),
        resize=lambda size: _read_at(size, args, opts), search_progress=print_trials if searching else None,
        notice=lambda line: say(f"search: {line}"), ensemble=getattr(args, "ensemble", None) is not False,
        cost_escape=args.cost_escape, cost_false_reject=args.cost_false_reject, threshold=args.threshold,
        verdict=True)
    run, data, search, decision = outcome.run, outcome.data, outcome.search, outcome.decision
    # The blend with the best baseline, unless --no-ensemble: chosen on the validation images, and when it
    # wins it is the run's model from here on (decision, verdict, saved file).
    from core.quality.recommend import recommended_line, recommended_section

    say(recommended_line(run))
    m = run.network_metrics or run.metrics  # "metrics": the CNN's own, as before; "recommended": the saved model's
    result = {
        "scenario": "quality",
        "data": {"images": int(len(data.labels)), "classes": data.counts(), "layout": data.layout,
                 "image_size": data.image_size, "channels": data.channels,
                 "test_images": int(len(run.test.labels)), "masks_left_out": len(data.masks),
                 "notices": list(data.notices)},
        "task": m["task"],
        "metrics": {k: v for k, v in m.items() if k not in ("confusion",)},
        "per_class_recall": {c: v["recall"] for c, v in m["per_class"].items()},  # the CNN's
        "confusion": m["confusion"],
        "backbone": run.backbone_used,
        "device": run.device,
        "notices": run.notices,
    }
    if decision.cost is not None:
        result["decision"] = {"ok_class": run.ok_class, "threshold": args.threshold,
                              "cost_per_part": decision.cost.cost_at_threshold,
                              "best_threshold": decision.cost.best_threshold,
                              "best_cost_per_part": decision.cost.best_cost}
    # Baselines see the same training images (train + validation) and the same test images.
    result["baselines"] = outcome.baseline_metrics
    for line in outcome.trust.notices():  # the trust flags at --threshold and the costs, also on standard error
        say(line)
    result["verdict"] = outcome.verdict
    result["timings"] = {"load_s": round(t_load, 3), **run.timings}
    if search is not None:
        from core.quality.search import quality_search_section

        result["search"] = quality_search_section(search, run)
        result["config"] = {**run.metadata()["config"], "image_size": run.image_size}
        result["timings"]["search_s"] = round(search.result.seconds, 3)
    result["recommended"] = recommended_section(run)
    if getattr(args, "save", None):
        from pathlib import Path

        from core.report.runsummary import default_run_name

        # --save DIR: the run's own folder (core.store.registry.check_save_target)
        result["saved_to"] = str(service.save(outcome, Path(args.save), name=default_run_name("quality", args.data),
                                              dataset_name=Path(args.data).name))
    return result


def _read_at(size: int, args, opts):
    """--search-budget picked another input size: --data (and --test-data) read again at it."""
    from core.cli import say

    say(f"Input {size}×{size} (chosen by the search)")
    data = load_image_dataset(args.data, options=replace(opts, image_size=size))
    test = None
    if getattr(args, "test_data", None):
        test = load_image_dataset(args.test_data, options=replace(opts, min_per_class=1, image_size=size),
                                  class_names=data.class_names)
    return data, test


def run_score(args) -> dict:
    """Score a folder / zip of images with a saved run; write one CSV row per image.

    Images may be unlabelled (any layout) or sorted into folders named after the training classes,
    which are then compared with their label. The same engine as the Score page.
    """
    if getattr(args, "engine", "local") == "dask":
        from core.quality.scale import run_score_dask

        return run_score_dask(args)
    from core.serve.batch import score_with_run

    t0 = time.perf_counter()
    settings = {} if args.threshold is None else {"threshold": float(args.threshold)}
    if getattr(args, "keep_masks", False):
        settings["keep_masks"] = True
    result = score_with_run(args.model, args.data, settings=settings,
                            log=getattr(args, "prediction_log", None))  # the run's prediction log (core.monitor)
    df = result.scored
    from core.store.registry import write_atomic

    # Complete or absent under its name, even if the process is killed while writing.
    write_atomic(args.out, escape_formula_cells(df).to_csv(index=False), what="Writing the scored file")
    out = {"rows": int(len(df)), "out": str(args.out), "threshold": result.settings["threshold"],
           "notices": result.notices, "timings": {"score_s": round(time.perf_counter() - t0, 3)}}
    if "verdict" in df:
        out["rejected"] = int((df["verdict"] == "reject").sum())
    if "actual" in df:
        out["accuracy"] = float((df["actual"] == df["predicted"]).mean())
    return out

"""Budgeted model search against today's recipe and the baselines, on the same splits.

    python bench/bench_search.py --datasets german,taiwan,fraud,credit_sample,fraud_sample --budget 120
    python bench/bench_search.py --datasets german --folds 5 --budget 120 --jsonl /tmp/search.jsonl
    python bench/bench_search.py --datasets demand_sample,air_passengers,quality_sample --budget 120

For every evaluation split: today's recipe (the untuned network) and the two baselines are trained
on the training rows and scored on the test rows; then the search runs on the training rows only
(``--budget`` seconds, ensemble check on: the network blended with either baseline at a network
weight of 0.25, 0.5 or 0.75, chosen on validation), the best settings are retrained and scored on the same
test rows. German credit and Taiwan default use stratified k-fold CV (sensitive columns kept out as
the app does); the fraud handbook's raw log uses its published weeks (train 2018-07-25..31, 7-day
delay, test 2018-08-08..14); the samples use the app's own splits. The baselines in the table are
those trained with today's recipe's settings (the search does not tune them). "Network or
ensemble" is the model the product reports: the ensemble only when the search chose it on
validation. Demand (the bundled sales sample, 28-day horizon, 2 backtest origins; the air passengers
series, 12-month horizon) compares P50's MAE on the backtest with the seasonal-naive and
moving-average forecasts; quality (the bundled 1,000 surfaces at 64 px) compares test accuracy,
macro F1 and ROC-AUC with the majority class and logistic regression on 16-pixel thumbnails.
Each row also gives the machine's load average while it ran (``uptime``): the budget is
wall-clock, so a loaded machine fits fewer trials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets"
CREDIT = {
    "german": (SHARED / "credit_scoring" / "german_credit" / "germancredit.csv", "creditability", "bad"),
    "taiwan": (SHARED / "credit_scoring" / "taiwan_default" / "UCI_Credit_Card.csv", "default.payment.next.month", 1),
    "credit_sample": (ROOT / "sample_data" / "credit_applications.csv", "default", 1),
}
FRAUD_RAW = SHARED / "fraud_detection" / "handbook_simulated" / "raw_transactions_2018-06-25_2018-08-14.csv.gz"
FRAUD_SAMPLE = ROOT / "sample_data" / "fraud_transactions.csv.gz"
BASELINES = ("logistic_regression", "gradient_boosting")


def load_avg() -> float:
    return os.getloadavg()[0]


def _pick(m: dict) -> dict:
    return {"roc_auc": float(m["roc_auc"]), "pr_auc": float(m["pr_auc"])}


def credit_split(df: pd.DataFrame, target: str, positive, tr, te, *, budget: float, seed: int,
                 n_trials: int | None) -> dict:
    """One evaluation split of a credit data set: recipe, baselines, search, tuned network."""
    from core.credit.pipeline import default_credit_config, train_credit
    from core.credit.search import search_credit
    from core.search.tabular import ensemble_metrics

    train, test = df.iloc[tr].reset_index(drop=True), df.iloc[te].reset_index(drop=True)
    cfg = default_credit_config(seed=seed)
    kw = dict(target=target, positive=positive, test_df=test)
    load0 = load_avg()
    t0 = time.perf_counter()
    recipe = train_credit(train, config=cfg, **kw)
    t_recipe = time.perf_counter() - t0
    search = search_credit(train, budget=budget, config=cfg, n_trials=n_trials, ensemble=True, **kw)
    t0 = time.perf_counter()
    final = train_credit(train, config=search.config, **kw)
    ens = ensemble_metrics(final.tabular, search.ensemble) if search.ensemble else None
    return row_of(recipe.tabular.metrics, final.tabular.metrics["network"], ens, search, t_recipe,
                  time.perf_counter() - t0, load0, test=test_probabilities(recipe.tabular, final.tabular, ens, search))


def test_probabilities(recipe_tab, final_tab, ens: dict | None, search) -> dict:
    """The split's test labels with the product's probabilities (the ensemble where it was chosen,
    else the searched network) and the baselines' (trained with today's settings), for the pooled
    noise check."""
    from core.search.tabular import ensemble_proba

    product = ensemble_proba(final_tab, search.ensemble) if ens is not None else final_tab.proba["network"]
    return {"y": np.asarray(recipe_tab.y_test).astype(int), "product": np.asarray(product, dtype=float),
            **{b: np.asarray(recipe_tab.proba[b], dtype=float) for b in BASELINES if b in recipe_tab.proba}}


def row_of(recipe_metrics: dict, tuned: dict, ens: dict | None, search, t_recipe: float, t_final: float,
           load0: float, test: dict | None = None) -> dict:
    res = search.result
    out = {"_test": test, "recipe": _pick(recipe_metrics["network"]), "tuned": _pick(tuned),
           **{b: _pick(recipe_metrics[b]) for b in BASELINES if b in recipe_metrics},
           "ensemble": None if ens is None else _pick(ens),
           "ensemble_with": search.ensemble.get("baseline") if ens is not None else None,
           "ensemble_weight": search.ensemble.get("weight") if ens is not None else None,
           "trials": len(res.trials), "complete": len(res.complete), "best_trial": None if res.best is None
           else res.best.number, "selected_trial": None if res.selected is None else res.selected.number,
           "budget": res.budget, "search_seconds": res.seconds,
           "recipe_seconds": t_recipe, "final_seconds": t_final,
           "ensemble_check_seconds": (search.ensemble or {}).get("seconds"),
           "best_params": res.best_params, "load": [round(load0, 1), round(load_avg(), 1)]}
    out["product"] = out["ensemble"] or out["tuned"]
    return out


def run_credit(name: str, *, folds: int, budget: float, seed: int, n_trials: int | None,
               max_splits: int | None = None):
    from sklearn.model_selection import StratifiedKFold

    from core.credit.pipeline import split_rows

    path, target, positive = CREDIT[name]
    df = pd.read_csv(path)
    y = (df[target].astype(str) == str(positive)).to_numpy().astype(int)
    if name == "credit_sample":
        splits = [split_rows(y, test_size=0.25, seed=seed)]
    else:
        splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    for k, (tr, te) in enumerate(splits[:max_splits]):
        yield k, credit_split(df, target, positive, tr, te, budget=budget, seed=seed, n_trials=n_trials)


def run_fraud_set(name: str, *, budget: float, seed: int, n_trials: int | None):
    from dataclasses import replace

    from core.fraud.columns import make_columns
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig, run_fraud
    from core.fraud.search import search_fraud
    from core.search.tabular import ensemble_metrics

    raw = pd.read_csv(FRAUD_RAW if name == "fraud" else FRAUD_SAMPLE)
    cols = make_columns(raw)
    tab = replace(FRAUD_TABULAR, seed=seed)
    cfg = (FraudConfig(train_start="2018-07-25", test_start="2018-08-08", gap_days=7, tabular=tab)
           if name == "fraud" else FraudConfig(tabular=tab))
    load0 = load_avg()
    t0 = time.perf_counter()
    recipe = run_fraud(raw, cols, config=cfg)
    t_recipe = time.perf_counter() - t0
    search, final_cfg = search_fraud(raw, cols, budget=budget, config=cfg, n_trials=n_trials, ensemble=True)
    t0 = time.perf_counter()
    final = run_fraud(raw, cols, config=final_cfg)
    ens = ensemble_metrics(final.tabular, search.ensemble) if search.ensemble else None
    yield 0, row_of(recipe.metrics, final.metrics["network"], ens, search, t_recipe,
                    time.perf_counter() - t0, load0, test=test_probabilities(recipe.tabular, final.tabular, ens, search))


DEMAND = {
    "demand_sample": (ROOT / "sample_data" / "demand_sales.csv", ("date", "units", ("store", "product")), 28, 2),
    "air_passengers": (SHARED / "demand_forecasting" / "air_passengers" / "airline_passengers.csv",
                       ("Month", "Passengers", ()), 12, 1),
}
DEMAND_METHODS = {"Keras quantile network": "network", "Seasonal naive": "seasonal_naive",
                  "Moving average": "moving_average"}


def run_demand_set(name: str, *, budget: float, seed: int, n_trials: int | None) -> dict:
    """A demand data set: today's recipe and the searched network on the same backtest, with the
    seasonal-naive and moving-average baselines (lower MAE is better)."""
    from core.demand.data import ColumnMap, load_sales
    from core.demand.forecast import DemandConfig, train_demand
    from core.demand.search import search_demand

    path, (date, target, series), horizon, origins = DEMAND[name]
    data = load_sales(pd.read_csv(path), ColumnMap(date, target, series))
    cfg = DemandConfig(horizon=horizon, origins=origins, seed=seed)
    load0 = load_avg()
    t0 = time.perf_counter()
    recipe = train_demand(data, cfg)
    t_recipe = time.perf_counter() - t0
    from core.demand.search import demand_ensemble_metrics

    search = search_demand(data, cfg, budget=budget, n_trials=n_trials, ensemble=True)
    t0 = time.perf_counter()
    final = recipe if search.config == cfg else train_demand(data, search.config)
    pick = ("mae", "mase", "coverage_p10_p90")
    res = search.result

    def metrics(run, method):
        return {k: float(run.metrics.loc[method, k]) for k in pick if k in run.metrics}

    ens = demand_ensemble_metrics(final, search.ensemble)
    tuned = metrics(final, "Keras quantile network")
    return {"recipe": metrics(recipe, "Keras quantile network"), "tuned": tuned,
            "ensemble": None if ens is None else {k: ens[k] for k in pick if k in ens},
            "product": tuned if ens is None else {k: ens[k] for k in pick if k in ens},
            "ensemble_label": search.ensemble.get("label") if ens is not None else None,
            "ensemble_check": search.ensemble.get("validation_scores"),
            "seasonal_naive": metrics(recipe, "Seasonal naive"), "moving_average": metrics(recipe, "Moving average"),
            "trials": len(res.trials), "complete": len(res.complete),
            "best_trial": None if res.best is None else res.best.number,
            "selected_trial": None if res.selected is None else res.selected.number, "budget": res.budget,
            "search_seconds": res.seconds, "recipe_seconds": t_recipe, "final_seconds": time.perf_counter() - t0,
            "best_params": res.best_params, "notices": res.notices, "load": [round(load0, 1), round(load_avg(), 1)]}


def run_quality_set(name: str, *, budget: float, seed: int, n_trials: int | None) -> dict:
    """The bundled quality sample at 64 px: today's recipe and the searched CNN on the same test
    images, with the majority class and logistic regression on thumbnails."""
    from core.quality.cli import _baselines
    from core.quality.data import LoadOptions, load_image_dataset, split_indices
    from core.quality.engine import QualityConfig, train_quality
    from core.quality.search import resize_dataset, search_quality

    data = load_image_dataset(ROOT / "sample_data" / "quality_images", options=LoadOptions(image_size=64))
    cfg = QualityConfig(seed=seed)
    load0 = load_avg()
    t0 = time.perf_counter()
    recipe = train_quality(data, config=cfg)
    t_recipe = time.perf_counter() - t0
    search = search_quality(data, cfg, budget=budget, n_trials=n_trials, ensemble=True)
    t0 = time.perf_counter()
    final = (recipe if search.config == cfg and search.image_size == data.image_size
             else train_quality(resize_dataset(data, search.image_size), config=search.config))
    tr, va, _ = split_indices(data.labels, test_size=cfg.test_size, val_size=cfg.val_size, seed=cfg.seed)
    fit = np.r_[tr, va]
    base = _baselines(data.images[fit], data.labels[fit], recipe.test.images, recipe.test.labels, data.class_names)
    pick = ("accuracy", "macro_f1", "roc_auc")
    res = search.result
    from core.quality.search import quality_baseline_proba, quality_ensemble_metrics

    ens = None
    if search.ensemble.get("use"):
        sized = resize_dataset(data, search.image_size)
        ens = quality_ensemble_metrics(final, search.ensemble, quality_baseline_proba(sized, final, search.config))
    tuned = {k: final.metrics[k] for k in pick}
    return {"recipe": {k: recipe.metrics[k] for k in pick}, "tuned": tuned,
            "ensemble": None if ens is None else {k: ens[k] for k in pick},
            "product": tuned if ens is None else {k: ens[k] for k in pick},
            "ensemble_label": search.ensemble.get("label") if ens is not None else None,
            "ensemble_check": search.ensemble.get("validation_scores"),
            **{b: {k: float(m[k]) for k in pick} for b, m in base.items()},
            "trials": len(res.trials), "complete": len(res.complete),
            "best_trial": None if res.best is None else res.best.number,
            "selected_trial": None if res.selected is None else res.selected.number, "budget": res.budget,
            "search_seconds": res.seconds, "recipe_seconds": t_recipe, "final_seconds": time.perf_counter() - t0,
            "best_params": res.best_params, "image_size": search.image_size, "notices": res.notices,
            "load": [round(load0, 1), round(load_avg(), 1)]}


def summarise_other(name: str, row: dict) -> str:
    """One table row per metric for a demand or quality data set."""
    lines = []
    if name in DEMAND:
        for metric, label in (("mae", "MAE of P50 (lower is better)"), ("mase", "MASE")):
            r, t, p = row["recipe"][metric], row["tuned"][metric], row["product"][metric]
            sn, ma = row["seasonal_naive"][metric], row["moving_average"][metric]
            lines.append(f"| {name} | {label} | {r:.3f} | {t:.3f} | {p:.3f} | {sn:.3f} (seasonal naive) | {ma:.3f} "
                         f"(moving average) | {'yes' if p <= min(sn, ma) else 'no'} |")
    else:
        for metric, label in (("accuracy", "accuracy"), ("macro_f1", "macro F1"), ("roc_auc", "ROC-AUC")):
            r, t, p = row["recipe"][metric], row["tuned"][metric], row["product"][metric]
            mj, lr = row["majority_class"][metric], row["logistic_16px"][metric]
            lines.append(f"| {name} | {label} | {r:.3f} | {t:.3f} | {p:.3f} | {mj:.3f} (majority class) | {lr:.3f} "
                         f"(logistic regression, 16 px) | {'yes' if p >= max(mj, lr) else 'no'} |")
    check = row.get("ensemble_check")
    ens = (row["ensemble_label"] if row.get("ensemble_label") else
           "not chosen on validation" if check else "not checked (no trial completed)")
    lines.append(f"|  | recipe kept: {'yes' if row['selected_trial'] in (0, None) else 'no'}; ensemble: {ens}; completed "
                 f"trials {row['complete']}; search {row['search_seconds']:.0f} s of {row['budget']:.0f} s; load "
                 f"average up to {max(row['load']):.1f} |  |  |  |  |  |  |")
    return "\n".join(lines)


OTHER_HEADER = ("| data set | metric | today's recipe | searched network | network or ensemble | baseline 1 | "
                "baseline 2 | network or ensemble >= best baseline |\n|---|---|---|---|---|---|---|---|")


def summarise(name: str, rows: list[dict]) -> str:
    def mean(key, metric):
        vals = [r[key][metric] for r in rows if r.get(key)]
        return (np.mean(vals), np.std(vals)) if vals else (np.nan, np.nan)

    lines = []
    for metric, label in (("roc_auc", "ROC-AUC"), ("pr_auc", "AP")):
        rec, tun, prod = mean("recipe", metric), mean("tuned", metric), mean("product", metric)
        lr, gb = mean("logistic_regression", metric), mean("gradient_boosting", metric)
        best_base = max(lr[0], gb[0])
        verdict = "yes" if prod[0] >= best_base else "no"
        lines.append(f"| {name} | {label} | {rec[0]:.3f} ± {rec[1]:.3f} | {tun[0]:.3f} ± {tun[1]:.3f} | "
                     f"{prod[0]:.3f} ± {prod[1]:.3f} | {lr[0]:.3f} | {gb[0]:.3f} | {verdict} | "
                     f"{noise_verdict(rows, metric)} |")
    ens = sum(1 for r in rows if r.get("ensemble"))
    blends = ", ".join(f"{r['ensemble_with'].replace('_', ' ')} at network weight {r['ensemble_weight']:g}"
                       for r in rows if r.get("ensemble"))
    trials = "/".join(f"{r['complete']}" for r in rows)
    secs = max(r["search_seconds"] for r in rows)
    load = max(max(r["load"]) for r in rows)
    kept = sum(1 for r in rows if r.get("selected_trial") in (0, None))  # None: no trial finished
    lines.append(f"|  | {len(rows)} split(s); recipe kept in {kept}; ensemble chosen in {ens}"
                 f"{f' ({blends})' if blends else ''}; completed trials per "
                 f"split {trials}; "
                 f"longest search {secs:.0f} s of {rows[0]['budget']:.0f} s; load average up to {load:.1f} "
                 "|  |  |  |  |  |  |  |")
    return "\n".join(lines)


def noise_verdict(rows: list[dict], metric: str) -> str:
    """The product against the best baseline on every split's test rows pooled (each row is a test
    row once across the folds), with the app's own rule (core.ml.verdict: a 95 % paired bootstrap
    interval of the difference): better / on par / worse."""
    from core.ml.verdict import compare_binary

    tests = [r["_test"] for r in rows if r.get("_test")]
    if not tests:
        return "n/a"
    y = np.concatenate([t["y"] for t in tests])
    prod = np.concatenate([t["product"] for t in tests])
    base = {b: np.concatenate([t[b] for t in tests]) for b in BASELINES if all(b in t for t in tests)}
    v = compare_binary(y, prod, base, metric=metric)
    return f"{v.outcome} ({v.diff:+.3f}, {v.low:+.3f} to {v.high:+.3f})"


HEADER = ("| data set | metric | today's recipe | searched network | network or ensemble | logistic regression "
          "| gradient boosting | >= best baseline | against the best baseline, pooled test rows (difference, 95 % "
          "interval) |\n|---|---|---|---|---|---|---|---|---|")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="german,taiwan,fraud,credit_sample,fraud_sample")
    ap.add_argument("--budget", type=float, default=120.0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trials", type=int, default=None, help="trial cap (default: budget only)")
    ap.add_argument("--jsonl", help="append one JSON line per split to this file")
    ap.add_argument("--max-splits", type=int, default=None, help="only the first N cross-validation folds")
    args = ap.parse_args()
    print(f"Search budget {args.budget:.0f} s, seed {args.seed}, {os.cpu_count()} CPU core(s)\n", flush=True)
    summaries, others = [], []
    for name in args.datasets.split(","):
        if name in DEMAND or name == "quality_sample":
            row = (run_demand_set if name in DEMAND else run_quality_set)(
                name, budget=args.budget, seed=args.seed, n_trials=args.trials)
            print(f"{name}: " + json.dumps({k: row[k] for k in ("recipe", "tuned", "ensemble", "ensemble_label",
                                                                "ensemble_check", "complete", "best_trial",
                                                                "selected_trial", "search_seconds", "load")}),
                  flush=True)
            if args.jsonl:
                with open(args.jsonl, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"dataset": name, "split": 0, **row}, default=str) + "\n")
            others.append(summarise_other(name, row))
            print("\n" + OTHER_HEADER + "\n" + "\n".join(others) + "\n", flush=True)
            continue
        runner = (run_fraud_set(name, budget=args.budget, seed=args.seed, n_trials=args.trials)
                  if name in ("fraud", "fraud_sample") else
                  run_credit(name, folds=args.folds, budget=args.budget, seed=args.seed, n_trials=args.trials,
                             max_splits=args.max_splits))
        rows = []
        for k, row in runner:
            rows.append(row)
            print(f"{name} split {k}: " + json.dumps({key: row[key] for key in (
                "recipe", "tuned", "ensemble", "logistic_regression", "gradient_boosting", "complete",
                "best_trial", "selected_trial", "search_seconds", "load")}), flush=True)
            if args.jsonl:
                with open(args.jsonl, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps({"dataset": name, "split": k,
                                         **{key: v for key, v in row.items() if key != "_test"}}, default=str) + "\n")
        summaries.append(summarise(name, rows))
        print("\n" + HEADER + "\n" + "\n".join(summaries) + "\n", flush=True)


if __name__ == "__main__":
    main()

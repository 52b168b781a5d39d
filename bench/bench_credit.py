"""Credit benchmark: does the network earn its place, and is the credit page fast enough?

    python bench/bench_credit.py                        # quality (sample, German, Taiwan) + timings
    python bench/bench_credit.py --part quality --datasets german --folds 5
    python bench/bench_credit.py --part timing          # sample data: seconds, memory
    python bench/bench_credit.py --part ablation        # network variants on German (5-fold CV)

Quality: every data set goes through the real pipeline (``core.credit.pipeline.train_credit`` with
``test_df``), which trains the project's network and its logistic regression and gradient
boosting baselines on the same rows; in the same loop a plain Keras script (what a data scientist
writes by hand: one-hot + scaling, Dense 64-128-1, Adam, 10 epochs, batch 32) is trained on the
same training rows and the same feature columns. The sample uses one fixed, seeded 75/25 split
(run over ``--seeds``); German credit (``creditability``, positive = ``bad``) and Taiwan default
(``default.payment.next.month``, positive = 1) use stratified k-fold cross-validation. Sensitive
columns are kept out of every model's features, as the app does by default.

Timing: on the sample data, in one process: training seconds against the plain Keras script,
SHAP for 500 rows, one local explanation, a profit-curve + threshold recompute; peak memory (RSS,
psutil) of a full train + explain in a fresh subprocess. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SHARED = ROOT.parent / "shared" / "datasets" / "credit_scoring"
DATASETS = {
    # name: (path, target, positive)
    "sample": (ROOT / "sample_data" / "credit_applications.csv", "default", 1),
    "german": (SHARED / "german_credit" / "germancredit.csv", "creditability", "bad"),
    "taiwan": (SHARED / "taiwan_default" / "UCI_Credit_Card.csv", "default.payment.next.month", 1),
}
MODELS = {"network": "Keras network (project)", "logistic_regression": "Logistic regression",
          "gradient_boosting": "Gradient boosting", "plain_keras": "Plain Keras script"}
METRICS = ("roc_auc", "pr_auc", "ks", "brier")
# Variants for --part ablation, each a set of overrides of the credit defaults.
VARIANTS = {
    "BatchNorm, batch 256 (before)": dict(batch_norm=True, wide=False, batch_size=256),
    "no BatchNorm, batch 256": dict(batch_norm=False, wide=False, batch_size=256),
    "no BatchNorm, auto batch": dict(batch_norm=False, wide=False, batch_size=None),
    "no BatchNorm, wide, batch 256": dict(batch_norm=False, wide=True, batch_size=256),
    "no BatchNorm, wide, auto batch": dict(batch_norm=False, wide=True, batch_size=None),
    "BatchNorm, wide, auto batch": dict(batch_norm=True, wide=True, batch_size=None),
    "no BatchNorm, auto batch, L2 1e-3": dict(batch_norm=False, wide=False, batch_size=None, l2=1e-3),
    "no BatchNorm, wide, auto batch, L2 1e-3": dict(batch_norm=False, wide=True, batch_size=None, l2=1e-3),
    "no BatchNorm, wide, auto batch, L2 1e-2": dict(batch_norm=False, wide=True, batch_size=None, l2=1e-2),
    "no BatchNorm, wide, auto batch, L2 1e-3, dropout 0.3": dict(batch_norm=False, wide=True, batch_size=None,
                                                               l2=1e-3, dropout=0.3),
    "no BatchNorm, wide, auto batch, width 32, L2 1e-3": dict(batch_norm=False, wide=True, batch_size=None,
                                                            l2=1e-3, width=32),
    "no BatchNorm, auto batch, L2 1e-2": dict(batch_norm=False, wide=False, batch_size=None, l2=1e-2),
    "no BatchNorm, wide, auto batch, L2 1e-2, 80 epochs": dict(batch_norm=False, wide=True, batch_size=None,
                                                             l2=1e-2, epochs=80),
    "no BatchNorm, wide, batch 64, L2 1e-2": dict(batch_norm=False, wide=True, batch_size=64, l2=1e-2),
    "no BatchNorm, wide, batch 128, L2 1e-2": dict(batch_norm=False, wide=True, batch_size=128, l2=1e-2),
    "no BatchNorm, wide, batch 64, L2 1e-2, LR 2e-3": dict(batch_norm=False, wide=True, batch_size=64,
                                                          l2=1e-2, learning_rate=2e-3),
}


def load(name: str) -> tuple[pd.DataFrame, str, object]:
    path, target, positive = DATASETS[name]
    if not path.exists():
        raise FileNotFoundError(f"{name}: {path} not found (see ../shared/datasets/README.md)")
    return pd.read_csv(path), target, positive


def folds(name: str, df: pd.DataFrame, target: str, positive, n_folds: int, seeds: list[int]):
    """(train rows, test rows, seed) per evaluation: a fixed split for the sample, else k-fold CV."""
    from sklearn.model_selection import StratifiedKFold

    from core.credit.pipeline import split_rows

    y = (df[target].astype(str) == str(positive)).to_numpy().astype(int)
    if name == "sample":
        tr, te = split_rows(y, test_size=0.25, seed=0)  # the same split for every seed
        for seed in seeds:
            yield tr, te, seed
        return
    for seed in seeds:
        skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        for tr, te in skf.split(np.zeros(len(y)), y):
            yield tr, te, seed


def train_plain_keras(train: pd.DataFrame, y_train, test: pd.DataFrame, features: list[str],
                      categorical: list[str], seed: int) -> tuple[np.ndarray, float]:
    """The hand-written baseline: one-hot, impute with the mean, standard-scale, Dense 64-128-1."""
    import keras
    from keras import layers
    from sklearn.preprocessing import StandardScaler

    both = pd.get_dummies(pd.concat([train[features], test[features]]), columns=categorical, dtype=float)
    both = both.astype(float)
    Xtr, Xte = both.iloc[: len(train)], both.iloc[len(train):]
    Xtr, Xte = Xtr.fillna(Xtr.mean()).fillna(0), Xte.fillna(Xtr.mean()).fillna(0)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr).astype("float32"), scaler.transform(Xte).astype("float32")
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((Xtr.shape[1],)), layers.Dense(64, activation="relu"),
                              layers.Dense(128, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    t0 = time.perf_counter()
    model.fit(Xtr, np.asarray(y_train, dtype="float32"), epochs=10, batch_size=32, verbose=0)
    seconds = time.perf_counter() - t0
    return model.predict(Xte, batch_size=4096, verbose=0).ravel(), seconds


def evaluate(name: str, n_folds: int, seeds: list[int], overrides: dict | None = None,
             plain: bool = True, baselines: bool = True) -> tuple[pd.DataFrame, dict]:
    """One row per (evaluation, model) with the threshold-free metrics and training seconds."""
    from core.credit.pipeline import default_credit_config, train_credit
    from core.metrics import compute_binary_metrics

    df, target, positive = load(name)
    rows, info = [], {}
    for k, (tr, te, seed) in enumerate(folds(name, df, target, positive, n_folds, seeds)):
        cfg = default_credit_config(seed=seed, **(overrides or {}))
        if not baselines:
            cfg = replace(cfg, baselines=())
        train, test = df.iloc[tr].reset_index(drop=True), df.iloc[te].reset_index(drop=True)
        run = train_credit(train, target=target, positive=positive, config=cfg, test_df=test)
        info = {"rows": len(df), "features": len(run.setup.features), "sensitive": run.setup.sensitive,
                "batch_size": run.tabular.config.batch_size, "default_rate": float(np.mean(run.y_test))}
        for model, m in run.tabular.metrics.items():
            secs = run.timings["train"] if model == "network" else run.timings.get(f"baseline_{model}")
            rows.append({"eval": k, "model": model, **{x: m[x] for x in METRICS}, "seconds": secs,
                         "epochs": len(run.tabular.history.get("loss", [])) if model == "network" else None})
        if plain:
            p, secs = train_plain_keras(run.train_df, run.y_train, run.test_df, run.setup.features,
                                        run.setup.categorical, seed)
            m = compute_binary_metrics(run.y_test, p, 0.5)
            rows.append({"eval": k, "model": "plain_keras", **{x: m[x] for x in METRICS}, "seconds": secs})
        print(f"  {name} eval {k}: " + ", ".join(f"{r['model']} {r['roc_auc']:.4f}" for r in rows
                                                if r["eval"] == k), file=sys.stderr, flush=True)
    return pd.DataFrame(rows), info


def _pm(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.4f} ± {v.std(ddof=1):.4f}" if len(v) > 1 else f"{v.mean():.4f}"


def quality(datasets: list[str], n_folds: int, seeds: list[int]) -> None:
    for name in datasets:
        try:
            res, info = evaluate(name, n_folds, seeds)
        except FileNotFoundError as e:
            print(f"\n{e}; skipped.")
            continue
        how = (f"fixed 75/25 split, seeds {seeds}" if name == "sample"
               else f"{n_folds}-fold stratified CV, seeds {seeds}")
        print(f"\n### {name}: {info['rows']:,} rows, {info['features']} features (sensitive "
              f"{info['sensitive']} excluded), default rate {info['default_rate']:.1%}, {how}; "
              f"network batch {info['batch_size']}\n")
        print("| model | ROC-AUC | PR-AUC | KS | Brier | train s |")
        print("|---|---|---|---|---|---|")
        for model in MODELS:
            r = res[res["model"] == model]
            if len(r):
                print(f"| {MODELS[model]} | " + " | ".join(_pm(r[x]) for x in METRICS)
                      + f" | {r['seconds'].mean():.2f} |")
        net = res[res["model"] == "network"].set_index("eval")["roc_auc"]
        best = max(("logistic_regression", "gradient_boosting"),
                   key=lambda b: res[res["model"] == b]["roc_auc"].mean())
        gap = net - res[res["model"] == best].set_index("eval")["roc_auc"]
        print(f"\nNetwork minus best baseline ({MODELS[best].lower()}), ROC-AUC: {_pm(gap)} "
              f"(target ≥ -0.005: {'met' if gap.mean() >= -0.005 else 'MISSED'}); "
              f"network ahead in {int((gap > 0).sum())} of {len(gap)} evaluations.")


def ablation(datasets: list[str], n_folds: int, seeds: list[int], which: list[int] | None = None) -> None:
    for name in datasets:
        print(f"\n### Network variants on {name} ({'fixed split' if name == 'sample' else f'{n_folds}-fold CV'}, "
              f"seeds {seeds}); logistic regression for reference\n")
        print("| variant | ROC-AUC | PR-AUC | Brier | epochs | train s |")
        print("|---|---|---|---|---|---|")
        lr = None
        for i, (label, over) in enumerate(VARIANTS.items()):
            if which is not None and i not in which:
                continue
            res, _ = evaluate(name, n_folds, seeds, over, plain=False, baselines=lr is None)
            if lr is None:
                lr = res[res["model"] == "logistic_regression"]
            r = res[res["model"] == "network"]
            print(f"| {label} | {_pm(r['roc_auc'])} | {_pm(r['pr_auc'])} | {_pm(r['brier'])} | "
                  f"{r['epochs'].mean():.0f} | {r['seconds'].mean():.2f} |", flush=True)
        print(f"| *logistic regression* | {_pm(lr['roc_auc'])} | {_pm(lr['pr_auc'])} | {_pm(lr['brier'])} | | |")


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def timing() -> None:
    import keras  # noqa: F401  (imported before timing, as the page has it imported by then)

    from core.credit.pipeline import default_credit_config, train_credit
    from core.credit.profit import compute_decision_kpis, compute_profit_curve, find_optimal_threshold

    df, target, _ = load("sample")
    cfg = default_credit_config(seed=0)
    t0 = time.perf_counter()
    run = train_credit(df, target=target, config=cfg)
    total = time.perf_counter() - t0
    _, plain_s = train_plain_keras(run.train_df, run.y_train, run.test_df, run.setup.features,
                                   run.setup.categorical, 0)
    rows = run.test_df.iloc[:500]
    run.explain(rows.iloc[:5])  # warm-up: the first call traces the model
    shap_s = _median_seconds(lambda: run.explain(rows), 3)
    local_s = _median_seconds(lambda: run.explain(rows.iloc[[7]]), 5)
    predict_s = _median_seconds(lambda: run.predict(rows), 5)

    def recompute():
        curve = compute_profit_curve(run.y_test, run.p_test, loss_default=5000, margin_good=1000)
        best = find_optimal_threshold(curve)
        compute_decision_kpis(run.y_test, run.p_test, threshold=best["threshold"], loss_default=5000,
                              margin_good=1000)

    profit_s = _median_seconds(recompute, 20)
    mem = json.loads(subprocess.run([sys.executable, __file__, "--part", "memory-child"], check=True,
                                    capture_output=True, text=True).stdout.strip().splitlines()[-1])
    t = run.timings
    print(f"\n### Speed and memory on the sample data ({len(df):,} rows, {len(run.train_df):,} for training; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    print("| step | measured | target (issue 2) | ratio / note |")
    print("|---|---|---|---|")
    print(f"| network training ({len(run.tabular.history['loss'])} epochs, early stopping, batch "
          f"{run.tabular.config.batch_size}) | {t['train']:.2f} s | < 15 s | {t['train'] / plain_s:.2f}x "
          f"the plain Keras script ({plain_s:.2f} s, 10 epochs, batch 32) |")
    print(f"| whole `train_credit` (preprocess, network, both baselines, scoring) | {total:.2f} s | < 15 s | "
          f"logistic {t['baseline_logistic_regression']:.2f} s, gradient boosting "
          f"{t['baseline_gradient_boosting']:.2f} s |")
    print(f"| SHAP global importance, 500 rows | {shap_s:.2f} s | < 3 s | "
          f"{shap_s / predict_s:.0f}x one prediction of the same 500 rows ({predict_s * 1000:.1f} ms) |")
    print(f"| one local explanation (5 permutations) | {local_s * 1000:.0f} ms | < 500 ms | |")
    print(f"| profit curve + optimal threshold + KPIs ({len(run.y_test):,} test rows) | "
          f"{profit_s * 1000:.1f} ms | < 100 ms | |")
    print(f"| peak memory, fresh process: import, train, explain 500 rows | {mem['peak_mb']:.0f} MB | "
          f"< 1,200 MB | {mem['peak_mb'] / mem['imports_mb']:.2f}x the process after importing "
          f"TensorFlow, pandas and scikit-learn ({mem['imports_mb']:.0f} MB) |")


def memory_child() -> None:
    """Peak RSS of one full credit session, sampled every 20 ms in a thread (printed as JSON)."""
    import psutil

    proc, peak = psutil.Process(), [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    import keras  # noqa: F401
    import sklearn.ensemble  # noqa: F401

    from core.credit.pipeline import default_credit_config, train_credit

    imports = proc.memory_info().rss
    df, target, _ = load("sample")
    run = train_credit(df, target=target, config=default_credit_config(seed=0))
    run.explain(run.test_df.iloc[:500])
    done.set()
    peak[0] = max(peak[0], proc.memory_info().rss)
    print(json.dumps({"peak_mb": peak[0] / 2**20, "imports_mb": imports / 2**20}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=["quality", "timing", "ablation", "all", "memory-child"], default="all")
    ap.add_argument("--datasets", default="sample,german,taiwan", help="comma-separated: sample, german, taiwan")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds (German, Taiwan)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (network seed and CV shuffle)")
    ap.add_argument("--variants", default=None, help="ablation: comma-separated variant numbers (default all)")
    args = ap.parse_args()
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.part == "memory-child":
        return memory_child()
    print(f"Credit benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · "
          f"load average {os.getloadavg()[0]:.1f} at start")
    if args.part == "ablation":
        which = None if args.variants is None else [int(v) for v in args.variants.split(",")]
        return ablation(datasets, args.folds, seeds, which)
    if args.part in ("quality", "all"):
        quality(datasets, args.folds, seeds)
    if args.part in ("timing", "all"):
        timing()


if __name__ == "__main__":
    main()

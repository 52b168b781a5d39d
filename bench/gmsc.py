"""Give Me Some Credit (150,000 real applicants) for bench/bench_credit.py.

``--part gmsc``: the split of ../shared/datasets/credit_scoring/give_me_some_credit/README.md
(stratified 80/20, ``random_state=0``, the row-number column left out; ``age`` stays in the file and
the studio keeps it out of the model as a sensitive attribute, as the README's reference does), written
to two CSVs and trained with every default through ``python -m core train --scenario credit --data
train.csv --test-data test.csv --json --no-explain`` in a fresh process under ``/usr/bin/time -v``
(CPU seconds user + sys, peak memory), once per ``--seeds`` seed (``--seed``), with each model's mean
and spread over the seeds; ``--cli-args "--refit scaled"`` adds options to every run. The README's
reference, scikit-learn ``HistGradientBoostingClassifier(random_state=0)`` on the raw columns, is trained
on the same split.

``--part gmsc-variants``: network settings compared on validation rows cut from the 80 % training
split (stratified 80/20, ``random_state=1``), never on the test rows; one variant at a time, in this
process, with the process's CPU seconds per variant; for several ``--seeds``, each variant's mean, spread
and per-seed difference from the defaults (``--variants 0,...`` keeps the defaults in).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GMSC = ROOT.parent / "shared" / "datasets" / "credit_scoring" / "give_me_some_credit" / "cs-training.csv.zip"
TARGET = "SeriousDlqin2yrs"
# Network settings to compare on validation rows (overrides of the credit defaults).
VARIANTS = {
    "defaults": {},
    "epochs 200": dict(epochs=200),
    "epochs 200, 16 quantile bins": dict(epochs=200, bins=16),
    "epochs 200, 16 bins, LR halved after 3 flat epochs": dict(epochs=200, bins=16, plateau_patience=3),
    "epochs 200, 32 bins, LR halved after 3 flat epochs": dict(epochs=200, bins=32, plateau_patience=3),
    "epochs 200, 16 bins, LR halved, 3 seeds averaged": dict(epochs=200, bins=16, plateau_patience=3, n_models=3),
    "epochs 200, LR halved after 3 flat epochs": dict(epochs=200, plateau_patience=3),
    "epochs 200, 16 bins, 3 seeds averaged": dict(epochs=200, bins=16, n_models=3),
    "epochs 200, 16 bins, batch 512": dict(epochs=200, bins=16, batch_size=512),
    "epochs 200, 16 bins, width 128": dict(epochs=200, bins=16, width=128),
    "epochs 200, 16 bins, dropout 0.1": dict(epochs=200, bins=16, dropout=0.1),
    "epochs 200, 16 bins, patience 12, LR halved after 4 flat epochs": dict(epochs=200, bins=16, patience=12,
                                                                           plateau_patience=4),
    "epochs 200, 16 bins, LR 5e-4": dict(epochs=200, bins=16, learning_rate=5e-4),
    "16 bins, 2 seeds averaged": dict(bins=16, n_models=2),
    "16 bins, 2 seeds averaged, LR halved after 3 flat epochs": dict(bins=16, n_models=2, plateau_patience=3),
    "16 bins, 10 % of the rows for early stopping (not 20 %)": dict(bins=16, val_fraction=0.1),
    "16 bins, 10 % for early stopping, 2 seeds averaged": dict(bins=16, val_fraction=0.1, n_models=2),
    "no refit (the validated network is kept)": dict(refit="off"),
    "refit on every training row for the kept epochs": dict(refit="epochs"),
    "refit on every training row for the kept epochs x the rows' ratio": dict(refit="scaled"),
}


def load_gmsc() -> pd.DataFrame:
    """The zip read as an upload is (``read_table``), without the row-number column."""
    from core.data.datasets import read_table

    if not GMSC.exists():
        raise SystemExit(f"{GMSC} not found (see ../shared/datasets/README.md)")
    df = read_table(GMSC).df
    return df.drop(columns=[c for c in df.columns if not str(c).strip() or str(c).startswith("Unnamed")])


def readme_split(df: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(df, test_size=0.2, stratify=df[TARGET], random_state=seed)
    return tr.reset_index(drop=True), te.reset_index(drop=True)


def reference_hgb(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """The README's reference: HistGradientBoosting on the raw columns, age left out."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score

    cols = [c for c in train.columns if c not in (TARGET, "age")]
    t0, cpu = time.perf_counter(), time.process_time()
    m = HistGradientBoostingClassifier(random_state=0).fit(train[cols], train[TARGET])
    p = m.predict_proba(test[cols])[:, 1]
    return {"roc_auc": roc_auc_score(test[TARGET], p), "pr_auc": average_precision_score(test[TARGET], p),
            "seconds": time.perf_counter() - t0, "cpu": time.process_time() - cpu}


def _time_v(stderr: str) -> dict:
    def grab(label):
        return re.search(label + r": (\S+)", stderr).group(1)

    return {"wall": grab(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\)"),
            "cpu": float(grab("User time \\(seconds\\)")) + float(grab("System time \\(seconds\\)")),
            "peak_mb": int(grab(r"Maximum resident set size \(kbytes\)")) / 1024}


def gmsc(seeds: list[int] | tuple[int, ...] = (0,), cli_args: list[str] | tuple[str, ...] = ()) -> None:
    """The CLI with every default (but ``cli_args``) on the README split, once per seed (``--seed``; 0 is
    the default), then, for several seeds, each model's mean and spread against the README's reference."""
    train, test = readme_split(load_gmsc())
    ref = reference_hgb(train, test)
    summary: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tr_path, te_path = Path(tmp) / "gmsc-train.csv", Path(tmp) / "gmsc-test.csv"
        train.to_csv(tr_path, index=False)
        test.to_csv(te_path, index=False)
        for seed in seeds:
            for k, v in _gmsc_cli(tr_path, te_path, seed, ref, len(train), len(test), cli_args).items():
                summary.setdefault(k, []).append(v)
    if len(seeds) < 2:
        return
    print(f"\n### Give Me Some Credit, README split, CLI defaults{' with ' + ' '.join(cli_args) if cli_args else ''}, "
          f"seeds {list(seeds)}: ROC-AUC mean ± spread "
          "(half the range)\n")
    print("| model | ROC-AUC | minus README reference | per seed | training CPU s (network) |")
    print("|---|---|---|---|---|")
    for k, v in summary.items():
        if k == "network CPU s":
            continue
        a = np.array(v)
        cpu = f"{np.mean(summary['network CPU s']):.0f}" if k.startswith("Keras") else ""
        print(f"| {k} | {a.mean():.4f} ± {(a.max() - a.min()) / 2:.4f} | {a.mean() - ref['roc_auc']:+.4f} | "
              f"{', '.join(f'{x:.4f}' for x in a)} | {cpu} |")
    print(f"| HistGradientBoosting(random_state=0), raw columns (README reference) | {ref['roc_auc']:.4f} | | | |")


def _gmsc_cli(tr_path: Path, te_path: Path, seed: int, ref: dict, n_train: int, n_test: int,
              cli_args=()) -> dict[str, float]:
    """One CLI run with every default but ``--seed`` and ``cli_args``; prints its table, returns each model's
    ROC-AUC."""
    load_before = os.getloadavg()[0]
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "core", "train", "--scenario", "credit",
                           "--data", str(tr_path), "--test-data", str(te_path), "--json", "--no-explain",
                           "--seed", str(seed), *cli_args],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    load_after = os.getloadavg()[0]
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    tv, t, cfg = _time_v(proc.stderr), out["timings"], out["config"]
    refit = f" ({out['refit_epochs']} epochs)" if out.get("refit_epochs") else ""
    extra = "".join(" " + a for a in cli_args)
    print(f"\n### Give Me Some Credit, README split ({n_train:,} training / {n_test:,} test rows, "
          f"default rate {out['data']['default_rate']:.2%}); `python -m core train --scenario credit --data "
          f"gmsc-train.csv --test-data gmsc-test.csv --json --no-explain --seed {seed}{extra}` (defaults), "
          "fresh process; "
          f"load average {load_before:.1f} before, {load_after:.1f} after, {os.cpu_count()} cores\n")
    print(f"Network: width {cfg['width']}, depth {cfg['depth']}, batch {cfg['batch_size']}, L2 {cfg['l2']:.1e}, "
          f"bins {cfg.get('bins', 0)}, networks averaged {cfg.get('n_models', 1)}; {out['epochs_run']} epochs "
          f"run (best {out['best_epoch']}); refit on every training row: {cfg.get('refit', 'off')}{refit}; "
          f"sensitive left out: {out['data']['sensitive']}\n")
    print("| model | ROC-AUC | PR-AUC (AP) | train s (wall) | train CPU s |")
    print("|---|---|---|---|---|")
    net = out["metrics"]
    print(f"| Keras network (studio) | {net['roc_auc']:.4f} | {net['pr_auc']:.4f} | {t['train']:.1f} | "
          f"{t.get('train_cpu', float('nan')):.1f} |")
    scores = {"Keras network (studio)": net["roc_auc"], "network CPU s": t.get("train_cpu", float("nan"))}
    names = {"logistic_regression": "Logistic regression (studio baseline)",
             "gradient_boosting": "HistGradientBoosting (studio baseline)"}
    for k, label in names.items():
        b = out["baselines"].get(k)
        if b:
            scores[label] = b["roc_auc"]
            print(f"| {label} | {b['roc_auc']:.4f} | {b['pr_auc']:.4f} | {t.get(f'baseline_{k}', float('nan')):.1f} | "
                  f"{t.get(f'baseline_{k}_cpu', float('nan')):.1f} |")
    rec = out.get("recommended") or {}
    best = rec["metrics"]["roc_auc"] if rec.get("model") == "ensemble" else net["roc_auc"]
    scores["Recommended model (network, or its blend when chosen on validation)"] = best
    if rec.get("model") == "ensemble":  # the blend chosen on validation rows: what the studio recommends
        rm = rec["metrics"]
        print(f"| Recommended: {rec.get('label', 'ensemble')} | {rm['roc_auc']:.4f} | {rm['pr_auc']:.4f} | – | – |")
    print(f"| HistGradientBoosting(random_state=0), raw columns (README reference) | {ref['roc_auc']:.4f} | "
          f"{ref['pr_auc']:.4f} | {ref['seconds']:.1f} | {ref['cpu']:.1f} |")
    gap = net["roc_auc"] - ref["roc_auc"]
    print(f"\nWhole command: {tv['wall']} wall, {tv['cpu']:.0f} CPU s (user + sys), peak {tv['peak_mb']:,.0f} MB. "
          f"Network minus README reference: {gap:+.4f} ROC-AUC (target ≥ -0.002: "
          f"{'met' if gap >= -0.002 else 'MISSED'}); recommended model ({rec.get('model', 'network')}) "
          f"minus README reference: {best - ref['roc_auc']:+.4f}.", flush=True)
    return scores


def gmsc_variants(which: list[int] | None = None, seeds: list[int] | tuple[int, ...] = (0,)) -> None:
    """Each chosen variant for each seed on the validation rows, then each variant's mean and spread
    over the seeds (and its difference from the defaults on the same seeds)."""
    from core.credit.pipeline import default_credit_config, train_credit

    train, _ = readme_split(load_gmsc())
    fit, val = readme_split(train, seed=1)
    print(f"\n### Network variants on Give Me Some Credit: {len(fit):,} rows to train, {len(val):,} validation "
          f"rows cut from the README's training split (the test split is not used); seeds {list(seeds)}\n")
    print("| variant | seed | ROC-AUC | PR-AUC | epochs (best) | train s | train CPU s | load |")
    print("|---|---|---|---|---|---|---|---|")
    scores: dict[str, dict[int, float]] = {}
    cpus: dict[str, list[float]] = {}
    for seed in seeds:
        hgb = None
        for i, (label, over) in enumerate(VARIANTS.items()):
            if which is not None and i not in which:
                continue
            # Gradient boosting once per seed, with the first variant; no logistic regression.
            cfg = default_credit_config(seed=seed, baselines=() if hgb is not None else ("gradient_boosting",),
                                        ensemble=False, **over)
            run = train_credit(fit, target=TARGET, positive=1, config=cfg, test_df=val)
            m, t = run.tabular.metrics["network"], run.tabular.timings
            hist = run.tabular.history.get("val_fit_loss") or run.tabular.history.get("loss", [])
            best = int(np.argmin(hist)) + 1 if hist else 0
            scores.setdefault(label, {})[seed] = m["roc_auc"]
            cpus.setdefault(label, []).append(t["train_cpu"])
            print(f"| {label} | {seed} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {len(hist)} ({best}) | "
                  f"{t['train']:.0f} | {t['train_cpu']:.0f} | {os.getloadavg()[0]:.1f} |", flush=True)
            if hgb is None and "gradient_boosting" in run.tabular.metrics:
                hgb = run.tabular.metrics["gradient_boosting"]
                scores.setdefault("*HistGradientBoosting (studio baseline)*", {})[seed] = hgb["roc_auc"]
                print(f"| *HistGradientBoosting (studio baseline)* | {seed} | {hgb['roc_auc']:.4f} | "
                      f"{hgb['pr_auc']:.4f} | | {t['baseline_gradient_boosting']:.0f} | "
                      f"{t['baseline_gradient_boosting_cpu']:.0f} | |", flush=True)
    if len(seeds) < 2:
        return
    ref = scores.get("defaults")
    print(f"\n| variant | ROC-AUC mean ± spread (half the range) over seeds {list(seeds)} | minus defaults, per seed "
          "| mean train CPU s |")
    print("|---|---|---|---|")
    for label, by_seed in scores.items():
        v = np.array(list(by_seed.values()))
        diff = (", ".join(f"{by_seed[s] - ref[s]:+.4f}" for s in by_seed if s in ref)
                if ref and label != "defaults" else "")
        cpu = f"{np.mean(cpus[label]):.0f}" if label in cpus else ""
        print(f"| {label} | {v.mean():.4f} ± {(v.max() - v.min()) / 2:.4f} | {diff} | {cpu} |", flush=True)

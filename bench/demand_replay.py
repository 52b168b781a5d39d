"""The Walmart recommendation chosen again from saved runs, no training.

    python bench/bench_demand.py --replay --runs-dir /tmp/walmart_runs

``bench_demand.py --only walmart --seeds N --runs-dir DIR`` writes each seed's command JSON
(``seed_<n>.json``) and the run's validation and test forecasts (``seed_<n>.pkl``). This replays
the recommendation on them: the rule before (the lowest validation WMAE wins, the blend saved) and
the rule now (``core.demand.recommend``: the lowest of the gains outside the validation noise), with each
one's WMAE on the test weeks against seasonal naive. The choice reads validation weeks only; the
test weeks only score it.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace


def _saved_wmae(run, rec: dict) -> tuple[str, float]:
    """What the run would save for ``rec`` and its test WMAE: the blend when chosen, else the network
    (a baseline that wins is named, but the network is still saved)."""
    from core.demand.blend import blend_test_metrics

    if rec["choice"] == "ensemble":
        return rec["label"], float(blend_test_metrics(run, rec["baseline"], rec["weight"])["wmae"])
    return "network", float(run.metrics.loc["Keras quantile network", "wmae"])


def _before(rec: dict) -> dict:
    """The rule before the noise check: the lowest validation score wins, whatever its margin."""
    low = rec.get("lowest")
    if not low:
        return rec
    return {**rec, "choice": low["candidate"], "baseline": low.get("baseline"), "weight": low.get("weight"),
            "label": low["label"]}


def replay(folder: Path) -> list[str]:
    from core.demand.recommend import recommend_forecast

    files = sorted(Path(folder).glob("seed_*.pkl"), key=lambda p: int(p.stem.split("_")[1]))
    if not files:
        return [f"No seed_<n>.pkl in {folder}: run `python bench/bench_demand.py --only walmart --runs-dir {folder}` first."]
    lines = ["| seed | network | rule before: saved | rule now: saved | seasonal naive | validation: candidate − network "
             "(95 % interval, series × weeks) | CPU s | wall s | load (1 min) |", "|---|---|---|---|---|---|---|---|---|"]
    now_all, before_all, nn_all = [], [], []
    for f in files:
        run = SimpleNamespace(**pickle.loads(f.read_bytes()))
        meta = json.loads(f.with_suffix(".json").read_text()) if f.with_suffix(".json").exists() else {}
        sn = float(run.metrics.loc["Seasonal naive", "wmae"])
        nn = float(run.metrics.loc["Keras quantile network", "wmae"])
        rec = recommend_forecast(run)
        b_name, b_wmae = _saved_wmae(run, _before(rec))
        n_name, n_wmae = _saved_wmae(run, rec)
        gap = "; ".join(f"{c['label']}: {c['score'] - rec['validation_scores']['network']:+,.1f} ({c['low']:+,.1f} to "
                        f"{c['high']:+,.1f}){' outside' if c['outside'] else ''}" for c in rec["candidates_checked"]
                        ) or "network lowest"
        load = meta.get("load", [float("nan")] * 2)
        lines.append(f"| {f.stem.split('_')[1]} | {nn:,.0f} ({nn / sn - 1:+.1%}) | {b_name} {b_wmae:,.0f} "
                     f"({b_wmae / sn - 1:+.1%}) | {n_name} {n_wmae:,.0f} ({n_wmae / sn - 1:+.1%}) | {sn:,.0f} | {gap} "
                     f"| {meta.get('cpu_s', '?')} | {meta.get('wall_s', '?')} | {load[0]:.1f} → {load[1]:.1f} |")
        now_all.append(n_wmae / sn - 1)
        before_all.append(b_wmae / sn - 1)
        nn_all.append(nn / sn - 1)
    k = len(files)
    lines += ["", f"- over {k} seed(s), vs seasonal naive: network {min(nn_all):+.1%} … {max(nn_all):+.1%} "
              f"(mean {sum(nn_all) / k:+.1%}); rule before {min(before_all):+.1%} … {max(before_all):+.1%} "
              f"(mean {sum(before_all) / k:+.1%}); rule now {min(now_all):+.1%} … {max(now_all):+.1%} "
              f"(mean {sum(now_all) / k:+.1%}); goal <= -15.0 % in every seed: "
              f"{'yes' if max(now_all) <= -0.15 else 'NO'}"]
    return lines

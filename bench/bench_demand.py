"""Demand forecasting benchmark: the Keras quantile network vs seasonal naive and moving average,
run in the same process on the same backtest. Prints a markdown table and the target checks.

    python bench/bench_demand.py [--epochs N] [--seed N] [--retail N] [--only retail|classic]

Data sets: the bundled sample (23 store x product series, daily; test = last 28 days, plus a
2-origin rolling backtest), ../shared/datasets/demand_forecasting/air_passengers (monthly;
train 1949-1958, test 1959-1960, horizon 24) and a weekly retail chain from
scripts/make_retail_weekly.py (``--retail`` store x department series, default 3,000, with its
store covariates file joined on Store + Date; test = last 39 weeks). The retail case runs in a
child process with the network's default settings, so its peak memory is that of one training
run (data, TensorFlow and model) and nothing else; the machine's load average is printed with it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
AIR = ROOT.parent / "shared" / "datasets" / "demand_forecasting" / "air_passengers" / "airline_passengers.csv"


def _fmt(v, pct=False):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.2f}{' %' if pct else ''}"


def retail_child(n_series: int, seed: int) -> dict:
    """One retail run in this (fresh) process: generate, join, load, train with the defaults."""
    from core.demand.covariates import horizon_covariates, join_covariates
    from core.demand.data import ColumnMap, load_sales
    from core.demand.forecast import DemandConfig, train_demand
    from scripts.make_retail_weekly import make_retail_weekly

    t0 = time.perf_counter()
    gen = make_retail_weekly(n_series, seed=0)
    t1 = time.perf_counter()
    join = join_covariates(gen.sales, gen.features, date_col="Date", series_cols=("Store", "Dept"))
    sales = load_sales(join.frame, ColumnMap("Date", "Weekly_Sales", ("Store", "Dept")))
    future = horizon_covariates(join, ("Store", "Dept"), sales)
    t2 = time.perf_counter()
    run = train_demand(sales, DemandConfig(horizon=39, seed=seed), future_covariates=future)
    t3 = time.perf_counter()
    m = run.metrics
    return {"series": int(gen.sales.groupby(["Store", "Dept"]).ngroups), "rows": int(len(gen.sales)),
            "forecast": len(run.n_train), "excluded": len(run.excluded), "join": join.summary(),
            "metrics": {k: {c: float(v) for c, v in row[["wmae", "mase", "wape", "mae", "coverage_p10_p90"]].items()}
                        for k, row in m.iterrows()},
            "epochs": len(run.history.get("loss", [])), "generate_s": t1 - t0, "join_load_s": t2 - t1,
            "train_demand_s": t3 - t2, "timings": run.timings,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "load": os.getloadavg()}


def retail_case(n_series: int, seed: int) -> list[str]:
    """Markdown lines for the retail case, run in a child process."""
    before = os.getloadavg()
    proc = subprocess.run([sys.executable, __file__, "--retail-child", str(n_series), "--seed", str(seed)],
                          capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    m = r["metrics"]
    sn = m["Seasonal naive"]["wmae"]
    best = min((k for k in m if not k.startswith("Keras")), key=lambda k: m[k]["wmae"])
    lines = [f"Weekly retail chain (scripts/make_retail_weekly.py): {r['series']:,} store x department series, "
             f"{r['rows']:,} rows; {r['forecast']:,} forecast, {r['excluded']:,} too short (left out with the reason). "
             f"Horizon 39 weeks (the last 39 weeks held out), network defaults (seed {seed}).",
             f"Covariates: {r['join']}", "",
             "| method | WMAE (holidays x5) | WMAE vs seasonal naive | MASE | WAPE | P10–P90 coverage |",
             "|---|---|---|---|---|---|"]
    for k, v in m.items():
        lines.append(f"| {k} | {v['wmae']:,.0f} | {v['wmae'] / sn - 1:+.1%} | {v['mase']:.3f} | {v['wape']:.1f} % "
                     f"| {v['coverage_p10_p90']:.1f} % |")
    nn = m["Keras quantile network"]["wmae"]
    lines += ["", f"- WMAE {1 - nn / sn:.1%} better than seasonal naive (goal >= 15 %: "
              f"{'yes' if nn <= 0.85 * sn else 'NO'}); best baseline {best} {m[best]['wmae']:,.0f} "
              f"(network better: {'yes' if nn < m[best]['wmae'] else 'NO'})",
              f"- train_demand {r['train_demand_s']:.1f} s (goal < 300 s; windows {r['timings']['prepare']:.1f} s, "
              f"fit {r['timings']['train']:.1f} s over {r['epochs']} epochs, backtest + forecast "
              f"{r['timings']['backtest']:.1f} s); join + load {r['join_load_s']:.1f} s; "
              f"peak memory {r['peak_mb']:,.0f} MB (goal < 2,048)",
              f"- load average before / after: {before[0]:.1f} / {r['load'][0]:.1f} on {os.cpu_count()} cores"]
    return lines


def main() -> int:
    from core.demand.data import ColumnMap, load_sales
    from core.demand.forecast import DemandConfig, train_demand

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1, help="also train with this many extra seeds and report the spread")
    ap.add_argument("--retail", type=int, default=3000, help="store x department series in the retail case (0: skip)")
    ap.add_argument("--only", choices=("retail", "classic"), default=None, help="run one part only")
    ap.add_argument("--retail-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.retail_child:
        print(json.dumps(retail_child(args.retail_child, args.seed)))
        return 0
    if args.retail and args.only != "classic":
        print("\n".join(retail_case(args.retail, args.seed)))
        print()
    if args.only == "retail":
        return 0
    sample = pd.read_csv(ROOT / "sample_data" / "demand_sales.csv")
    cases = [("sample, daily, H=28, 1 origin", sample, ColumnMap("date", "units", ("store", "product")), 28, 1),
             ("sample, daily, H=14, 3 origins", sample, ColumnMap("date", "units", ("store", "product")), 14, 3)]
    if AIR.exists():
        cases.append(("air passengers, monthly, H=24", pd.read_csv(AIR), ColumnMap("Month", "Passengers"), 24, 1))
    else:
        print(f"(air passengers not found at {AIR}; skipped)")
    rows, checks, spreads = [], [], []
    for name, df, cmap, horizon, origins in cases:
        sales = load_sales(df, cmap)
        t0 = time.perf_counter()
        # The app's defaults (early stopping patience 6), so the timing is what a planner waits.
        run = train_demand(sales, DemandConfig(horizon=horizon, origins=origins, epochs=args.epochs, seed=args.seed))
        wall = time.perf_counter() - t0
        sn_mae = run.metrics.loc["Seasonal naive", "mae"]
        for method, m in run.metrics.iterrows():
            rows.append({"data set": name, "method": method, "MAE": _fmt(m["mae"]), "RMSE": _fmt(m["rmse"]),
                         "MAPE": _fmt(m["mape"], True), "sMAPE": _fmt(m["smape"], True),
                         "WAPE": _fmt(m["wape"], True), "MASE": _fmt(m["mase"]),
                         "MAE / seasonal naive": _fmt(m["mae"] / sn_mae),
                         "P10–P90 coverage": _fmt(m["coverage_p10_p90"], True),
                         "train s": f"{run.timings['train']:.1f}" if method.startswith("Keras") else ""})
        nn = run.metrics.iloc[0]
        if args.seeds > 1:
            extra = [train_demand(sales, DemandConfig(horizon=horizon, origins=origins, epochs=args.epochs,
                                                      seed=args.seed + k)).metrics.iloc[0] for k in range(1, args.seeds)]
            allm = pd.DataFrame([nn, *extra])
            spreads.append(f"- {name}, seeds {args.seed}..{args.seed + args.seeds - 1}: " + ", ".join(
                f"{c} {allm[c].min():.3g}–{allm[c].max():.3g}" for c in ("mase", "mape", "wape", "coverage_p10_p90")))
        checks.append(f"- {name}: MASE {nn['mase']:.3f} (< 1: {'yes' if nn['mase'] < 1 else 'NO'}); "
                      f"MAE {nn['mae'] / sn_mae:.0%} of seasonal naive; coverage {nn['coverage_p10_p90']:.1f} % "
                      f"(70–90: {'yes' if 70 <= nn['coverage_p10_p90'] <= 90 else 'NO'}); "
                      f"training {run.timings['train']:.1f} s ({len(run.history['loss'])} epochs), "
                      f"whole run {wall:.1f} s" + (f"; MAPE {nn['mape']:.2f} % (< 6: {'yes' if nn['mape'] < 6 else 'NO'})"
                                                  if name.startswith("air") else ""))
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    print()
    print("Targets:")
    print("\n".join(checks))
    if spreads:
        print()
        print("Network spread over seeds (min–max):")
        print("\n".join(spreads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

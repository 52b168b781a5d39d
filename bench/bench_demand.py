"""Demand forecasting benchmark: the Keras quantile network vs seasonal naive and moving average,
run in the same process on the same backtest. Prints a markdown table and the target checks.

    python bench/bench_demand.py [--epochs N] [--seed N]

Data sets: the bundled sample (23 store x product series, daily; test = last 28 days, plus a
2-origin rolling backtest) and ../shared/datasets/demand_forecasting/air_passengers (monthly;
train 1949-1958, test 1959-1960, horizon 24).
"""

from __future__ import annotations

import argparse
import math
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


def main() -> int:
    from core.demand.data import ColumnMap, load_sales
    from core.demand.forecast import DemandConfig, train_demand

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1, help="also train with this many extra seeds and report the spread")
    args = ap.parse_args()
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

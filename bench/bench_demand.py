"""Demand forecasting benchmark: the Keras quantile network vs seasonal naive and moving average,
run in the same process on the same backtest. Prints a markdown table and the target checks.

    python bench/bench_demand.py [--epochs N] [--seed N] [--seeds N] [--retail N]
        [--only walmart|retail|classic] [--walmart PATH] [--lag-observed] [--runs-dir DIR]
    python bench/bench_demand.py --only walmart --seeds 3 --runs-dir /tmp/walmart_runs   # seeds 0, 1, 2
    python bench/bench_demand.py --replay --runs-dir /tmp/walmart_runs   # the recommendation again, no training

Walmart (real data, ../shared/datasets/demand_forecasting/walmart_weekly): the command a planner
runs, ``python -m core train --scenario demand --data train.csv.zip --covariates-file features.csv
--horizon 39 --json``, in a child process with every other setting at its default; the last 39
weeks of every series are the test. It prints the holiday-weighted MAE (WMAE) of the network, of
the forecast the run recommends (the network, or its blend with a baseline when that was better on
the validation weeks) and of every baseline, with bias, P10–P90 coverage, the training and whole-run
seconds, the child's CPU seconds and peak memory, and the load average. The zip is read directly
when the table reader can; otherwise it is extracted to a temporary folder outside the repository.

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
WALMART = ROOT.parent / "shared" / "datasets" / "demand_forecasting" / "walmart_weekly"


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


def _walmart_sales(path: Path, tmp: str) -> Path:
    """The sales file to pass: the zip itself when the table reader reads it, else its CSV extracted to ``tmp``."""
    from core.data.datasets import read_table
    from core.errors import DataValidationError

    if path.suffix.lower() != ".zip":
        return path
    try:
        read_table(path, max_rows=5)
        return path
    except DataValidationError:
        import zipfile

        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist() if n.lower().endswith(".csv"))
            z.extract(name, tmp)
        return Path(tmp) / name


def _run_child(argv: list[str], dump: Path | None = None) -> tuple[dict, dict]:
    """Run ``python -m core ...`` in a child process; its JSON and its own resource use (CPU, peak memory).
    With ``dump``, the child is the same command line in this file's ``--walmart-child`` mode, which also
    writes the run's validation and test forecasts to ``dump`` (``replay`` re-reads them)."""
    before = os.getloadavg()
    t0 = time.perf_counter()
    cmd = ([sys.executable, "-m", "core", *argv] if dump is None
           else [sys.executable, __file__, "--walmart-child", str(dump), "--", *argv])
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{err[-3000:]}")
    res = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Children's resource use so far: the peak is the largest child's (one run at a time).
    return json.loads(out.strip().splitlines()[-1]), {"wall": wall, "load": (before[0], os.getloadavg()[0]),
                                                       "children": res}


# What the recommendation reads from a run (core.demand.recommend) and what scores a blend on the test weeks.
RUN_FIELDS = ("val_actual", "val_quantiles", "val_weight", "val_baselines", "val_sid", "val_origin", "n_train",
              "holiday_col", "backtest", "metrics")


def walmart_child(dump: Path, argv: list[str]) -> int:
    """``python -m core <argv>`` in this process, writing the trained run's validation and test forecasts
    (``RUN_FIELDS``) to ``dump`` (a pickle) as soon as ``train_and_decide`` returns."""
    import pickle

    from core.cli import main as cli_main
    from core.demand import service

    trained = service.train_and_decide

    def keep(*a, **k):
        outcome = trained(*a, **k)
        with open(dump, "wb") as f:
            pickle.dump({name: getattr(outcome.run, name, None) for name in RUN_FIELDS}, f)
        return outcome

    service.train_and_decide = keep
    return cli_main(argv)


OBSERVED = ("Temperature", "Fuel_Price", "CPI", "Unemployment")  # measured with the sales, not planned


def walmart_case(path: Path, seed: int, *, lag_observed: bool = False, runs_dir: Path | None = None) -> list[str]:
    """Markdown lines for the real Walmart file through the command line, with the defaults a user gets
    (``lag_observed``: the observed covariates through their past values only, ``--lag-column``).
    ``runs_dir``: also write ``seed_<n>.json`` (the command's JSON with the run's CPU, wall, load and peak)
    and ``seed_<n>.pkl`` (its validation and test forecasts, for ``--replay``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="walmart-") as tmp:
        data = _walmart_sales(path, tmp)
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if runs_dir is not None:
            runs_dir.mkdir(parents=True, exist_ok=True)
        out, info = _run_child(["train", "--scenario", "demand", "--data", str(data), "--covariates-file",
                                str(WALMART / "features.csv"), "--horizon", "39", "--seed", str(seed), "--json",
                                *(a for c in (OBSERVED if lag_observed else ()) for a in ("--lag-column", c))],
                               dump=None if runs_dir is None else runs_dir / f"seed_{seed}.pkl")
        cpu1 = info["children"]
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    peak = cpu1.ru_maxrss / 1024
    if runs_dir is not None:
        (runs_dir / f"seed_{seed}.json").write_text(json.dumps(
            {"seed": seed, "cpu_s": round(cpu, 1), "wall_s": round(info["wall"], 1), "load": info["load"],
             "peak_rss_mb": round(peak), "cores": os.cpu_count(), "out": out}, default=str))
    rows = {"Keras quantile network": out["metrics"], "seasonal naive (value 52 weeks before)":
            out["baselines"]["seasonal_naive"], "moving average": out["baselines"]["moving_average"]}
    rec = out.get("recommended")
    if rec and rec.get("use"):
        rows[f"recommended: {rec['label']}"] = rec["test_metrics"]
    sn = rows["seasonal naive (value 52 weeks before)"]["wmae"]
    lines = [f"Walmart weekly ({data.name}{' extracted from ' + path.name if data != path else ''}): "
             f"{out['data']['series']:,} store x department series, {out['n_series']:,} forecast, "
             f"{len(out['excluded']):,} too short; last 39 weeks held out; the defaults a user gets (seed {seed})"
             + (f", with {', '.join(OBSERVED)} through their past values only (--lag-column)." if lag_observed else "."),
             "", "| method | WMAE (holiday weeks x5) | vs seasonal naive | bias | P10–P90 coverage | MASE | WAPE |",
             "|---|---|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['wmae']:,.0f} | {m['wmae'] / sn - 1:+.1%} | {m['bias_pct']:+.1f} % | "
                     f"{m['coverage_p10_p90']:.1f} % | {m['mase']:.3f} | {m['wape']:.1f} % |")
    nn = rows["Keras quantile network"]["wmae"]
    best = min((k for k in rows if not k.startswith(("Keras", "recommended"))), key=lambda k: rows[k]["wmae"])
    t = out["timings"]
    lines += ["", f"- network WMAE {1 - nn / sn:.1%} below seasonal naive (goal >= 15 %: "
              f"{'yes' if nn <= 0.85 * sn else 'NO'}); below every baseline: {'yes' if nn < rows[best]['wmae'] else 'NO'}",
              f"- training (train_demand: windows, fit, backtest, forecast) {t['total']:.1f} s, fit {t['train']:.1f} s "
              f"({out.get('epochs_run', '?')} epochs); whole command {info['wall']:.1f} s; goal < 300 s",
              f"- child CPU {cpu:.0f} s (user + sys); peak memory (max RSS) {peak:,.0f} MB (goal < 2,048)",
              f"- load average (1 min) before / after: {info['load'][0]:.1f} / {info['load'][1]:.1f} on {os.cpu_count()} cores"]
    noise = (rec or {}).get("noise")
    if noise:  # the challenger on the validation weeks, and whether its gain was outside the noise
        lines.append(f"- recommended (saved): {rec.get('label')}; validation {rec['metric'].upper()} {noise['challenger']} "
                     f"minus network {noise['difference']:+,.1f}, 95 % interval {noise['low']:+,.1f} to "
                     f"{noise['high']:+,.1f} (series and weeks redrawn): {'outside' if noise['outside'] else 'inside'} "
                     "the noise")
    if rec and rec.get("saved") == "ensemble" and rec.get("validation_coverage_p10_p90"):
        vc = rec["validation_coverage_p10_p90"]  # intervals of the saved blend: the network's, shifted with P50
        lines.append(f"- saved forecast: {rec['label']}; P10–P90 coverage on the validation weeks: network "
                     f"{vc['network']:.1f} %, saved blend {vc['ensemble']:.1f} %; on the test weeks: network "
                     f"{rows['Keras quantile network']['coverage_p10_p90']:.1f} %, saved blend "
                     f"{rec['test_metrics']['coverage_p10_p90']:.1f} %")
    roles = (out.get("leakage") or {}).get("roles") or []
    if roles:  # which covariates the leakage audit let the network read for the forecast week itself
        by = {}
        for r in roles:
            by.setdefault(r.get("role", "?"), []).append(str(r.get("column")))
        lines.append("- covariates (leakage audit): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in by.items()))
    return lines


def main() -> int:
    from core.demand.data import ColumnMap, load_sales
    from core.demand.forecast import DemandConfig, train_demand

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1, help="train with this many seeds from --seed (Walmart: one run "
                    "each; the classic cases report the spread)")
    ap.add_argument("--retail", type=int, default=3000, help="store x department series in the retail case (0: skip)")
    ap.add_argument("--only", choices=("walmart", "retail", "classic"), default=None, help="run one part only")
    ap.add_argument("--walmart", default=str(WALMART / "train.csv.zip"), help="the Walmart sales file (zip or CSV)")
    ap.add_argument("--lag-observed", action="store_true",
                    help="Walmart: temperature, fuel price, CPI and unemployment through their past values only")
    ap.add_argument("--runs-dir", type=Path, default=None, help="Walmart: write each seed's JSON and its validation "
                    "and test forecasts here (seed_<n>.json, seed_<n>.pkl), for --replay")
    ap.add_argument("--replay", action="store_true", help="Walmart: the recommendation of each seed in --runs-dir "
                    "chosen again from its saved forecasts, no training")
    ap.add_argument("--retail-child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--walmart-child", type=Path, default=None, help=argparse.SUPPRESS)
    if "--walmart-child" in sys.argv:  # python bench_demand.py --walmart-child DUMP -- <python -m core argv>
        cut = sys.argv.index("--")
        return walmart_child(Path(sys.argv[sys.argv.index("--walmart-child") + 1]), sys.argv[cut + 1:])
    args = ap.parse_args()
    if args.replay:
        if args.runs_dir is None:
            raise SystemExit("--replay reads the runs saved with --runs-dir DIR: pass the same --runs-dir.")
        from bench.demand_replay import replay

        print("\n".join(replay(args.runs_dir)))
        return 0
    if args.retail_child:
        print(json.dumps(retail_child(args.retail_child, args.seed)))
        return 0
    if args.only in (None, "walmart"):
        if Path(args.walmart).exists():
            for seed in range(args.seed, args.seed + args.seeds):
                print("\n".join(walmart_case(Path(args.walmart), seed, lag_observed=args.lag_observed,
                                             runs_dir=args.runs_dir)), flush=True)
                print()
        else:
            print(f"(Walmart file not found at {args.walmart}; skipped)")
        print()
    if args.only == "walmart":
        return 0
    if args.retail and args.only in (None, "retail"):
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

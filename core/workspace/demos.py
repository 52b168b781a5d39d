"""Run all four demos: train every scenario on its bundled sample with fast settings and save it.

``run_all_demos`` is what the overview's "Run all four demos" button calls. Each scenario trains on
its sample data with few epochs, picks its decision the way the page's "use the optimal ..."
button would (profit-optimal threshold, cost-optimal review threshold, cheapest reject threshold,
a standard inventory policy), and is saved as a run with the workspace summary. One scenario
failing does not stop the others: its error is collected and reported.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import DataValidationError
from core.scenarios import ROOT
from core.workspace.summary import SCENARIO_KEYS

SAMPLES = {
    "credit": ROOT / "sample_data" / "credit_applications.csv",
    "fraud": ROOT / "sample_data" / "fraud_transactions.csv.gz",
    "demand": ROOT / "sample_data" / "demand_sales.csv",
    "quality": ROOT / "sample_data" / "quality_images",
}
# Rough share of the total time each demo takes, so one progress bar moves evenly.
WEIGHTS = {"credit": 0.2, "fraud": 0.35, "demand": 0.25, "quality": 0.2}

ProgressFn = Callable[[str, float, str], None]


@dataclass(frozen=True)
class DemoSettings:
    """Fast demo settings. The ``*_limit`` fields shrink the samples (tests; tiny servers)."""

    epochs: int = 8
    seed: int = 0
    shap_rows: int = 150
    credit_rows: int | None = None  # applications kept (seeded sample)
    fraud_customers: int | None = None  # customers kept, with all their transactions
    demand_series: int | None = None  # first N series kept
    quality_images: int | None = None  # images kept (stratified by class)
    image_size: int = 48
    # Decision assumptions: the same defaults the scenario pages open with.
    loss_default: float = 5000.0
    margin_good: float = 1000.0
    review_fee: float = 5.0
    cost_escape: float = 50.0
    cost_false_reject: float = 2.0

    def validate(self) -> "DemoSettings":
        if not 1 <= int(self.epochs) <= 200:
            raise DataValidationError(f"Demo epochs must be between 1 and 200; got {self.epochs}. Fix: use e.g. 8.")
        return self


@dataclass
class DemoReport:
    """Where each demo run was saved, and the error of each demo that failed."""

    saved: dict[str, Path] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _demo_name(scenario: str) -> str:
    return f"{scenario} demo · sample data"


def _new_path(root: Path, scenario: str) -> Path:
    from core.registry import new_run_id

    return root / new_run_id(scenario)


# ---------------------------------------------------------------- one demo per scenario
def demo_credit(root: Path, s: DemoSettings, progress: Callable[[float, str], None]) -> Path:
    from core.credit.persist import save_credit_run
    from core.credit.pipeline import default_credit_config, train_credit
    from core.credit.profit import compute_profit_curve, find_optimal_threshold
    from core.datasets import read_table
    from core.workspace.summary import build_credit_summary

    progress(0.0, "Reading the loan applications")
    df = read_table(SAMPLES["credit"]).df
    if s.credit_rows and len(df) > s.credit_rows:
        df = df.sample(n=s.credit_rows, random_state=s.seed).reset_index(drop=True)
    config = default_credit_config(epochs=s.epochs, seed=s.seed)
    run = train_credit(df, target="default", config=config,
                       progress=lambda e, n, _l: progress(0.1 + 0.6 * e / n, f"Epoch {e} of {n}"))
    progress(0.75, "Explaining test applicants with SHAP")
    shap = run.explain(run.test_df.iloc[: s.shap_rows]) if s.shap_rows else None
    best = find_optimal_threshold(compute_profit_curve(run.y_test, run.p_test, loss_default=s.loss_default,
                                                       margin_good=s.margin_good))
    threshold = round(best["threshold"], 3)
    summary = build_credit_summary(run, name=_demo_name("credit"), threshold=threshold,
                                   loss_default=s.loss_default, margin_good=s.margin_good, data=df,
                                   dataset_name=SAMPLES["credit"].name, shap=shap)
    progress(0.95, "Saving the run")
    return save_credit_run(run, _new_path(root, "credit"), threshold=threshold, extra_metadata=summary)


def demo_fraud(root: Path, s: DemoSettings, progress: Callable[[float, str], None]) -> Path:
    from core.datasets import read_table
    from core.fraud.columns import make_columns
    from core.fraud.decisions import compute_cost_curve, get_optimal_threshold
    from core.fraud.persist import save_fraud_run
    from core.fraud.pipeline import FRAUD_TABULAR, NETWORK, FraudConfig, explain_run, run_fraud
    from core.workspace.summary import build_fraud_summary

    progress(0.0, "Reading the transaction log")
    df = read_table(SAMPLES["fraud"], max_rows=None).df
    cols = make_columns(df)
    if s.fraud_customers and cols.customer:
        # Whole customers, never random rows: history windows need every transaction of a card.
        keep = df[cols.customer].drop_duplicates().sample(frac=1.0, random_state=s.seed).iloc[: s.fraud_customers]
        df = df[df[cols.customer].isin(set(keep))].reset_index(drop=True)
    config = FraudConfig(tabular=replace(FRAUD_TABULAR, epochs=s.epochs, seed=s.seed))
    run = run_fraud(df, cols, config=config,
                    progress=lambda e, n, _l: progress(0.2 + 0.5 * e / n, f"Epoch {e} of {n}"),
                    status=lambda m: progress(0.1, m))
    progress(0.75, "Explaining the riskiest transactions with SHAP")
    ex = explain_run(run, top_alerts=20, global_rows=min(s.shap_rows, 100), seed=s.seed) if s.shap_rows else None
    test = run.test
    curve = compute_cost_curve(test["label"], test[f"score_{NETWORK}"], test["amount"], review_fee=s.review_fee)
    review = round(float(min(get_optimal_threshold(curve)["threshold"], 1.0)), 3)
    summary = build_fraud_summary(run, name=_demo_name("fraud"), review_threshold=review,
                                  block_threshold=max(0.9, review), review_fee=s.review_fee, data=df,
                                  dataset_name=SAMPLES["fraud"].name, explanations=ex)
    progress(0.95, "Saving the run")
    return save_fraud_run(run, root, extra_metadata=summary)


def demo_demand(root: Path, s: DemoSettings, progress: Callable[[float, str], None]) -> Path:
    from core.datasets import read_table
    from core.demand.data import guess_columns, load_sales
    from core.demand.export import save_demand_run
    from core.demand.forecast import DemandConfig, train_demand
    from core.demand.inventory import PolicyParams
    from core.workspace.summary import build_demand_summary

    progress(0.0, "Reading the sales history")
    df = read_table(SAMPLES["demand"]).df
    cmap = guess_columns(df)
    if s.demand_series and cmap.series:
        ids = df[list(cmap.series)].drop_duplicates().iloc[: s.demand_series]
        df = df.merge(ids, on=list(cmap.series)).reset_index(drop=True)
    sales = load_sales(df, cmap)
    horizon = {"daily": 28, "weekly": 8, "monthly": 12}[sales.frequency]
    run = train_demand(sales, DemandConfig(horizon=horizon, origins=1, epochs=s.epochs, seed=s.seed),
                       progress=lambda e, n, _l: progress(0.1 + 0.75 * e / n, f"Epoch {e} of {n}"))
    lead = min(7, max(0, horizon - 1))
    params = PolicyParams(lead_time=lead, review_period=max(1, min(7, horizon - lead)))
    summary = build_demand_summary(run, name=_demo_name("demand"), params=params, data=df,
                                   dataset_name=SAMPLES["demand"].name)
    progress(0.95, "Saving the run")
    return save_demand_run(run, root, params, extra_metadata=summary)


def demo_quality(root: Path, s: DemoSettings, progress: Callable[[float, str], None]) -> Path:
    from core.quality.data import LoadOptions, load_image_dataset
    from core.quality.engine import QualityConfig, train_quality
    from core.quality.evaluate import compute_cost_analysis, get_defect_labels, get_defect_scores
    from core.quality.export import save_quality_run
    from core.workspace.summary import build_quality_summary

    progress(0.0, "Loading the sample images")
    data = load_image_dataset(SAMPLES["quality"], options=LoadOptions(image_size=s.image_size))
    if s.quality_images and len(data.labels) > s.quality_images:
        rng = np.random.default_rng(s.seed)
        frac = s.quality_images / len(data.labels)
        idx = np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[: max(8, round(frac * n))]
                              for c, n in enumerate(np.bincount(data.labels))])
        data = data.subset(np.sort(idx))
    run = train_quality(data, config=QualityConfig(epochs=s.epochs, seed=s.seed),
                        progress=lambda e, n, _l: progress(0.1 + 0.8 * e / n, f"Epoch {e} of {n}"))
    threshold = 0.5
    if run.ok_class is not None:
        cost = compute_cost_analysis(get_defect_labels(run.test.labels, run.class_names, run.ok_class),
                                     get_defect_scores(run.test_proba, run.class_names, run.ok_class),
                                     cost_escape=s.cost_escape, cost_false_reject=s.cost_false_reject)
        threshold = round(cost.best_threshold, 2)
    summary = build_quality_summary(run, name=_demo_name("quality"), threshold=threshold,
                                    cost_escape=s.cost_escape, cost_false_reject=s.cost_false_reject, data=data,
                                    dataset_name=SAMPLES["quality"].name)
    progress(0.95, "Saving the run")
    return save_quality_run(root, run, threshold=threshold, extra_metadata=summary,
                            costs={"escape": s.cost_escape, "false_reject": s.cost_false_reject})


DEMOS = {"credit": demo_credit, "fraud": demo_fraud, "demand": demo_demand, "quality": demo_quality}


def run_all_demos(root=None, *, settings: DemoSettings = DemoSettings(), scenarios=SCENARIO_KEYS,
                  progress: ProgressFn | None = None) -> DemoReport:
    """Train and save every scenario in ``scenarios`` on its sample; never stops at a failure.

    ``progress(scenario, fraction, message)`` gets the overall fraction done (0 to 1) across all
    demos. Errors are collected in the report, as the message a page can show.
    """
    from core.workspace import get_runs_dir

    settings = settings.validate()
    unknown = [x for x in scenarios if x not in DEMOS]
    if unknown:
        raise DataValidationError(f"Demos exist for {', '.join(DEMOS)}; got {unknown}. "
                                  "Fix: pass scenario keys from that list.")
    root = get_runs_dir(root)
    say = progress or (lambda *_a: None)
    total = sum(WEIGHTS[x] for x in scenarios) or 1.0
    report, done = DemoReport(), 0.0
    for key in scenarios:
        share = WEIGHTS[key] / total
        start = done
        reached = [0.0]  # stages report out of order (status lines between epochs): never go back

        def step(frac: float, message: str, key=key, start=start, share=share, reached=reached) -> None:
            reached[0] = max(reached[0], min(max(frac, 0.0), 1.0))
            say(key, min(1.0, start + share * reached[0]), message)

        t0 = time.perf_counter()
        try:
            report.saved[key] = DEMOS[key](root, settings, step)
            step(1.0, "Saved")
        except Exception as exc:  # one failing demo is reported, the others still run
            msg = str(exc) if isinstance(exc, DataValidationError) else f"{type(exc).__name__}: {exc}"
            report.errors[key] = msg
            traceback.print_exc()  # for the server log; the page shows ``msg`` only
            step(1.0, f"Failed: {msg}")
        report.seconds[key] = round(time.perf_counter() - t0, 2)
        done = start + share
    say("", 1.0, "All demos finished" if report.ok else f"{len(report.errors)} demo(s) failed")
    return report

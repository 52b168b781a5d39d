"""What each scenario is, in the analyst's words: titles, summaries, data formats, pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ScenarioSpec:
    key: str
    title: str
    icon: str
    question: str
    summary: str
    data_format: str
    page: str
    # A bundled "next month" file (made by the sample script, with mild drift) that the Score page
    # and the drift view can use without the user bringing a file; None where there is none.
    sample_batch: str | None = None

    @property
    def sample_batch_path(self) -> Path | None:
        """The bundled new-data sample, if this scenario has one and it is on disk."""
        path = ROOT / self.sample_batch if self.sample_batch else None
        return path if path is not None and path.exists() else None

    @property
    def available(self) -> bool:
        """A scenario is offered once both its page and its engine package exist."""
        return (ROOT / self.page).exists() and (ROOT / "core" / self.key / "cli.py").exists()


SCENARIOS: dict[str, ScenarioSpec] = {
    s.key: s
    for s in (
        ScenarioSpec(
            "credit", "Credit scoring", ":material/credit_score:",
            "Which applicants will repay, and where should the approval line be?",
            "Trains a Keras network against logistic regression and gradient boosting on loan "
            "applications; turns scores into scorecard points, grades, a profit-optimal approval "
            "threshold, reason codes for declines, fairness checks and drift (PSI).",
            "CSV or Parquet, one row per application, a binary outcome column (e.g. default).",
            "pages/credit.py",
            "sample_data/credit_new_month.csv",
        ),
        ScenarioSpec(
            "fraud", "Fraud detection", ":material/policy:",
            "Which card transactions should the team review or block today?",
            "Engineers customer and terminal history features from a raw transaction log without "
            "leakage, compares imbalance strategies, sets an alert policy by capacity and cost, and "
            "builds an explained alert queue.",
            "CSV or Parquet transaction log: timestamp, amount, optional customer and terminal ids, fraud label.",
            "pages/fraud.py",
            "sample_data/fraud_new_month.csv.gz",
        ),
        ScenarioSpec(
            "demand", "Demand forecasting", ":material/trending_up:",
            "How much will each store sell, and when should it reorder?",
            "One global Keras model forecasts every store × product series with P10/P50/P90 "
            "intervals, backtested against seasonal-naive and moving-average baselines, and turns "
            "the quantiles into safety stock and reorder points.",
            "CSV or Parquet: date, quantity, optional series ids (store, product) and covariates.",
            "pages/demand.py",
        ),
        ScenarioSpec(
            "quality", "Quality inspection", ":material/center_focus_strong:",
            "Which parts coming off the line are defective, and why does the model think so?",
            "Trains a CNN on labelled product images, sets the reject threshold by the cost of "
            "escapes versus false rejects, and shows Grad-CAM and SHAP heatmaps for every image.",
            "A zip with one folder per class, or images plus a labels CSV.",
            "pages/quality.py",
        ),
    )
}

"""Plain names for everything a person reads: metrics, models and the analyst's own columns.

One place, used by the pages, the charts and the model card, so ``roc_auc`` is "ROC-AUC" and
``credit_utilisation`` is "Credit utilisation" everywhere, with the raw name kept for hover text.
"""

from __future__ import annotations

import re

# Metric keys as the engine computes them -> the name a reader knows, and one line of meaning.
METRICS: dict[str, tuple[str, str]] = {
    "roc_auc": ("ROC-AUC", "Chance that a random positive is ranked above a random negative (0.5 = guessing, 1 = perfect)."),
    "pr_auc": ("PR-AUC", "Average precision over all recall levels; the honest ranking score when positives are rare."),
    "ks": ("KS statistic", "Largest gap between the score distributions of positives and negatives."),
    "gini": ("Gini", "2 x ROC-AUC - 1: the scorecard industry's name for ranking power."),
    "brier": ("Brier score", "Mean squared error of the predicted probabilities (lower is better)."),
    "precision": ("Precision", "Share of flagged cases that are really positive."),
    "recall": ("Recall", "Share of real positives that are flagged."),
    "f1": ("F1 score", "Harmonic mean of precision and recall."),
    "accuracy": ("Accuracy", "Share of all cases classified correctly."),
    "threshold": ("Threshold", "Probability at or above which a case is flagged."),
    "macro_f1": ("Macro F1", "F1 averaged over classes, each class counting the same."),
    "mae": ("MAE", "Mean absolute error, in units."),
    "rmse": ("RMSE", "Root mean squared error, in units."),
    "mape": ("MAPE", "Mean absolute percentage error; shown only where no actual is near zero."),
    "wape": ("WAPE", "Total absolute error as a share of total demand."),
    "mase": ("MASE", "Error relative to the in-sample seasonal naive forecast (below 1 beats it)."),
    "wmae": ("Holiday-weighted MAE", "MAE with holiday weeks weighted 5, as retail competitions score it."),
    "bias": ("Bias", "Mean forecast minus mean actual, as a share of the actual (positive = over-forecast)."),
    "coverage": ("P10–P90 coverage", "Share of actuals inside the P10–P90 interval (target about 80 %)."),
    "coverage_80": ("P10–P90 coverage", "Share of actuals inside the P10–P90 interval (target about 80 %)."),
    "pinball": ("Pinball loss", "Quantile loss averaged over P10, P50 and P90."),
    "psi": ("PSI", "Population stability index: < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted."),
    "positive_rate": ("Flagged share", "Share of cases at or above the threshold."),
    "prevalence": ("Positive share", "Share of cases that are really positive."),
    "tp": ("True positives", "Positives flagged at the threshold."),
    "fp": ("False positives", "Negatives flagged at the threshold."),
    "tn": ("True negatives", "Negatives left alone at the threshold."),
    "fn": ("False negatives", "Positives missed at the threshold."),
    "bias_pct": ("Bias (%)", "Total forecast minus total actual, as a percentage of the actual (positive = over-forecast)."),
    "coverage_p10_p90": ("P10–P90 coverage (%)", "Percentage of actuals inside the P10–P90 interval (target about 80 %)."),
    "smape": ("sMAPE", "Symmetric mean absolute percentage error."),
    "log_loss": ("Log loss", "Cross-entropy of the predicted probabilities (lower is better)."),
    "average_precision": ("Average precision", "Precision averaged over recall levels; same as PR-AUC here."),
    "tpr": ("TPR", "True positive rate: share of actual defaulters the rule declines."),
    "fpr": ("FPR", "False positive rate: share of good applicants the rule declines."),
    "di_ratio": ("DI ratio", "Disparate impact: a group's approval rate over the best group's (below 0.80 fails the four-fifths rule)."),
    "cramers_v": ("Cramér's V", "Strength of the link between two columns, 0 = none, 1 = one fixes the other."),
    "pdo": ("PDO", "Points to double the odds: how many scorecard points make good : bad odds twice as high."),
    "newsvendor": ("Newsvendor ratio", "Stock-out cost / (stock-out + holding cost): the service level that balances the two."),
}

# Training and decision settings as saved with a run -> the name a reader knows.
SETTINGS: dict[str, str] = {
    "imbalance": "Imbalance handling", "width": "Units per layer", "depth": "Hidden layers",
    "dropout": "Dropout", "l2": "L2 penalty", "learning_rate": "Learning rate", "epochs": "Epochs (at most)",
    "batch_size": "Batch size", "seed": "Random seed", "val_fraction": "Validation share",
    "val_size": "Validation share", "test_size": "Test share", "patience": "Early-stopping patience",
    "baselines": "Baselines", "threshold_rule": "Threshold rule", "batch_norm": "Batch normalisation",
    "wide": "Wide & deep (linear skip)", "scaling": "Numeric scaling", "test_rows": "Test rows",
    "bins": "Quantile bins per numeric column", "plateau_patience": "Epochs before halving the learning rate",
    "n_models": "Networks averaged",
    "train_rows": "Training rows", "threshold": "Threshold", "review_threshold": "Review threshold",
    "block_threshold": "Block threshold", "model_threshold": "Model's own threshold (its threshold rule)",
    "review_fee": "Cost of a review", "loss_default": "Loss per default",
    "margin_good": "Margin per good loan", "base_score": "Base score", "base_odds": "Base odds",
    "pdo": "Points to double the odds", "grade_cuts": "Grade cut-offs", "train_start": "Training from",
    "test_start": "Test from", "gap_days": "Gap before the test (days)", "drop_known_cards": "Drop known compromised cards",
    "k": "Alerts per day (k)", "use_extra_columns": "Use extra columns", "auto_batch": "Batch scaled with rows",
    "windows": "History windows (days)", "delay_days": "Label delay (days)", "spending_ratios": "Spending ratios",
    "horizon": "Forecast horizon", "input_len": "Input window", "origins": "Backtest origins",
    "step": "Periods between origins", "max_windows": "Training windows (at most)", "frequency": "Frequency",
    "service_level": "Service level", "lead_time": "Lead time (periods)", "review_period": "Review period (periods)",
    "holding_cost": "Holding cost per unit", "stockout_cost": "Stock-out cost per unit",
    "aggregate_sigma_scale": "Aggregate error scale", "backbone": "Image model", "backbone_used": "Image model used",
    "image_size": "Image size (px)", "augment": "Augmentation", "search_budget": "Search budget (s)",
    "scorecard": "Scorecard", "features": "Features", "tabular": "Network", "events": "Events",
    "cost_escape": "Cost of an escaped defect", "cost_false_reject": "Cost of a false reject",
    "ok_class": "Good-part class", "rule": "Decision rule", "channels": "Colour channels",
    "filters": "Filters per convolution block", "model": "Model", "task": "Task",
}
# Metrics that are shares of cases (shown as percentages).
# (Demand keeps WAPE, bias and coverage in percent already.)
SHARE_METRICS = frozenset({"positive_rate", "prevalence", "approval_rate"})
# Settings that are amounts of money (shown with the currency).
MONEY_SETTINGS = frozenset({"review_fee", "loss_default", "margin_good", "holding_cost", "stockout_cost",
                            "cost_escape", "cost_false_reject"})

MODELS: dict[str, str] = {
    "network": "Keras network",
    "nn": "Keras network",
    "logistic_regression": "Logistic regression",
    "gradient_boosting": "Gradient boosting",
    "seasonal_naive": "Seasonal naive",
    "moving_average": "Moving average",
    "ensemble": "Ensemble (network + best baseline)",
}

# Columns of the tables the studio itself builds (alert queues, predictions, scored files, column
# checks) -> the header a reader sees and one line of meaning. Columns of the analyst's own data are
# not listed: ``column_label`` turns them into words and the raw name goes in the hover text.
COLUMNS: dict[str, tuple[str, str]] = {
    "rank": ("Rank", "1 = the riskiest alert."),
    "time": ("Time", "When the transaction happened."),
    "customer": ("Customer", "Customer (card) id from the log."),
    "terminal": ("Terminal", "Terminal (merchant) id from the log."),
    "amount": ("Amount", "Transaction amount."),
    "label": ("Fraud (true outcome)", "1 = the transaction was fraud. Known here because this is the test period."),
    "risk": ("Risk", "The network's fraud score, 0 to 1."),
    "top_reasons": ("Top reasons", "The features that raised this transaction's risk most (SHAP)."),
    "decision": ("Decision", "The decision at the thresholds set above."),
    "transactions": ("Transactions", ""),
    "applicants": ("Applicants", ""),
    "share": ("Share", "Share of the scored rows."),
    "amount_at_stake": ("Amount at stake", "Sum of the transaction amounts in this band."),
    "known_fraud": ("Known frauds", "Frauds in this band, where the file holds the outcome."),
    "mean_probability_of_default": ("Mean probability of default", ""),
    "probability_of_default": ("Probability of default", "The network's probability that the loan defaults."),
    "score_points": ("Score points", "Scorecard points: higher is safer."),
    "grade": ("Grade", "Risk grade from the scorecard points."),
    "series": ("Series", "One store × product combination."),
    "step": ("Step", "Periods after the last date in the history (1 = the next period)."),
    "date": ("Date", ""),
    "p10": ("P10", "Demand is below this in 10 % of cases."),
    "p50": ("P50 (median)", "The median forecast: the plan figure."),
    "p90": ("P90", "Demand is below this in 90 % of cases."),
    "demand_over_protection": ("Demand over lead time + review", "P50 demand over the lead time plus review period."),
    "safety_stock": ("Safety stock", "Stock held above the expected demand to reach the service level."),
    "reorder_point": ("Reorder point", "Order when stock on hand and on order falls to this."),
    "expected_cost_per_period": ("Expected cost per period", "Holding plus stock-out cost at this policy."),
    "demand_protection": ("Demand over lead time + review", "P50 demand over the lead time plus review period."),
    "sigma_protection": ("Spread (σ)", "Spread of demand over the lead time plus review period, from P10–P90."),
    "expected_short": ("Expected units short", "Units a period is expected to miss at this policy."),
    "expected_cost": ("Expected cost per period", "Holding plus stock-out cost at this policy."),
    "naive_safety_stock": ("Naive: safety stock", "The same policy from the seasonal naive forecast."),
    "naive_reorder_point": ("Naive: reorder point", "The same policy from the seasonal naive forecast."),
    "naive_expected_cost": ("Naive: expected cost per period", "The same policy from the seasonal naive forecast."),
    "naive_p50": ("Seasonal naive", "The same period last season."),
    "method": ("Method", ""),
    "on_hand": ("Stock on hand", "The file's latest stock on hand for the series."),
    "order_quantity": ("Order quantity", "Reorder point minus stock on hand (0 when above it)."),
    "file": ("File", "Image file name."),
    "actual": ("Actual class", "The class of the image's folder or file name."),
    "predicted": ("Predicted class", "The most likely class."),
    "confidence": ("Confidence", "Probability of the predicted class."),
    "p_defect": ("P(defect)", "Probability that the part is defective (every class but the good one)."),
    "verdict": ("Verdict", ""),
    "column": ("Column", "Column name in the file."),
    "kind": ("Kind", "What the model reads from the column."),
    "expected": ("Expected", "What the model reads from the column."),
    "status": ("Status", ""),
    "detail": ("Detail", ""),
    "feature": ("Feature", ""),
    "description": ("What it measures", ""),
    "support": ("Images", "Test images of this class."),
    "roc_auc_low": ("ROC-AUC low", "Lower end of the 95 % bootstrap interval."),
    "roc_auc_high": ("ROC-AUC high", "Upper end of the 95 % bootstrap interval."),
}

# How those columns read: money in the currency, whole units (counts, stock), shares as %, units of
# demand with one decimal, probabilities with three.
MONEY_COLUMNS = frozenset({"amount", "amount_at_stake", "fraud_amount", "expected_cost_per_period", "expected_cost"})
WHOLE_COLUMNS = frozenset({"rank", "transactions", "applicants", "known_fraud", "fraud", "score_points", "safety_stock",
                           "reorder_point", "order_quantity", "on_hand", "support", "images", "step"})
SHARE_COLUMNS = frozenset({"share", "share_of_all_fraud", "prevalence", "positive_rate"})
UNIT_COLUMNS = frozenset({"p10", "p50", "p90", "demand_over_protection"})
PROBABILITY_COLUMNS = frozenset({"probability_of_default", "mean_probability_of_default", "risk", "confidence",
                                 "p_defect"})


def column_kind(name) -> str | None:
    """"money", "whole", "share", "unit" or "probability" for the studio's own columns, else None."""
    raw = str(name)
    for kind, names in (("money", MONEY_COLUMNS), ("whole", WHOLE_COLUMNS), ("share", SHARE_COLUMNS),
                        ("unit", UNIT_COLUMNS), ("probability", PROBABILITY_COLUMNS)):
        if raw in names:
            return kind
    return "probability" if raw.startswith("p_") and len(raw) > 2 else None

_AT_K = re.compile(r"^(card_)?precision_at_(\d+)(_per_day)?$")
# Words kept in capitals when a column name is turned into words.
_ACRONYMS = {"id", "ids", "psi", "cpi", "sku", "roi", "dti", "ltv", "apr", "gdp", "usd", "eur", "gbp", "vat",
             "ip", "url", "pd", "lgd", "ead", "ks", "mae", "mape", "wape", "mase", "auc", "roc", "tx"}


def metric_label(key: str) -> str:
    """``roc_auc`` -> "ROC-AUC"; ``card_precision_at_100`` -> "Card precision@100"; unknown keys
    become words ("val_loss" -> "Val loss")."""
    k = str(key)
    if k in METRICS:
        return METRICS[k][0]
    m = _AT_K.match(k)
    if m:
        return f"{'Card precision' if m.group(1) else 'Precision'}@{m.group(2)}{' per day' if m.group(3) else ''}"
    return feature_label(k)


def metric_help(key: str) -> str:
    """One line saying what a metric means ("" for unknown keys)."""
    k = str(key)
    if k in METRICS:
        return METRICS[k][1]
    m = _AT_K.match(k)
    if m:
        what = "cards" if m.group(1) else "transactions"
        return f"Share of the {m.group(2)} riskiest {what}{' each day' if m.group(3) else ''} that are really fraudulent."
    return ""


def model_label(key: str) -> str:
    """``logistic_regression`` -> "Logistic regression"."""
    return MODELS.get(str(key), feature_label(str(key)))


def feature_label(name) -> str:
    """A column name as words: ``credit_utilisation`` -> "Credit utilisation", ``NumberOfDependents``
    -> "Number of dependents", ``TX_AMOUNT`` -> "TX amount", ``MarkDown1`` -> "Mark down 1"."""
    raw = str(name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", raw)  # camelCase -> camel Case
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)  # HTTPServer -> HTTP Server
    text = re.sub(r"([A-Za-z])(\d)", r"\1 \2", text)  # MarkDown1 -> MarkDown 1
    text = re.sub(r"(\d)-(\d)", "\\1\u2013\\2", text)  # 30-59 days -> 30–59 days
    words = [w for w in re.split(r"[_\s\-.]+", text) if w]
    if not words:
        return raw
    out = []
    for i, w in enumerate(words):
        low = w.lower()
        if low in _ACRONYMS or (w.isupper() and len(w) <= 3 and not w.isdigit()):
            out.append(w.upper())
        else:
            out.append(low.capitalize() if i == 0 else low)
    return " ".join(out)


def setting_label(key) -> str:
    """``learning_rate`` -> "Learning rate"; dotted keys of nested settings read as "Scorecard: base
    score"; unknown keys become words."""
    parts = str(key).split(".")
    names = [SETTINGS.get(p) or feature_label(p) for p in parts]
    if len(names) == 1:
        return names[0]
    return f"{': '.join(names[:-1])}: {names[-1][:1].lower() + names[-1][1:] if not names[-1][:2].isupper() else names[-1]}"


def is_money_setting(key) -> bool:
    """Whether a (possibly dotted) setting key holds an amount of money."""
    return str(key).split(".")[-1] in MONEY_SETTINGS


def rename_metrics(columns) -> dict[str, str]:
    """A ``DataFrame.rename(columns=...)`` mapping from metric keys to plain names."""
    return {c: metric_label(c) for c in columns}


def column_label(name) -> str:
    """The header a reader sees for a table column: the studio's own columns from ``COLUMNS``
    (``top_reasons`` -> "Top reasons"), class probabilities as "P(scratch)", metric keys as metric
    names, anything else (the analyst's columns) as words."""
    raw = str(name)
    if raw in COLUMNS:
        return COLUMNS[raw][0]
    if raw in METRICS:
        return METRICS[raw][0]
    if raw.startswith("p_") and len(raw) > 2:
        return f"P({raw[2:]})"
    m = re.fullmatch(r"reason_(\d+)", raw)
    if m:
        return f"Reason {m.group(1)}"
    return feature_label(raw)


def column_help(name) -> str:
    """Hover text for a column header: what a studio column means, and the raw name wherever the
    header differs from it (so an analyst can find the column in the file or the download)."""
    raw = str(name)
    meaning = (COLUMNS.get(raw) or METRICS.get(raw) or ("", ""))[1]
    if raw.startswith("p_") and raw not in COLUMNS and len(raw) > 2:
        meaning = f"Probability of class {raw[2:]}."
    if column_label(raw) == raw:
        return meaning
    return f"{meaning} Column `{raw}`.".strip()


# ---------------------------------------------------------------- values as a person reads them
# Metric keys of the quality scenario's and the fraud scenario's saved tables.
METRICS.update({
    "macro_precision": ("Macro precision", "Precision averaged over classes, each class counting the same."),
    "macro_recall": ("Macro recall", "Recall averaged over classes, each class counting the same."),
    "n_test": ("Test cases", "Cases in the held-out test data."),
    "defect_recall": ("Defect recall", "Share of defective parts rejected."),
    "defect_precision": ("Defect precision", "Share of rejected parts that are really defective."),
    "escape_rate": ("Escape rate", "Share of defective parts that pass."),
    "false_reject_rate": ("False-reject rate", "Share of good parts rejected."),
    "reject_rate": ("Reject rate", "Share of all parts rejected."),
    "defect_roc_auc": ("Defect ROC-AUC", "ROC-AUC of P(defect) against defective / good."),
    "defect_pr_auc": ("Defect PR-AUC", "PR-AUC of P(defect) against defective / good."),
    "escapes": ("Escapes", "Defective test parts the model passes."),
    "false_rejects": ("False rejects", "Good test parts the model rejects."),
    "caught": ("Defects caught", "Defective test parts the model rejects."),
})
# Metrics shown as a percentage (shares of cases) and as whole counts; demand's errors in units and
# its percentages (kept in percent by the engine) have their own formats.
PERCENT_METRICS = SHARE_METRICS | {"reject_rate", "escape_rate", "false_reject_rate", "defect_recall", "bad_rate",
                                   "flagged_rate", "share_of_fraud_amount_caught"}
COUNT_METRICS = frozenset({"tp", "fp", "tn", "fn", "n_test", "escapes", "false_rejects", "caught", "support", "alerts",
                           "frauds", "epochs", "trial"})
_METRIC_FORMATS = {"mae": "{:,.1f}", "rmse": "{:,.1f}", "wmae": "{:,.1f}", "pinball": "{:,.2f}", "mase": "{:.2f}",
                   "wape": "{:.1f} %", "smape": "{:.1f} %", "mape": "{:.1f} %", "bias_pct": "{:+.1f} %",
                   "coverage_p10_p90": "{:.0f} %", "train_s": "{:,.1f} s", "seconds": "{:,.1f} s"}
BLANK = "—"  # an empty cell, as every table shows it


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and abs(v) != float("inf") else None


def is_blank(value) -> bool:
    """None, NaN, NaT or an empty string: a cell with nothing to show."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    try:
        return bool(value != value)  # NaN / NaT
    except (TypeError, ValueError):
        return False


def metric_text(key, value) -> str:
    """A metric value as a reader sees it: shares as % (``positive_rate`` 0.01125 -> "1.1%"), counts
    as whole numbers with separators, errors in units with one decimal, scores with three decimals;
    "—" when missing."""
    if is_blank(value):
        return BLANK
    v = _number(value)
    if v is None:
        return str(value)
    k = str(key).split(".")[-1]
    if k in PERCENT_METRICS:
        return f"{v:.1%}"
    if k in COUNT_METRICS or k.startswith("n_"):
        return f"{v:,.0f}"
    if k in _METRIC_FORMATS:
        return _METRIC_FORMATS[k].format(v)
    return f"{v:.3f}"


# Saved option values -> plain words.
OPTION_VALUES: dict[str, dict[str, str]] = {
    "backbone": {"cnn": "Small CNN trained from scratch", "mobilenetv2": "MobileNetV2 pretrained on ImageNet"},
    "threshold_rule": {"f1": "Best F1 score on the validation rows"},
    "scaling": {"standard": "Standardised (mean 0, spread 1)", "quantile": "Quantile (robust to outliers)"},
    "image_size": {"auto": "Auto (fits the time budget)", "native": "Native (the images' own size)"},
}
OPTION_VALUES["backbone_used"] = OPTION_VALUES["backbone"]
SHARE_SETTINGS = frozenset({"val_fraction", "val_size", "test_size", "service_level"})
THRESHOLD_SETTINGS = frozenset({"threshold", "review_threshold", "block_threshold"})


def imbalance_label(method) -> str:
    """``class_weight`` -> "Class weights", the names the fraud strategy comparison uses."""
    from core.data.imbalance import IMBALANCE_METHODS

    return IMBALANCE_METHODS.get(str(method), str(method)).split(":")[0]


def image_size_text(size) -> str:
    """``64`` -> "64×64" (pixels); "auto" / "native" as words."""
    v = _number(size)
    if v is not None and v == int(v):
        return f"{int(v)}×{int(v)}"
    return OPTION_VALUES["image_size"].get(str(size), str(size))


def setting_text(key, value, currency: str | None = None) -> str:
    """A saved setting's value as a reader sees it: money in ``currency`` (an ISO code such as
    "EUR"), "Yes" / "No" for switches, option values in words ("Class weights" for
    ``class_weight``), image sizes as 64×64, shares as %, thresholds with three decimals and "—"
    when missing. ``key`` may be dotted (``tabular.imbalance``)."""
    from core.present.money import DEFAULT_CURRENCY, format_money

    k = str(key).split(".")[-1]
    if is_blank(value):
        return BLANK
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if k in MONEY_SETTINGS and _number(value) is not None:
        return format_money(value, currency or DEFAULT_CURRENCY)
    if k == "imbalance":
        return imbalance_label(value)
    if k == "image_size":
        return image_size_text(value)
    if k == "baselines" and isinstance(value, str):
        return ", ".join(model_label(b.strip()) for b in value.split(",") if b.strip())
    if k == "rule" and isinstance(value, str):
        text = value.replace(">=", "≥").replace("<=", "≤")
        for raw in sorted(THRESHOLD_SETTINGS, key=len, reverse=True):
            text = re.sub(rf"\b{raw}\b", SETTINGS[raw].lower(), text)
        return text
    if isinstance(value, str):
        return OPTION_VALUES.get(k, {}).get(value, value)
    if isinstance(value, dict):
        return " · ".join(f"{a}: {setting_text(a, b, currency)}" for a, b in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(setting_text(k, v, currency) for v in value) or BLANK
    v = _number(value)
    if v is None:
        return str(value)
    if k in SHARE_SETTINGS:
        return f"{v:.0%}" if round(v * 100, 6) == int(round(v * 100)) else f"{v:.1%}"
    if k in THRESHOLD_SETTINGS:
        return f"{v:.3f}"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.4g}"


# The model search's saved record and trial table.
SETTINGS.update({
    "search": "Model search", "budget_seconds": "Budget (s)", "seconds": "Time taken (s)",
    "trials_run": "Trials run", "trials_complete": "Trials complete", "trials_pruned": "Trials pruned",
    "best_trial": "Best trial", "best_validation_score": "Best validation score",
    "recipe_validation_score": "Today's recipe's score", "metric": "Scored on", "ensemble": "Ensemble",
    "tail_quantile": "Tail quantiles", "median_weight": "Weight of P50 in the loss", "n_layers": "Hidden layers",
    "units": "Units per layer",
})
COLUMNS.update({
    "trial": ("Trial", "Trial number; trial 0 is today's recipe."),
    "state": ("State", "Complete, pruned (stopped early as unpromising), stopped at the budget, or failed."),
    "seconds": ("Seconds", "Training time of the trial."),
    "epochs": ("Epochs", "Epochs the trial trained."),
})

"""The model card reads like a product: money with the run's currency, options and switches in
words, metrics formatted as elsewhere, and a dash (never "None") in empty cells."""

from __future__ import annotations

import html
import re

import pandas as pd

from core.present.card import frame_table, metrics_table, run_currency, settings_table
from core.present.glossary import metric_text, setting_text
from core.workspace.report import build_report_html
from tests.workspace.run_factory import make_run, workspace_meta


def _cells(page: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", page)]


def test_setting_values_in_words():
    assert setting_text("tabular.imbalance", "class_weight") == "Class weights"
    assert setting_text("imbalance", "smote").startswith("SMOTE")
    assert setting_text("augment", True) == "Yes" and setting_text("wide", False) == "No"
    assert setting_text("loss_default", 5000.0, "USD") == "$5,000"
    assert setting_text("review_fee", 2.5) == "€2.50"  # the studio's default currency
    assert setting_text("image_size", 64) == "64×64"
    assert setting_text("val_fraction", 0.2) == "20%"
    assert setting_text("service_level", 0.975) == "97.5%" and setting_text("holding_cost", 0.35) == "€0.35"
    assert setting_text("threshold", 0.8050677) == "0.805"
    assert setting_text("test_rows", 1250) == "1,250"
    assert setting_text("baselines", "logistic_regression, gradient_boosting") == "Logistic regression, Gradient boosting"
    assert setting_text("rule", "review when risk >= review_threshold") == "review when risk ≥ review threshold"
    assert setting_text("grade_cuts", None) == "—"


def test_metric_values_formatted():
    assert metric_text("positive_rate", 0.01125) == "1.1%"
    assert metric_text("roc_auc", 0.78123) == "0.781"
    assert metric_text("n_test", 200.0) == "200"
    assert metric_text("wape", 23.41) == "23.4 %"
    assert metric_text("pr_auc", float("nan")) == "—"


def test_run_currency_from_saved_figures():
    ws = workspace_meta(name="r", auc=0.7)
    assert run_currency({"workspace": ws}) == "EUR"  # saved with "€" figures
    ws["headline"]["impact"][0]["unit"] = "£"
    assert run_currency({"workspace": ws}) == "GBP"
    assert run_currency({"workspace": {**ws, "currency": "usd"}}) == "USD"
    assert run_currency({}) == "EUR"
    assert "$4,321" in settings_table({"loss_default": 4321.0}, currency="USD")


def test_tables_show_a_dash_for_blanks():
    table = frame_table(pd.DataFrame({"a": [1.5, None], "b": ["x", float("nan")]}, index=["r1", "r2"]))
    assert "None" not in table and "nan" not in table and _cells(table).count("—") == 2
    m = metrics_table(pd.DataFrame({"roc_auc": [0.81234], "positive_rate": [0.01125], "tp": [12.0]},
                                   index=pd.Index(["Keras network"], name="Model")))
    assert _cells(m) == ["Model", "ROC-AUC", "Flagged share", "True positives", "Keras network", "0.812", "1.1%", "12"]


def test_card_sections_read_as_words(tmp_path):
    ws = workspace_meta(name="credit weights", auc=0.71, imbalance="class_weight")
    ws["params"].update({"batch_norm": True, "val_fraction": 0.2, "grade_cuts": None})
    ws["headline"]["impact"][0]["unit"] = "£"  # a run saved in pounds keeps them on its card
    path = make_run(tmp_path, "credit-words", workspace=ws, extra={"metrics": {
        "network": {"roc_auc": 0.71234, "positive_rate": 0.01125}}})
    cells = _cells(build_report_html(path))
    text = " | ".join(cells)
    assert "class_weight" not in text and "Class weights" in text
    assert "£4,321" in cells and "£987" in cells  # decision settings: loss per default, margin per good loan
    assert "Yes" in cells and "20%" in cells and "1.1%" in cells and "0.712" in cells
    assert "True" not in cells and "None" not in cells and "0.01125" not in text

"""The runs list's lines as the Runs page shows them: they fit a 1280-px window without cutting a figure."""

from __future__ import annotations

from ui.workspace import LIST_WIDTH, get_list_records, shorten_middle


def _row(name="credit smote", trust="none", saved="2026-12-06 18:09", rows=321, **kw):
    return {"run_id": kw.get("run_id", "credit-1"), "name": name, "scenario": kw.get("scenario", "credit"),
            "saved": saved, "quality": kw.get("quality", "ROC-AUC 0.780"),
            "impact": kw.get("impact", "Loss avoided €5,678"), "trust": trust, "rows": rows}


def test_shorten_middle_keeps_start_and_end():
    assert shorten_middle("short", 10) == "short"
    out = shorten_middle("credit · credit_applications_2026_q3_branch_export.csv", 30)
    assert len(out) == 30 and out.startswith("credit · credit") and out.endswith("export.csv") and "…" in out


def test_records_fit_the_list_width_and_mark_flagged_runs():
    long = "credit · credit_applications_2026_q3_branch_export_from_the_north_region.csv"
    rows = [_row(name=long, trust="No better than chance", run_id="credit-2"),
            _row(saved="not recorded", rows=None, scenario="fraud", impact="Escape cost prevented €1,300"),
            _row(scenario="somebody-elses")]
    records, widths = get_list_records(rows)
    assert list(widths) == ["run", "scenario", "saved", "quality", "impact"]
    assert sum(widths.values()) + 40 <= LIST_WIDTH  # 40: the row's checkbox
    # Money and quality columns hold their longest entry whole (about 6 px a character, with padding).
    assert widths["impact"] >= 6 * len("Escape cost prevented €1,300")
    first, second, third = records
    assert first["run"].startswith("⚠ credit") and first["run"].endswith(".csv") and "…" in first["run"]
    assert len(first["run"]) < len(long) and first["name"] == long  # the full name rides along
    assert first["trust"] == "⚠ No better than chance" and second["trust"] == "none"
    assert first["saved"].strftime("%d %H:%M") == "06 18:09" and second["saved"] is None
    assert (first["rows"], second["rows"]) == ("321", "—")
    assert (first["scenario"], second["scenario"], third["scenario"]) == ("Credit", "Fraud", "somebody-elses")
    assert first["run_id"] == "credit-2"

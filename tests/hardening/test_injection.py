"""Column names and cells holding HTML, script, Markdown or spreadsheet formulas are shown and
exported as text: in the pages' messages, in the model card and in every CSV the studio writes."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from core.data.safety import escape_formula_cells, escape_markdown, safe_csv_bytes, short_list

FORMULA = '=HYPERLINK("http://x","y")'
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
MD_IMAGE = "![x](http://127.0.0.1:9/track.png)"
HOSTILE = [FORMULA, IMG, SCRIPT, MD_IMAGE, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({
        FORMULA: HOSTILE[:6],
        "amount": [-1.5, 2.0, -3.25, np.nan, 0.0, 1e9],
        "count": np.array([-3, 1, 2, 3, 4, 5], dtype=np.int64),
        "flag": [True, False, True, False, True, False],
        "when": pd.date_range("2024-01-01", periods=6),
        "kind": pd.Categorical(["=a", "b", "@c", "b", "b", "=a"]),
        "plain": ["ok", None, "fine", "a-b", "x=1", "email@x.org"],
    })


def _cells(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8"))))


# ---------------------------------------------------------------- CSV export
def test_formula_text_is_quoted_and_numbers_stay_numbers():
    df = _hostile_frame()
    out = escape_formula_cells(df)
    assert list(out.columns)[0] == "'" + FORMULA
    assert out.iloc[:, 0].tolist() == ["'" + v if v[0] in "=+-@\t\r" else v for v in HOSTILE[:6]]
    assert out["kind"].tolist() == ["'=a", "b", "'@c", "b", "b", "'=a"]
    assert out["plain"].tolist()[0] == "ok" and out["plain"].isna().tolist()[1]
    assert out["plain"].tolist()[3:] == ["a-b", "x=1", "email@x.org"]  # only a leading sign counts
    for c in ("amount", "count", "flag", "when"):
        pd.testing.assert_series_equal(out[c], df[c])
    assert df.columns[0] == FORMULA and df.iloc[0, 0] == FORMULA  # the original is untouched


def test_written_csv_has_no_cell_a_spreadsheet_would_run():
    rows = _cells(safe_csv_bytes(_hostile_frame()))
    assert all(not cell or cell[0] not in "=+@\t\r" for row in rows for cell in row)
    header, first = rows[0], rows[1]
    assert first[header.index("amount")] == "-1.5" and first[header.index("count")] == "-3"
    # Read back, the numbers are numbers again.
    back = pd.read_csv(io.BytesIO(safe_csv_bytes(_hostile_frame())))
    assert back["amount"].dtype == float and back["count"].tolist() == [-3, 1, 2, 3, 4, 5]


def test_demand_forecast_download_is_escaped(monkeypatch):
    import core.demand.export as export

    table = pd.DataFrame({"series": [FORMULA, "-store"], "date": ["2024-01-01", "2024-01-08"], "p50": [-1.0, 2.0]})
    monkeypatch.setattr(export, "get_forecast_table", lambda run, params: table)
    rows = _cells(export.forecast_csv(None, None))
    assert rows[1][0] == "'" + FORMULA and rows[2][0] == "'-store" and rows[1][2] == "-1.0"


def test_scaled_scoring_parts_are_escaped(tmp_path):
    from core.scale.output import part_name, write_part

    write_part(_hostile_frame(), str(tmp_path), 0, "csv")
    rows = _cells((tmp_path / part_name(0, "csv")).read_bytes())
    assert rows[0][0] == "'" + FORMULA and rows[1][0] == "'" + FORMULA and rows[2][0] == IMG
    assert rows[1][1] == "-1.5"


def test_command_line_scored_file_is_escaped(tmp_path):
    from core.serve.streaming import stream_score

    from tests.hardening.pipelines import SCORE_META

    data = tmp_path / "new.csv"
    pd.DataFrame({"age": [30, 41], "income": [-1.5, 2.0], "region": [FORMULA, "North"],
                  "purpose": ["@car", "home"]}).to_csv(data, index=False)
    out = tmp_path / "scored.csv"
    done = stream_score(SCORE_META["credit"], data, out, lambda part: part.assign(score=[-0.5, 0.5]))
    rows = _cells(out.read_bytes())
    assert done.rows == 2 and rows[1] == ["30", "-1.5", "'" + FORMULA, "'@car", "-0.5"]


# ---------------------------------------------------------------- messages on the pages
def test_markdown_escape_neutralises_images_links_formulas_and_code():
    assert escape_markdown(MD_IMAGE) == "\\![x]\\(http://127.0.0.1:9/track.png)"
    assert escape_markdown("[ok](http://phish)") == "[ok]\\(http://phish)"
    assert escape_markdown("$5 and $6 `x`") == "\\$5 and \\$6 \\`x\\`"
    assert escape_markdown("\\![y](z)") == "\\\\\\![y]\\(z)"  # a backslash cannot undo the escape
    # Ordinary messages read the same: quotes, lists, parentheses, underscores.
    plain = "Column 'age_band' is missing: ['a_b', 'c'] (7 rows). Fix: pick it."
    assert escape_markdown(plain) == plain


def test_messages_quote_at_most_a_few_short_values():
    text = short_list(["x" * 20_000, *[f"c{i}" for i in range(2_000)]])
    assert len(text) < 300 and "… and 1,989 more" in text


def _show(kind: str, text: str):
    from streamlit.testing.v1 import AppTest

    def page(kind, text):
        from core.errors import DataValidationError
        from ui.common import show_error, show_notices

        if kind == "error":
            show_error(DataValidationError(text))
        else:
            show_notices([text])

    at = AppTest.from_function(page, args=(kind, text), default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("kind", ["error", "notice"])
def test_page_messages_show_hostile_text_as_typed(kind):
    text = f"Column '{MD_IMAGE}' and {IMG} cost $5"
    at = _show(kind, text)
    body = at.error[0].value if kind == "error" else at.markdown[0].value
    assert "\\![x]\\(http" in body and "\\$5" in body and IMG in body
    assert MD_IMAGE not in body


# ---------------------------------------------------------------- model card
@pytest.fixture
def hostile_report(tmp_path):
    from core.workspace.report import build_report_html

    from tests.workspace.run_factory import make_run, workspace_meta

    ws = workspace_meta(name=f"run {SCRIPT}", auc=0.8, columns=[FORMULA, IMG, MD_IMAGE])
    ws["dataset"]["name"] = f"{IMG}.csv"
    ws["headline"]["assumptions"].append(f"Threshold from {SCRIPT}")
    path = make_run(tmp_path, "credit-hostile", workspace=ws)
    return build_report_html(path)


def test_model_card_shows_hostile_names_as_text(hostile_report):
    html = hostile_report
    assert "<img src=x onerror" not in html and "<script>alert(1)</script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in html
    assert 'src="http://127.0.0.1:9' not in html

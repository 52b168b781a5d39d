"""The one-click report of a saved run: a self-contained HTML model card.

One file an investor or a risk committee can open anywhere, offline: plotly.js is inlined once,
charts stay interactive, there is no external URL (no CDN, web font or remote image). Sections:
data summary, method, metrics, business impact with its assumptions, explanations, fairness,
limitations and intended use, with the run id, save date and app version. The scenario supplies its
title, method paragraph and the sections only it can fill (credit's fairness table) through its
hooks (``core.store.scenarios``); the card's other sections read the saved summary the same way for all.

Everything read from the run is treated as untrusted text (column names come from user files):
every string is HTML-escaped, chart labels too, and metadata keys that look like secrets are
dropped before anything is rendered.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from core.present.card import esc as _e
from core.present.card import frame_table as _frame_table
from core.present.card import kv_table as _kv_table
from core.present.card import metrics_table as _metrics_table
from core.present.card import not_recorded as _na
from core.present.card import run_currency, settings_table
from core.present.card import text as _text
from core.errors import DataValidationError
from core.store.runmeta import has_summary, workspace
from core.store.scenarios import ByScenario, find_scenario
from core.workspace.runs import (CURVE_TITLES, NOT_RECORDED, format_figure, get_headline, get_metrics_table,
                                 get_params, get_run_name, get_saved_at)

SECRET_KEY = re.compile(r"pass(word|wd)?|token|secret|api[_-]?key|credential|private[_-]?key|auth[_-]?key",
                        re.IGNORECASE)
SCENARIO_TITLES = ByScenario("title")
MODEL_TEXT = ByScenario("model_text")
# The card's sections in order; a scenario's own sections (``card_sections``) fill or follow them.
SECTIONS = ("Intended use", "Data summary", "Method", "Metrics", "Business impact", "Explanations", "Fairness",
            "Limitations")


def strip_secrets(obj: Any) -> Any:
    """A copy of ``obj`` without any dict key that looks like a secret (password, token, api_key ...)."""
    if isinstance(obj, dict):
        return {k: strip_secrets(v) for k, v in obj.items() if not SECRET_KEY.search(str(k))}
    if isinstance(obj, list):
        return [strip_secrets(v) for v in obj]
    return obj


def _figures(figs: list[dict]) -> str:
    if not figs:
        return ""
    cards = "".join(f'<div class="fig"><div class="label">{_e(f.get("label", "?"))}</div>'
                    f'<div class="value">{_e(format_figure(f))}</div></div>' for f in figs)
    return f'<div class="figs">{cards}</div>'


def _chart(fig, n: int) -> str:
    import plotly.io as pio

    fig.update_layout(font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"))
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"chart-{n}",
                       config={"displaylogo": False, "responsive": True,
                               "showSendToCloud": False})


def _escape_labels(names) -> list[str]:
    # Plotly renders a subset of HTML in labels (<b>, <a href=...>); escaped text shows as typed.
    return [html.escape(str(n), quote=False) for n in names]


def _trust_html(head: dict, *, short: bool = False) -> str:
    """The run's trust flags (``core.report.trust``): a red box with each headline in bold and why, or
    (``short``) one bold line of the headlines where the figures are; nothing when none was saved."""
    from core.report.trust import Trust

    trust = Trust.from_saved(head.get("trust"))
    if trust is None or trust.trusted:
        return ""
    if short:
        return ('<p class="trust-short">Not to be trusted: ' + "; ".join(f"<b>{_e(h)}</b>" for h in trust.headlines())
                + " (see the warning at the top of this card).</p>")
    items = "".join(f"<p><b>{_e(f.headline)}.</b> {_e(f.why)}</p>" for f in trust.flags)
    return f'<div class="trust"><p class="trust-title">These figures must not be trusted</p>{items}</div>'


# ---------------------------------------------------------------- sections
def _section_data(meta: dict, ws: dict) -> str:
    ds, inp = ws.get("dataset"), ws.get("input") or {}  # as migrated (core.store.runmeta): of their type or absent
    if not ds:
        return _na("The data fingerprint was not recorded for this run (saved before the workspace summary "
                   "existed).")
    cols = ds.get("columns") or []
    items = [("File", ds.get("name") or NOT_RECORDED), ("Rows", f"{ds['rows']:,}" if isinstance(ds.get("rows"), int) else None),
             ("Columns", len(cols) if cols else None), ("SHA-256 of the file as uploaded", ds.get("sha256")),
             ("Kind of input", inp.get("kind")), ("Target", inp.get("target"))]
    out = _kv_table(items)
    if cols:
        out += f'<p class="small"><b>Columns:</b> {_e(", ".join(map(str, cols[:200])))}' \
               f'{_e(f" … and {len(cols) - 200} more") if len(cols) > 200 else ""}</p>'
    used = inp.get("columns")
    if used:
        out += f'<p class="small"><b>Used by the model:</b> {_e(", ".join(map(str, used)))}</p>'
    sensitive = inp.get("sensitive")
    if sensitive:
        out += (f'<p class="excluded"><b>Kept out of the model (sensitive attributes):</b> '
                f'{_e(", ".join(map(str, sensitive)))}. They are used only for the fairness check; a model '
                "that used them could discriminate unlawfully.</p>")
    personal = [p for p in ds.get("personal_data") or [] if isinstance(p, dict)]
    keys = [p for p in personal if p.get("key")]  # a card number that is the customer key (core.data.pseudonym)
    if keys:
        found = "; ".join(f"{p.get('column')} ({p.get('kind')}): {p.get('action')}" for p in keys)
        out += (f'<p class="excluded"><b>Personal data kept as a key:</b> {_e(found)}. The secret of the pseudonyms '
                "stays in the run folder and is never shown; the original values are in no model, saved run or "
                "report.</p>")
    personal = [p for p in personal if not p.get("key")]
    if personal:
        found = "; ".join(f"{p.get('column')} ({p.get('kind')}, {p.get('action')})" for p in personal)
        out += (f'<p class="excluded"><b>Personal data excluded:</b> {_e(found)}. Found when the file was read, '
                "before anything else saw it; the original values are in no model, saved run or report.</p>")
    return out + _leakage(ds.get("leakage"))


def _leakage(audit) -> str:
    """The leakage audit saved with the run (``core.audit``): each suspected column, its evidence and what was done."""
    if not isinstance(audit, dict):
        return ""
    from core.audit import ACTION_WORDS

    found = [f for f in audit.get("findings") or [] if isinstance(f, dict)]
    checked = f"{len(audit.get('checked') or [])} input column(s) checked on {audit.get('rows', 0):,} training rows"
    if not found:
        return f'<p class="small"><b>Leakage audit:</b> no suspected leak ({_e(checked)}).</p>'
    items = "".join(f"<li><b>{_e(f.get('column'))}</b> — {_e(ACTION_WORDS.get(f.get('action'), f.get('action')))}: "
                    f"{_e(f.get('evidence'))}</li>" for f in found)
    return (f'<p class="excluded"><b>Leakage audit</b> ({_e(checked)}): columns that could reveal or rebuild the '
            f"outcome.</p><ul class=\"small\">{items}</ul>")


def _find_imbalance(meta: dict, params: dict) -> str | None:
    for key in ("imbalance", "tabular.imbalance", "config.imbalance"):
        if params.get(key) is not None:
            return str(params[key])
    cfg = meta.get("config")
    return str(cfg["imbalance"]) if isinstance(cfg, dict) and cfg.get("imbalance") is not None else None


def _section_method(meta: dict, ws: dict) -> str:
    spec = find_scenario(meta.get("scenario"))
    params = get_params(meta)
    out = f"<p>{_e(spec.model_text if spec is not None else 'Keras model.')}</p>"
    imbalance = _find_imbalance(meta, params)
    applies = spec is not None and spec.imbalance_applies
    from core.present.glossary import imbalance_label, setting_label

    shown_imbalance = imbalance_label(imbalance) if imbalance else NOT_RECORDED
    items = [("Imbalance handling", shown_imbalance)] if imbalance or applies else []
    cb, ca = meta.get("counts_before"), meta.get("counts_after")
    if isinstance(cb, dict) and isinstance(ca, dict):
        items.append(("Training rows per class before → after", f"{_counts(cb)} → {_counts(ca)}"))
    out += _kv_table(items) if items else ""
    if params:
        shown = sorted(params.items(), key=lambda kv: setting_label(kv[0]).lower())
        out += "<h3>Parameters</h3>" + settings_table(dict(shown), currency=run_currency(meta))
    else:
        out += _na("Training parameters were not recorded.")
    return out + _search_table(ws.get("search"))


def _counts(counts: dict) -> str:
    """Rows per class as "0: 2,595 · 1: 405"."""
    return " · ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in counts.items())


def _search_table(search: Any) -> str:
    """The model search a run was trained after (if any): its budget and trials, and the settings
    it chose beside today's recipe."""
    if not isinstance(search, dict):
        return ""
    ens = search.get("ensemble") if isinstance(search.get("ensemble"), dict) else {}
    items = [("Budget / time taken", f"{_text(search.get('budget_seconds'))} s / {_text(search.get('seconds'))} s"),
             ("Trials run / complete / pruned", f"{search.get('trials_run')} / {search.get('trials_complete')} / "
                                                f"{search.get('trials_pruned')}"),
             ("Scored on", search.get("metric_label")), ("Seed", search.get("seed")),
             ("Best trial (its score)", NOT_RECORDED if search.get("best_trial") is None else
              f"{search.get('best_trial')} ({_text(search.get('best_validation_score'))})"),
             ("Today's recipe's score", search.get("recipe_validation_score")),
             ("Settings used", "today's recipe" if search.get("selected_trial") in (0, None)
              else f"trial {search.get('selected_trial')}"),
             ("Ensemble", ens.get("label", "not used") if ens.get("use") else "not used")]
    best, recipe = search.get("best_params") or {}, search.get("recipe_params") or {}
    from core.present.glossary import setting_label, setting_text

    rows = pd.DataFrame({"Today's recipe": [setting_text(k, recipe.get(k)) for k in best],
                         "Used": [setting_text(k, v) for k, v in best.items()]},
                        index=pd.Index([setting_label(k) for k in best], name="Setting"), dtype=object)
    notes = "".join(f"<p class=\"small\">{_e(n)}</p>" for n in search.get("notices") or [])
    return "<h3>Model search</h3>" + _kv_table(items) + notes + (_frame_table(rows) if best else "")


def _section_metrics(meta: dict, head: dict) -> str:
    from core.present.glossary import model_label
    from core.ml.verdict import Verdict

    from core.workspace.runs import get_recommended_text, recommended_verdict_name

    out = _trust_html(head, short=True) + _figures(head["quality"])
    recommended = get_recommended_text(meta)
    if recommended:
        out += f'<p class="recommended"><b>Recommended model</b> (saved, scored and explained): {_e(recommended)}</p>'
    verdict = head.get("verdict")
    if isinstance(verdict, dict):
        try:
            sentence = Verdict.from_dict(verdict).sentence(recommended_verdict_name(meta))
            out += f'<p class="verdict"><b>Against the baselines:</b> {_e(sentence)}</p>'
        except (TypeError, ValueError, KeyError):
            pass  # a verdict saved by another version: the figures above still stand
    table = get_metrics_table(meta)
    if table is not None:
        keep = [c for c in table.columns if c not in ("tp", "fp", "tn", "fn", "threshold")]
        at = table["threshold"].dropna() if "threshold" in table else pd.Series(dtype=float)
        table = table[keep].rename(index=model_label)
        table.index.name = "Model"
        out += "<h3>All metrics on the held-out data</h3>" + _metrics_table(table)
        if len(at):
            out += (f'<p class="small">Precision, recall, F1 and the other figures that depend on a threshold are at '
                    f"the run's one decision threshold, {_e(format(float(at.iloc[0]), '.3f'))} (see Decision settings), "
                    "for every model.</p>")
    if not out:
        return _na()
    return out


def _section_impact(meta: dict, ws: dict, head: dict) -> str:
    out = _trust_html(head, short=True) + (_figures(head["impact"]) or _na("No money figures were recorded for this run."))
    assumptions = head["assumptions"]
    out += "<h3>Assumptions</h3>"
    out += ("<ul>" + "".join(f"<li>{_e(a)}</li>" for a in assumptions) + "</ul>") if assumptions else _na(
        "The assumptions behind the figures were not recorded.")
    decision = ws.get("decision")
    if decision:
        out += "<h3>Decision settings</h3>" + settings_table(
            {k: v for k, v in decision.items() if not isinstance(v, (dict, list))}, currency=run_currency(meta))
    return out


def _section_explain(ws: dict, charts: list[str]) -> str:
    from core.present.charts import plot_shap_bar

    exp = ws.get("explain") or {}
    imp = exp.get("importance")
    if isinstance(imp, dict) and imp:
        df = pd.DataFrame({"feature": _escape_labels(imp), "importance": [float(v) for v in imp.values()]})
        df = df.sort_values("importance", ascending=False, kind="stable")
        charts.append(_chart(plot_shap_bar(df, top=20), len(charts)))
        return ("<p>Mean absolute SHAP value per input column: how much each column moves the model's output "
                "on average. Larger bars matter more; the chart says nothing about direction.</p>" + charts[-1])
    return _na(str(exp.get("note") or "Global SHAP importance was not recorded for this run."))


def _section_fairness(meta: dict, ws: dict) -> str:
    """The note shown when the run's scenario does not fill the Fairness section itself."""
    scenario = str(meta.get("scenario"))
    return _na("A fairness check by sensitive group applies to the credit scenario; it is not part of "
               f"the {SCENARIO_TITLES.get(scenario, scenario)} card.")


def _section_texts(ws: dict, key: str) -> str:
    v = ws.get(key)
    if isinstance(v, list) and v:
        return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in v) + "</ul>"
    if isinstance(v, str) and v.strip():
        return f"<p>{_e(v)}</p>"
    return _na()


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;margin:0;background:#f8fafc}
main{max-width:1000px;margin:0 auto;padding:32px 24px 64px;background:#fff}
h1{font-size:1.7rem;margin:0 0 4px}h2{font-size:1.25rem;border-bottom:2px solid #e5e7eb;padding-bottom:4px;margin-top:36px}
h3{font-size:1rem;margin:20px 0 8px}.meta{color:#6b7280;font-size:.9rem}.small{font-size:.88rem;color:#374151}
.na{color:#6b7280;font-style:italic}.figs{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.fig{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:140px}
.fig .label{font-size:.8rem;color:#6b7280}.fig .value{font-size:1.35rem;font-weight:600}
table{border-collapse:collapse;font-size:.88rem;margin:6px 0}th,td{padding:4px 10px;border-bottom:1px solid #eef0f3;text-align:left;vertical-align:top}
table.kv th{color:#4b5563;font-weight:500;white-space:nowrap}table.grid thead th{background:#f3f4f6}
.scroll{overflow-x:auto}footer{margin-top:40px;color:#6b7280;font-size:.8rem}
.trust{border:2px solid #dc2626;background:#fef2f2;border-radius:8px;padding:4px 16px;margin:16px 0}
.trust-title{font-weight:700;color:#b91c1c}.trust-short{color:#b91c1c}
@media print{body{background:#fff}main{padding:0}}
"""


def build_report_html(run_dir) -> str:
    """A self-contained HTML model card of the run saved in ``run_dir`` (reads JSON only)."""
    import plotly.offline

    from core import __version__
    from core.store.registry import read_metadata

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataValidationError(f"Expected a saved run folder; '{run_dir}' is not a folder. "
                                  "Fix: pick a run from the Runs page.")
    meta = strip_secrets(read_metadata(run_dir))
    ws = workspace(meta)
    head = get_headline(meta)
    scenario = str(meta.get("scenario") or "unknown")
    saved = get_saved_at(meta)
    name = get_run_name(meta)
    charts: list[str] = []
    curves = ""
    for fig in plot_own_curves(ws):
        charts.append(_chart(fig, len(charts)))
        curves += charts[-1]
    spec = find_scenario(meta.get("scenario"))
    own = spec.card_sections(meta, ws) if spec is not None else {}
    shared = {
        "Intended use": lambda: _section_texts(ws, "intended_use"),
        "Data summary": lambda: _section_data(meta, ws),
        "Method": lambda: _section_method(meta, ws),
        "Metrics": lambda: _section_metrics(meta, head) + curves,
        "Business impact": lambda: _section_impact(meta, ws, head),
        "Explanations": lambda: _section_explain(ws, charts),
        "Fairness": lambda: _section_fairness(meta, ws),
        "Limitations": lambda: _section_texts(ws, "limitations"),
    }
    titles = [t for t in SECTIONS if t != "Limitations"] + [t for t in own if t not in SECTIONS] + ["Limitations"]
    sections = [(t, own[t] if t in own else shared[t]()) for t in titles]
    body = "".join(f'<section id="{_e(t.lower().replace(" ", "-"))}"><h2>{_e(t)}</h2>{s}</section>' for t, s in sections)
    stamp = saved.strftime("%Y-%m-%d %H:%M") if saved else NOT_RECORDED
    ident = (f"Run <code>{_e(meta.get('run_id', run_dir.name))}</code> · saved {_e(stamp)} · "
             f"AI Use-Case Studio {_e(__version__)} · report made {_e(dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}")
    plotly_js = f"<script>{plotly.offline.get_plotlyjs()}</script>" if charts else ""
    body = _trust_html(head) + body
    if not has_summary(meta):
        body = _na("This run was saved without the workspace summary (older version or CLI): the sections "
                   "below show what its metadata holds and 'not recorded' for the rest.") + body
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Model card — {_e(name)}</title><style>{CSS}</style>{plotly_js}</head><body><main>"
        f"<h1>Model card — {_e(name)}</h1>"
        f"<p class=\"meta\">{_e(SCENARIO_TITLES.get(scenario, scenario))} · {ident}</p>"
        f"{body}<footer>{ident}. Generated by AI Use-Case Studio from the run's saved metadata; the figures "
        "are those measured when the model was trained.</footer></main></body></html>"
    )


def plot_own_curves(ws: dict) -> list:
    """The run's recorded curves: ROC and PR each on its own, the others grouped by their x axis
    (demand's actual, forecast and naive backtest lines share one date axis)."""
    import plotly.graph_objects as go

    from core.present.charts import PALETTE, _layout

    curves = {k: c for k, c in (ws.get("curves") or {}).items() if isinstance(c, dict) and c.get("x") and c.get("y")}
    groups: dict[str, list[str]] = {}
    for k, c in curves.items():
        groups.setdefault(k if k in CURVE_TITLES else "x:" + str(c.get("x_label", "")), []).append(k)
    figs = []
    for key, names in groups.items():
        fig = go.Figure()
        for i, k in enumerate(names):
            c = curves[k]
            label = "Model" if k in CURVE_TITLES else str(c.get("y_label") or k)
            fig.add_scatter(x=_escape_labels(c["x"]) if isinstance(c["x"][0], str) else c["x"], y=c["y"],
                            mode="lines", name=html.escape(label, quote=False), line=dict(color=PALETTE[i % 7]))
        first = curves[names[0]]
        if key in ("roc", "gains"):  # acting at random: the diagonal
            fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(dash="dot", color="#999"))
        title = CURVE_TITLES.get(key, "Backtest: actual against forecasts" if all(
            k.startswith("backtest_") for k in names) else ", ".join(names))
        y_label = first.get("y_label", "") if len(names) == 1 or key in CURVE_TITLES else ""
        figs.append(_layout(fig, html.escape(title, quote=False), html.escape(str(first.get("x_label", "")),
                                                                              quote=False),
                            html.escape(str(y_label), quote=False)))
    return figs


def get_report_filename(meta: dict) -> str:
    """A safe file name for the downloaded report: ``model-card-<run id>.html``."""
    rid = re.sub(r"[^A-Za-z0-9._-]+", "-", str(meta.get("run_id") or "run")).strip("-.") or "run"
    return f"model-card-{rid}.html"

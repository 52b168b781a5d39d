"""Credit scoring as the workspace sees it: the ``Scenario`` hooks (``core.store.scenarios``) for saved
runs, batch scoring, the model card, the command line and the demo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.store.scenarios import ROOT, DecisionControl, Demo, ScenarioBase, ScenarioSpec, register


# Titles, question and page for the Overview and the navigation.
SPEC = ScenarioSpec(
    "credit", "Credit scoring", ":material/credit_score:",
    "Which applicants will repay, and where should the approval line be?",
    "Trains a Keras network against logistic regression and gradient boosting on loan "
    "applications; turns scores into scorecard points, grades, a profit-optimal approval "
    "threshold, reason codes for declines, fairness checks and drift (PSI).",
    "CSV or Parquet, one row per application, a binary outcome column (e.g. default).",
    "pages/credit.py",
    "sample_data/credit_new_month.csv",
    short_title="Credit",
)


class CreditScenario(ScenarioBase):
    key = "credit"
    title = SPEC.title
    spec = SPEC
    order = 10  # credit is listed first
    model_kind = "table"
    input_kind = "table"
    imbalance_applies = True
    decision_words = "approve / decline with scorecard points, grade and reason codes"
    # Every declined applicant gets reason codes on the Score page (batched SHAP, about a millisecond
    # a row); beyond this many the riskiest are explained there and the command line explains the rest.
    page_reason_rows = 20_000
    intended_use = ("Rank loan applications by probability of default and support an approve / decline "
                    "decision at a profit-based threshold, with reason codes for declines. A decision aid for "
                    "credit analysts; final decisions and adverse-action notices stay with people.")
    limitations = (
        "Trained on past approved applicants only: applicants who were declined never had an outcome "
        "(reject inference is not applied).",
        "Sensitive attributes are excluded from the features, but correlated columns can still act as "
        "proxies; check the fairness table before use.",
        "Probabilities are calibrated to the training population; re-check drift (PSI) on new batches.",
    )
    model_text = ("Keras feed-forward network on the application's numeric and one-hot categorical columns, "
                  "compared with logistic regression and gradient boosting baselines on the same held-out rows.")

    def memory_estimate(self, data, **opts):
        """A tabular training; credit rows may be sampled down (with a notice) when memory is short."""
        from core.store.memory_guard import estimate_tabular

        return estimate_tabular(data, scenario=self.key, imbalance=opts.get("imbalance"),
                                shap_rows=int(opts.get("shap_rows") or 0), can_sample=True)

    def build_summary(self, run, **settings) -> dict:
        from core.credit.summary import build_credit_summary

        return build_credit_summary(run, **settings)

    def expected_input(self, meta: dict) -> dict:
        from core.data.columncheck import CATEGORY, NUMBER, expected_from_summary

        cr = meta.get("credit")
        if not isinstance(cr, dict):
            return expected_from_summary(meta)
        kinds = {c: NUMBER for c in cr.get("numeric", [])}
        kinds.update({c: CATEGORY for c in cr.get("categorical", [])})
        return expected_from_summary(meta, kinds)

    def decision_settings(self, meta: dict) -> dict:
        from core.serve.decisions import saved_decision

        dec = saved_decision(meta)
        thr = dec.get("threshold", dec.get("model_threshold", 0.5))
        return {"threshold": float(thr)}

    def upgrade_metadata(self, meta: dict, version: int) -> dict:
        """Runs saved before schema 1 kept the decline threshold and the scorecard in ``credit`` as well as
        in ``workspace.decision``; runs saved before schema 2 kept the network's own threshold at the top of
        the metadata, beside a record that names a different (the decline) threshold. The one record is
        ``workspace.decision``, the network's threshold in it as ``model_threshold``
        (``core.store.runmeta.migrate``, one step per version)."""
        from core.store.runmeta import move_to_decision

        if version == 0:
            return move_to_decision(meta, "credit", ("threshold", "scorecard"))
        if version == 1:
            return move_to_decision(meta, None, ("threshold",), names={"threshold": "model_threshold"})
        return meta

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        return (DecisionControl("threshold", "Decline when P(default) is at or above", 0.0, 1.0, 0.005, key="thr"),)

    def score(self, run_dir, meta, df, s, *, progress, reason_rows):
        return score_credit_batch(Path(run_dir), meta, df, s, progress, reason_rows)

    def card_sections(self, meta: dict, ws: dict) -> dict[str, str]:
        return {"Fairness": fairness_card(meta, ws)}

    def demo(self) -> Demo:
        return Demo(sample=SAMPLE, weight=0.2, run=run_demo,
                    settings={"credit_rows": None,  # applications kept (seeded sample)
                              # Costs; None: the scenario's own (those its page and command line open with).
                              "loss_default": None, "margin_good": None})


SAMPLE = ROOT / "sample_data" / "credit_applications.csv"


def score_credit_batch(run_dir: Path, meta, df, s, progress, reason_rows):
    """Approve / decline every applicant at the threshold, reason codes for the riskiest declines,
    and the file's own ROC-AUC and bad rate when it holds the outcome."""
    from core.serve.batch import BatchResult
    from core.credit.persist import load_credit_model
    from core.credit.scoring import APPROVE, DECLINE
    from core.credit.service import declined_rows, score_chunk
    from core.serve.decisions import check_probability

    thr = check_probability("decline threshold", s["threshold"])
    progress(0.05, "Loading the model")
    model = load_credit_model(run_dir)
    # Reason codes for the riskiest declines only (the page's limit); the proxy policy saved with the run leaves
    # features that may stand in for a protected attribute out of the reasons (or marks them), as on the page.
    scored, p = score_chunk(model, df, threshold=thr, reason_rows=reason_rows,
                            progress=lambda f, text: progress(0.1 + 0.6 * f, text))
    declined = declined_rows(p, thr)
    top = declined[:reason_rows]
    notices = []
    proxies = model.reason_filter.get("exclude") or model.reason_filter.get("flag")
    if proxies:
        names = ", ".join(map(str, proxies))
        notices.append(f"Reason codes leave out {names}: flagged as possibly standing in for a protected attribute "
                       "(saved with the run)." if "exclude" in model.reason_filter else
                       f"Reasons citing {names} are marked: flagged as possibly standing in for a protected attribute "
                       "(saved with the run).")
    if len(declined) > len(top):
        notices.append(f"Reason codes are given for the {len(top):,} riskiest of {len(declined):,} declined "
                       "applicants; the command line gives them for all.")
    counts = scored["decision"].value_counts()
    decisions = pd.DataFrame({"decision": [APPROVE, DECLINE],
                              "applicants": [int(counts.get(APPROVE, 0)), int(counts.get(DECLINE, 0))]})
    decisions["share"] = decisions["applicants"] / max(len(scored), 1)
    decisions["mean_probability_of_default"] = [float(p[p < thr].mean()) if (p < thr).any() else np.nan,
                                                float(p[p >= thr].mean()) if len(declined) else np.nan]
    figures = [("Applicants scored", f"{len(scored):,}"),
               ("Approval rate", f"{1 - len(declined) / max(len(scored), 1):.1%}"),
               ("Declined", f"{len(declined):,}"),
               ("Mean P(default)", f"{p.mean():.3f}" if len(p) else "–")]
    target, positive = meta["credit"]["target"], meta["credit"]["positive"]
    if target in df.columns and df[target].nunique() == 2:
        from core.ml.metrics import compute_binary_metrics

        y = (df[target].astype(str) == str(positive)).to_numpy().astype(int)
        if 0 < y.sum() < len(y):
            m = compute_binary_metrics(y, p, thr)
            figures.append(("ROC-AUC on this file", f"{m['roc_auc']:.3f}"))
            approved = p < thr
            figures.append(("Bad rate of approved", f"{y[approved].mean():.1%}" if approved.any() else "–"))
    progress(1.0, "Done")
    return BatchResult("credit", run_dir.name, scored, figures, decisions, {"threshold": thr}, notices=notices)


def fairness_card(meta: dict, ws: dict) -> str:
    """The model card's Fairness section: the sensitive attributes kept out, outcomes by group as the page's
    fairness tab showed them (at the decline threshold), the features flagged as possible proxies and what
    reason codes do with them."""
    from core.present.card import esc, frame_table, not_recorded
    from core.credit.fairness import FAIRNESS_HEADERS

    fair = ws.get("fairness", meta.get("fairness"))
    sensitive = (ws.get("input") or {}).get("sensitive")  # the model card's ``ws``: migrated (core.store.runmeta)
    if sensitive is None and isinstance(meta.get("credit"), dict):
        sensitive = meta["credit"].get("sensitive")
    out = ""
    if sensitive:
        out += (f"<p>Sensitive attributes kept out of the model's features: <b>{esc(', '.join(map(str, sensitive)))}"
                "</b>. Correlated columns can still act as proxies.</p>")
    else:
        out += "<p>No sensitive attributes were declared for this run.</p>"
    tables = fair.get("attributes") if isinstance(fair, dict) and isinstance(fair.get("attributes"), dict) else None
    if tables is None and isinstance(fair, (dict, list)):  # an older run's one table
        rows = fair.get("rows") if isinstance(fair, dict) else fair
        tables = {"": {"rows": rows, "summary": fair.get("summary") if isinstance(fair, dict) else None}}
    shown = False
    for attr, t in (tables or {}).items():
        rows = t.get("rows") if isinstance(t, dict) else None
        if not (isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows)):
            continue
        df = pd.DataFrame(rows)
        for col in ("default_rate", "approval_rate", "tpr", "fpr"):
            if col in df:
                df[col] = [None if pd.isna(v) else f"{float(v):.1%}" for v in df[col]]
        if "di_ratio" in df:
            df["di_ratio"] = [None if pd.isna(v) else f"{float(v):.2f}" for v in df["di_ratio"]]
        df = df.set_index(df.columns[0]).rename(columns=FAIRNESS_HEADERS)
        df.index.name = str(attr).replace("_", " ").capitalize() if attr else "Group"
        at = f" at the decline threshold {float(fair['threshold']):.3f}" if isinstance(fair, dict) and \
            isinstance(fair.get("threshold"), (int, float)) else ""
        out += f"<h3>Outcomes by {esc(df.index.name.lower())}{esc(at)}</h3>" + frame_table(df)
        if t.get("summary"):
            out += f"<p>{esc(t['summary'])}</p>"
        shown = True
    if not shown:
        out += not_recorded("The fairness table (approval rate and four-fifths ratio by group) was not saved with "
                            "this run: open the credit page's fairness view on the training data to review it "
                            "before use." if not sensitive or tables is None else
                            "No group table: the sensitive attributes are not in the test rows.")
    proxies = [p for p in (fair.get("proxies") or [] if isinstance(fair, dict) else []) if isinstance(p, dict)]
    if proxies:
        policy = fair.get("proxy_reasons", "left out")
        items = "".join(f"<li><b>{esc(p.get('feature'))}</b>: {esc(p.get('why'))}</li>" for p in proxies)
        out += ("<h3>Features that may stand in for a protected attribute</h3><ul>" + items + "</ul>"
                + ("<p>Reason codes leave these features out: a decline is never explained by them.</p>"
                   if policy != "marked" else
                   "<p>Reason codes citing these features are marked “may stand in for a protected attribute”.</p>"))
    return out


def run_demo(root: Path, s, progress) -> Path:
    """Train on the bundled applications with the demo settings, pick the profit-optimal threshold
    (the page's "use the optimal threshold") and save the run with its workspace summary."""
    from core.credit import service
    from core.credit.pipeline import default_credit_config
    from core.data.datasets import read_table
    from core.ml.training import progress_share
    from core.report.runsummary import demo_run_name
    from core.store.registry import new_run_id

    progress(0.0, "Reading the loan applications")
    df = read_table(SAMPLE).df
    if s.credit_rows and len(df) > s.credit_rows:
        df = df.sample(n=s.credit_rows, random_state=s.seed).reset_index(drop=True)
    # The page's and the CLI's cost defaults unless the demo settings name others; the page's rounding.
    outcome = service.train_and_decide(
        df, target="default", config=default_credit_config(epochs=s.epochs, seed=s.seed),
        shap_rows=s.shap_rows or 0, loss_default=s.loss_default, margin_good=s.margin_good, digits=3,
        progress=lambda e, n, logs: progress(0.1 + 0.6 * progress_share(e, n, logs), f"Epoch {e} of {n}"),
        status=lambda text: text == service.EXPLAINING and progress(0.75, "Explaining test applicants with SHAP"))
    progress(0.95, "Saving the run")
    return service.save(outcome, root / new_run_id("credit"), name=demo_run_name("credit"), data=df,
                        dataset_name=SAMPLE.name)


SCENARIO = register(CreditScenario())

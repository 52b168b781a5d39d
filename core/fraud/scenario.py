"""Fraud detection as the workspace sees it: the ``Scenario`` hooks (``core.store.scenarios``) for saved
runs, batch scoring, the model card, the command line and the demo."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from core.store.scenarios import ROOT, DecisionControl, Demo, ScenarioBase, ScenarioSpec, register

SAMPLE = ROOT / "sample_data" / "fraud_transactions.csv.gz"


# Features fraud builds from a transaction log (windows of counts, amounts and risks per card and
# terminal), counted in its training's memory estimate; its raw columns are a handful.
ENGINEERED_FEATURES = 30

# Titles, question and page for the Overview and the navigation.
SPEC = ScenarioSpec(
    "fraud", "Fraud detection", ":material/policy:",
    "Which card transactions should the team review or block today?",
    "Engineers customer and terminal history features from a raw transaction log without "
    "leakage, compares imbalance strategies, sets an alert policy by capacity and cost, and "
    "builds an explained alert queue.",
    "CSV or Parquet transaction log: timestamp, amount, optional customer and terminal ids, fraud label.",
    "pages/fraud.py",
    "sample_data/fraud_new_month.csv.gz",
    short_title="Fraud",
)


class FraudScenario(ScenarioBase):
    key = "fraud"
    title = SPEC.title
    spec = SPEC
    order = 20  # fraud is listed second
    model_kind = "table"
    input_kind = "table"
    imbalance_applies = True
    decision_words = "approve / review / block with the top reasons for each alert"
    input_hint = "Transactions should follow the training log in time: their history features look back over the saved log."
    intended_use = ("Rank card transactions by fraud risk so that a review team sees the riskiest first, with an "
                    "approve / review / block policy set by review capacity and cost.")
    limitations = (
        "Fraud patterns change quickly; the model needs retraining as new labelled fraud arrives.",
        "Labels arrive late: recent transactions are treated as legitimate until confirmed.",
        "Money figures are measured on the test period only and assume every reviewed fraud is stopped.",
    )
    model_text = ("Keras feed-forward network on history features per customer and terminal (built from each "
                  "transaction's past only), trained on an earlier period and tested on a later one.")

    def memory_estimate(self, data, **opts):
        """A tabular training with the features built from the log; sampling a transaction log would cut
        the card histories those features are built from, so a fraud training is refused instead."""
        from core.store.memory_guard import estimate_tabular

        return estimate_tabular(data, scenario=self.key, imbalance=opts.get("imbalance"),
                                shap_rows=int(opts.get("shap_rows") or 0),
                                engineered_features=ENGINEERED_FEATURES, can_sample=False)

    def build_summary(self, run, **settings) -> dict:
        from core.fraud.summary import build_fraud_summary

        return build_fraud_summary(run, **settings)

    def expected_input(self, meta: dict) -> dict:
        from core.data.columncheck import CATEGORY, DATE, NUMBER, expected_from_summary

        cols = meta.get("columns")
        if not isinstance(cols, dict):
            return expected_from_summary(meta)
        from core.store.runmeta import section

        inp = section(meta, "input")
        numeric = set(inp.get("numeric", []))
        kinds: dict[str, str] = {}
        time_kind = NUMBER if meta.get("time_unit") else DATE  # elapsed time is a number (core.fraud.clock)
        for role, kind in (("time", time_kind), ("amount", NUMBER), ("customer", CATEGORY), ("terminal", CATEGORY)):
            if cols.get(role):
                kinds[cols[role]] = kind
        kinds.update({c: NUMBER if c in numeric else CATEGORY for c in meta.get("extra_columns", [])})
        return expected_from_summary(meta, kinds)

    def decision_settings(self, meta: dict) -> dict:
        from core.serve.decisions import saved_decision
        from core.fraud.service import default_block

        dec = saved_decision(meta)  # a run saved without a chosen review threshold reviews at the model's own
        review = float(dec.get("review_threshold", dec.get("model_threshold", 0.5)))
        return {"review_threshold": review, "block_threshold": float(dec.get("block_threshold", default_block(review)))}

    def upgrade_metadata(self, meta: dict, version: int) -> dict:
        """Runs saved before schema 2 kept the recommended model's own threshold at the top of the metadata,
        beside a decision record that names a different (the chosen review) threshold: it moves into the one
        record as ``model_threshold`` (``core.store.runmeta.migrate``)."""
        from core.store.runmeta import move_to_decision

        return move_to_decision(meta, None, ("threshold",), names={"threshold": "model_threshold"}) \
            if version == 1 else meta

    def decision_controls(self, meta: dict) -> tuple[DecisionControl, ...]:
        return (DecisionControl("review_threshold", "Review when risk is at or above", 0.0, 1.0, 0.005, key="review"),
                DecisionControl("block_threshold", "Block when risk is at or above", 0.0, 1.0, 0.005, key="block"))

    def score(self, run_dir, meta, df, s, *, progress, reason_rows):
        return score_fraud_batch(Path(run_dir), meta, df, s, progress, reason_rows)

    def demo(self) -> Demo:
        return Demo(sample=SAMPLE, weight=0.35, run=run_demo,
                    settings={"fraud_customers": None,  # customers kept, with all their transactions
                    "review_fee": 5.0})  # the review fee the fraud page opens with


def score_fraud_batch(run_dir: Path, meta, df, s, progress, reason_rows):
    """Approve / review / block every transaction (history features over the saved log), with the
    top reasons for the riskiest alerts and the amount at stake per band."""
    from core.serve.batch import BatchResult
    from core.present.card import run_currency as run_currency_code
    from math import isclose

    from core.serve.decisions import get_decision_settings
    from core.fraud.persist import load_fraud_model
    from core.fraud.service import decision_thresholds, pseudonymise_keys, score_chunk

    # The command line's rule: a block threshold left as saved is raised to the review one when below it;
    # one chosen here below the review threshold is refused.
    saved_block = float(get_decision_settings(meta)["block_threshold"])
    chosen = None if isclose(float(s["block_threshold"]), saved_block, abs_tol=1e-9) else s["block_threshold"]
    review, block = decision_thresholds(meta, s["review_threshold"], chosen, review_name="the review threshold")
    notices = []
    if chosen is None and block > saved_block:
        notices.append(f"The saved block threshold ({saved_block:.3f}) is below the review threshold "
                       f"({review:.3f}), so every alert is blocked (block at risk ≥ {review:.3f}), as "
                       "`python -m core score --threshold` decides.")
    progress(0.05, "Loading the model and its transaction history")
    saved = load_fraud_model(run_dir)
    progress(0.2, "Computing history features and risk")
    scored, X = score_chunk(saved, pseudonymise_keys(saved, df), review=review, block=block, riskiest_first=True,
                            features=True)
    scored = scored.drop(columns="alert")  # the page's table shows the decision itself
    decision = scored["decision"].to_numpy()
    alerts = int((decision != "approve").sum())
    top = min(alerts, reason_rows)
    progress(0.7, f"Reasons for the {top:,} riskiest alerts")
    reasons = saved.get_reasons(X.iloc[:top], currency=run_currency_code(meta)) if top else []
    if reasons is None:
        notices.append("This run was saved without a SHAP background, so alerts have no reasons. Save the run "
                       "again from the fraud page to get them.")
        reasons = []
    scored.insert(2, "top_reasons", list(reasons) + [""] * (len(scored) - len(reasons)))
    if alerts > top:
        notices.append(f"Reasons are given for the {top:,} riskiest of {alerts:,} alerts.")
    amount = saved.columns.amount
    label = saved.columns.target
    rows = []
    for band in ("approve", "review", "block"):
        m = decision == band
        row = {"decision": band, "transactions": int(m.sum()), "share": float(m.mean()) if len(m) else 0.0,
               "amount_at_stake": float(pd.to_numeric(scored.loc[m, amount], errors="coerce").sum())}
        if label and label in scored.columns:
            row["known_fraud"] = int(pd.to_numeric(scored.loc[m, label], errors="coerce").fillna(0).sum())
        rows.append(row)
    figures = [("Transactions scored", f"{len(scored):,}"), ("Alerts (review + block)", f"{alerts:,}"),
               ("Blocked", f"{int((decision == 'block').sum()):,}"),
               ("Amount in alerts", f"{run_currency(meta)}{sum(r['amount_at_stake'] for r in rows[1:]):,.0f}")]
    progress(1.0, "Done")
    return BatchResult("fraud", run_dir.name, scored, figures, pd.DataFrame(rows),
                       {"review_threshold": review, "block_threshold": block}, notices=notices)


def run_currency(meta: dict) -> str:
    """The currency symbol the run's money figures were saved in (the studio's default when none was)."""
    from core.report.runsummary import CURRENCY

    from core.store.runmeta import headline

    units = [f.get("unit") for f in headline(meta).get("impact", []) if f.get("unit")]
    return str(units[0]) if units else CURRENCY


def run_demo(root: Path, s, progress) -> Path:
    """Train on the bundled log with the demo settings (whole customers when shrunk), pick the
    cost-optimal review threshold and save the run with its workspace summary."""
    from core.data.datasets import read_table
    from core.fraud import service
    from core.fraud.columns import make_columns
    from core.fraud.pipeline import FRAUD_TABULAR, FraudConfig
    from core.report.runsummary import demo_run_name
    from core.store.registry import new_run_id

    progress(0.0, "Reading the transaction log")
    df = read_table(SAMPLE, max_rows=None).df
    cols = make_columns(df)
    if s.fraud_customers and cols.customer:
        # Whole customers, never random rows: history windows need every transaction of a card.
        keep = df[cols.customer].drop_duplicates().sample(frac=1.0, random_state=s.seed).iloc[: s.fraud_customers]
        df = df[df[cols.customer].isin(set(keep))].reset_index(drop=True)
    config = FraudConfig(tabular=replace(FRAUD_TABULAR, epochs=s.epochs, seed=s.seed))
    # The page's rounding of the review threshold and its default block line.
    outcome = service.train_and_decide(
        df, cols, config=config, review_fee=s.review_fee, digits=3, block=service.default_block,
        explain_global=min(s.shap_rows, 100) if s.shap_rows else 0, explain_seed=s.seed,
        progress=lambda e, n, _l: progress(0.2 + 0.5 * e / n, f"Epoch {e} of {n}"),
        status=lambda m: progress(0.75, m) if m == service.EXPLAINING else progress(0.1, m))
    progress(0.95, "Saving the run")
    return service.save(outcome, root / new_run_id("fraud"), name=demo_run_name("fraud"), data=df,
                        dataset_name=SAMPLE.name)


SCENARIO = register(FraudScenario())

"""A fifth scenario costs one package: a toy customer-churn scenario (scikit-learn logistic
regression, JSON weights), registered here in the test, trains and scores from the command line,
lists on the Runs page, scores on the Score page and gets a model card, with no workspace code
knowing its name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.serve.batch import BatchResult
from core.data.columncheck import ColumnMismatchError
from core.serve.decisions import check_probability, saved_decision
from core.store.scenarios import DecisionControl, ScenarioBase, register, scenario_keys, unregister

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ["tenure_months", "monthly_charges", "support_calls"]
TARGET = "churned"


def make_customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"customer_id": [f"c{seed}-{i}" for i in range(n)],
                       "tenure_months": rng.integers(1, 72, n), "monthly_charges": rng.normal(60, 15, n).round(2),
                       "support_calls": rng.poisson(1.5, n)})
    logit = -0.05 * df["tenure_months"] + 0.03 * (df["monthly_charges"] - 60) + 0.6 * df["support_calls"] - 0.5
    df[TARGET] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


# ---------------------------------------------------------------- the toy scenario (one package's worth)
def train_churn(df: pd.DataFrame, seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression

    train, test = df.iloc[: int(len(df) * 0.7)], df.iloc[int(len(df) * 0.7):]
    mean, std = train[FEATURES].mean(), train[FEATURES].std().replace(0, 1)
    lr = LogisticRegression(random_state=seed).fit((train[FEATURES] - mean) / std, train[TARGET])
    weights = {"coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "mean": mean.tolist(),
               "std": std.tolist()}
    return {"weights": weights, "train": train, "test": test, "y_test": test[TARGET].to_numpy(),
            "p_test": predict(weights, test)}


def predict(weights: dict, df: pd.DataFrame) -> np.ndarray:
    x = (df[FEATURES].to_numpy(float) - np.array(weights["mean"])) / np.array(weights["std"])
    return 1 / (1 + np.exp(-(x @ np.array(weights["coef"]) + weights["intercept"])))


def save_churn(run: dict, folder, workspace: dict) -> Path:
    from core.store.registry import save_run

    folder = Path(folder)
    return save_run(folder.parent, run_id=folder.name, model=None,
                    metadata={"scenario": "churn", "workspace": workspace, "metrics": {"network": {}}},
                    files={"weights.json": json.dumps(run["weights"]).encode()})


class ChurnCli:
    """``python -m core train / score --scenario churn``."""

    @staticmethod
    def add_train_arguments(parser) -> None:
        parser.add_argument_group("churn").add_argument("--offer-cost", type=float, default=20.0)

    @staticmethod
    def run_train(args) -> dict:
        from core.data.datasets import read_table
        from core.report.runsummary import default_run_name

        df = read_table(args.data).df
        run = train_churn(df, seed=args.seed)
        out = {"scenario": "churn", "metrics": {"test_rows": len(run["test"])}, "baselines": {}, "timings": {}}
        if args.save:
            ws = CHURN.build_summary(run, name=default_run_name("churn", args.data), threshold=0.4,
                                     offer_cost=args.offer_cost, data=df, dataset_name=Path(args.data).name)
            out["saved_to"] = str(save_churn(run, args.save, ws))
        return out

    @staticmethod
    def add_score_arguments(parser) -> None:
        parser.add_argument_group("churn").add_argument("--threshold", type=float, default=None)

    @staticmethod
    def run_score(args) -> dict:
        from core.store.registry import read_metadata
        from core.serve.streaming import stream_score

        meta = read_metadata(args.model)
        weights = json.loads((Path(args.model) / "weights.json").read_text())
        thr = CHURN.decision_settings(meta)["threshold"] if args.threshold is None else args.threshold
        done = stream_score(meta, args.data, args.out,
                            lambda part: part.assign(churn_probability=predict(weights, part)),
                            chunk_size=args.chunk_size)
        return {"rows": done.rows, "threshold": thr, "drift": done.drift.to_dict(orient="records")}


class ChurnScenario(ScenarioBase):
    key = "churn"
    title = "Customer churn"
    intended_use = ("Rank subscribers by their chance of leaving next month so that the retention team offers "
                    "a discount to the likeliest leavers first.")
    limitations = ("A toy model for tests: three columns and a logistic regression.",)
    model_text = "Logistic regression (scikit-learn) on tenure, monthly charges and support calls."
    decision_words = "offer / no offer per customer"

    def build_summary(self, run, *, name, threshold, offer_cost=20.0, customer_value=200.0, data=None,
                      dataset_name=None) -> dict:
        from core.data.drift import build_profile
        from core.ml.metrics import compute_binary_metrics
        from core.report.runsummary import envelope, get_fingerprint, money_figure, quality_figure, roc_pr_curves

        y, p = run["y_test"], run["p_test"]
        offered = p >= threshold
        kept = customer_value * int((offered & (y == 1)).sum()) - offer_cost * int(offered.sum())
        m = compute_binary_metrics(y, p, threshold)
        return envelope(
            "churn", name=name, dataset=get_fingerprint(data if data is not None else run["train"], name=dataset_name),
            params={"model": "logistic_regression"},
            quality=[quality_figure("ROC-AUC", m["roc_auc"]), quality_figure("Offer rate", offered.mean(), ".1%")],
            impact=[money_figure("Value kept", kept)], assumptions=[f"Offer cost {offer_cost:g} per customer"],
            input_={"columns": FEATURES, "numeric": FEATURES, "categorical": [], "kind": "table", "target": TARGET},
            profile=build_profile(run["train"], numeric=FEATURES), curves=roc_pr_curves(y, p),
            decision={"threshold": float(threshold), "offer_cost": float(offer_cost)}, explain={})

    def decision_settings(self, meta: dict) -> dict:
        return {"threshold": float(saved_decision(meta).get("threshold", 0.5))}

    def decision_controls(self, meta: dict):
        return (DecisionControl("threshold", "Offer when P(leave) is at or above", 0.0, 1.0, 0.01, key="thr"),)

    def score(self, run_dir, meta, df, s, *, progress, reason_rows) -> BatchResult:
        thr = check_probability("offer threshold", s["threshold"])
        p = predict(json.loads((Path(run_dir) / "weights.json").read_text()), df)
        scored = df.assign(churn_probability=p, decision=np.where(p >= thr, "offer", "no offer"))
        decisions = scored["decision"].value_counts().rename_axis("decision").reset_index(name="customers")
        progress(1.0, "Done")
        return BatchResult("churn", Path(run_dir).name, scored, [("Customers scored", f"{len(df):,}"),
                           ("Offers", f"{int((p >= thr).sum()):,}")], decisions, {"threshold": thr})

    def card_sections(self, meta: dict, ws: dict) -> dict[str, str]:
        from core.present.card import esc

        return {"Retention offer": f"<p>Offer cost {esc(ws['decision']['offer_cost'])} per contacted customer.</p>"}

    def cli(self):
        return ChurnCli()


CHURN = ChurnScenario()


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def churn():
    register(CHURN)
    yield CHURN
    unregister("churn")


@pytest.fixture
def trained(churn, tmp_path, monkeypatch, capsys):
    """A churn run trained and saved with ``python -m core train --scenario churn``."""
    from core.cli import main

    root = tmp_path / "runs"
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(root))
    data = tmp_path / "customers.csv"
    make_customers(600, seed=0).to_csv(data, index=False)
    assert main(["train", "--scenario", "churn", "--data", str(data), "--offer-cost", "25",
                 "--save", str(root / "churn-1"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["saved_to"] == str(root / "churn-1") and out["metrics"]["test_rows"] == 180
    return root / "churn-1"


# ---------------------------------------------------------------- the tests
def test_the_toy_is_offered_only_while_registered(churn, capsys):
    from core.cli import main

    assert "churn" in scenario_keys()
    with pytest.raises(SystemExit):
        main(["train", "--scenario", "churn", "--help"])
    help_text = capsys.readouterr().out
    assert "churn" in help_text and "--offer-cost" in help_text
    unregister("churn")
    assert "churn" not in scenario_keys()
    with pytest.raises(SystemExit):  # argparse refuses the key once it is gone
        main(["train", "--scenario", "churn", "--data", "x.csv"])
    assert "invalid choice: 'churn'" in capsys.readouterr().err


def test_cli_trains_saves_and_scores_a_file_in_chunks(trained, tmp_path, capsys):
    from core.cli import main

    meta = json.loads((trained / "metadata.json").read_text())
    ws = meta["workspace"]
    assert meta["scenario"] == "churn" and ws["decision"] == {"threshold": 0.4, "offer_cost": 25.0}
    assert ws["intended_use"] == CHURN.intended_use and ws["limitations"] == list(CHURN.limitations)
    assert 0.5 < ws["headline"]["quality"][0]["value"] <= 1.0  # ROC-AUC of a model that learnt something
    new = tmp_path / "next_month.csv"
    make_customers(250, seed=1).to_csv(new, index=False)
    out = tmp_path / "scored.csv"
    assert main(["score", "--model", str(trained), "--data", str(new), "--out", str(out), "--chunk-size", "100",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    scored = pd.read_csv(out)
    assert result["rows"] == len(scored) == 250 and result["threshold"] == 0.4
    assert scored["churn_probability"].between(0, 1).all()
    assert {d["variable"] for d in result["drift"]} == set(FEATURES)
    # A file without a column the model reads: a clear message, nothing written.
    make_customers(50, seed=2).drop(columns="support_calls").to_csv(new, index=False)
    assert main(["score", "--model", str(trained), "--data", str(new), "--out", str(tmp_path / "bad.csv")]) == 1
    assert "missing: ['support_calls']" in capsys.readouterr().err and not (tmp_path / "bad.csv").exists()


def test_runs_listing_and_the_runs_page_show_the_toy_run(trained):
    from core.workspace.runs import filter_runs, get_run_row, list_workspace_runs
    from core.workspace.summary import get_latest_runs

    runs, skipped = list_workspace_runs(trained.parent)
    row = get_run_row(filter_runs(runs, scenario="churn")[0])
    assert not skipped and row["scenario"] == "churn" and row["quality"].startswith("ROC-AUC 0.")
    assert row["impact"].startswith("Value kept €") and row["data"] == "customers.csv"
    assert "churn" in get_latest_runs(trained.parent)[0]
    at = AppTest.from_file(str(ROOT / "pages" / "runs.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["run_id"]) == ["churn-1"] and list(table["scenario"]) == ["Customer churn"]


def test_score_with_run_and_the_score_page_score_the_toy(trained):
    from core.workspace.inputs import get_expected_input
    from core.workspace.scoring import get_decision_settings, score_with_run

    meta = json.loads((trained / "metadata.json").read_text())
    assert get_expected_input(meta)["columns"] == {c: "number" for c in FEATURES}
    assert get_decision_settings(meta) == {"threshold": 0.4}
    df = make_customers(300, seed=3)
    result = score_with_run(trained, df, settings={"threshold": 0.9})
    assert result.scenario == "churn" and result.settings == {"threshold": 0.9}
    assert result.figures[1] == ("Offers", f"{int((result.scored['churn_probability'] >= 0.9).sum()):,}")
    assert set(result.drift["variable"]) == set(FEATURES) and result.columns.extra == ("customer_id", TARGET)
    with pytest.raises(ColumnMismatchError, match="tenure_months"):
        score_with_run(trained, df.drop(columns="tenure_months"))
    # The Score page: pick the run, upload a file, read the figures and the decisions.
    at = AppTest.from_file(str(ROOT / "pages" / "score.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    # The page draws the toy's own decision setting from its hook, at the saved value, and uses it.
    slider = at.slider(key="score.churn-1.thr")
    assert slider.label == "Offer when P(leave) is at or above" and slider.value == 0.4
    assert "Decision: offer / no offer per customer." in [c.value for c in at.caption]
    slider.set_value(0.9)
    at.file_uploader(key="score.upload.False").set_value(("customers.csv", df.to_csv(index=False).encode(),
                                                          "text/csv"))
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric][-2:] == ["Customers scored", "Offers"]
    assert at.metric[-2].value == "300"
    assert at.metric[-1].value == f"{int((result.scored['churn_probability'] >= 0.9).sum()):,}"
    decisions = next(d.value for d in at.dataframe if "Customers" in getattr(d.value, "columns", []))
    assert decisions["Customers"].sum() == 300 and set(decisions["Decision"]) <= {"offer", "no offer"}


def test_model_card_has_the_toy_texts_and_its_own_section(trained):
    from core.workspace.report import build_report_html

    html = build_report_html(trained)
    assert "Customer churn" in html and CHURN.model_text in html and CHURN.limitations[0] in html
    assert '<section id="retention-offer"><h2>Retention offer</h2><p>Offer cost 25.0 per contacted' in html
    assert html.index("Retention offer") < html.index('id="limitations"')
    assert "not part of the Customer churn card" in html  # the shared Fairness note names the scenario


def test_registering_or_asking_for_a_scenario_wrongly_says_how_to_fix_it():
    from core.errors import DataValidationError
    from core.store.scenarios import get_scenario

    class NoKey(ChurnScenario):
        key = "customer churn"

    class NoScore:
        key, title = "half", "Half a scenario"

    with pytest.raises(DataValidationError, match="needs a key made of letters.*got 'customer churn'.*Fix: set"):
        register(NoKey())
    with pytest.raises(DataValidationError, match=r"'half' does not implement .*'input_kind'.*Fix: subclass"):
        register(NoScore())
    with pytest.raises(DataValidationError, match="Scenario must be one of credit, fraud, demand, quality; got "
                                                  "'weather'.*Fix:"):
        get_scenario("weather")
    assert "half" not in scenario_keys() and "customer churn" not in scenario_keys()

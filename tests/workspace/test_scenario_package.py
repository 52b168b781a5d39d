"""A fifth scenario is one package plus one page, found without editing a shared file.

The test writes a small customer-churn package (engine, command line, ``Scenario`` and a page) into a
temporary folder, names it in ``STUDIO_SCENARIOS`` and, in fresh processes, trains and scores it with
``python -m core``, lists it with the Runs code, scores it with ``core.serve.batch.score_with_run``, writes its
model card and opens the app, whose navigation and Overview offer it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "churn_scenario"

ENGINE = '''
"""Customer churn: a logistic regression on three columns, its weights saved as JSON."""
import json
from pathlib import Path

import numpy as np

FEATURES = ["tenure_months", "monthly_charges", "support_calls"]
TARGET = "churned"


def train(df, seed=0):
    from sklearn.linear_model import LogisticRegression

    cut = int(len(df) * 0.7)
    train, test = df.iloc[:cut], df.iloc[cut:]
    mean, std = train[FEATURES].mean(), train[FEATURES].std().replace(0, 1)
    lr = LogisticRegression(random_state=seed).fit((train[FEATURES] - mean) / std, train[TARGET])
    weights = {"coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "mean": mean.tolist(),
               "std": std.tolist()}
    return {"weights": weights, "train": train, "test": test, "y_test": test[TARGET].to_numpy(),
            "p_test": predict(weights, test)}


def predict(weights, df):
    x = (df[FEATURES].to_numpy(float) - np.array(weights["mean"])) / np.array(weights["std"])
    return 1 / (1 + np.exp(-(x @ np.array(weights["coef"]) + weights["intercept"])))


def load_weights(run_dir):
    return json.loads((Path(run_dir) / "weights.json").read_text())


def save(run, folder, workspace):
    from core.store.registry import save_run

    folder = Path(folder)
    return save_run(folder.parent, run_id=folder.name, model=None,
                    metadata={"scenario": "churn", "workspace": workspace, "metrics": {"network": {}}},
                    files={"weights.json": json.dumps(run["weights"]).encode()})
'''

CLI = '''
"""python -m core train / score --scenario churn"""
from pathlib import Path

from churn_scenario import engine


def add_train_arguments(parser):
    parser.add_argument_group("churn").add_argument("--offer-cost", type=float, default=20.0)


def run_train(args):
    from core.data.datasets import read_table
    from core.report.runsummary import default_run_name
    from core.store.scenarios import get_scenario

    df = read_table(args.data).df
    run = engine.train(df, seed=args.seed)
    out = {"scenario": "churn", "metrics": {"test_rows": len(run["test"])}, "baselines": {}, "timings": {}}
    if args.save:
        ws = get_scenario("churn").build_summary(run, name=default_run_name("churn", args.data), threshold=0.4,
                                                 offer_cost=args.offer_cost, data=df,
                                                 dataset_name=Path(args.data).name)
        out["saved_to"] = str(engine.save(run, args.save, ws))
    return out


def add_score_arguments(parser):
    parser.add_argument_group("churn").add_argument("--threshold", type=float, default=None)


def run_score(args):
    from core.store.registry import read_metadata
    from core.store.scenarios import get_scenario
    from core.serve.streaming import stream_score

    meta = read_metadata(args.model)
    weights = engine.load_weights(args.model)
    thr = get_scenario("churn").decision_settings(meta)["threshold"] if args.threshold is None else args.threshold
    done = stream_score(meta, args.data, args.out,
                        lambda part: part.assign(churn_probability=engine.predict(weights, part)),
                        chunk_size=args.chunk_size)
    return {"rows": done.rows, "threshold": thr}
'''

SCENARIO = '''
"""Customer churn as the workspace sees it."""
from pathlib import Path

import numpy as np

from core.store.scenarios import DecisionControl, ScenarioBase, ScenarioSpec, register
from churn_scenario import engine

SPEC = ScenarioSpec("churn", "Customer churn", ":material/person_remove:",
                    "Which subscribers will leave next month?",
                    "A logistic regression ranks subscribers by their chance of leaving.",
                    "CSV: tenure_months, monthly_charges, support_calls, churned.",
                    str(Path(__file__).with_name("page.py")), package="churn_scenario")


class ChurnScenario(ScenarioBase):
    key = "churn"
    title = SPEC.title
    spec = SPEC
    order = 50
    intended_use = "Rank subscribers by their chance of leaving so that retention offers go to the likeliest."
    limitations = ("Three columns and a logistic regression.",)
    model_text = "Logistic regression (scikit-learn) on tenure, monthly charges and support calls."
    decision_words = "offer / no offer per customer"

    def build_summary(self, run, *, name, threshold, offer_cost=20.0, data=None, dataset_name=None):
        from core.data.drift import build_profile
        from core.ml.metrics import compute_binary_metrics
        from core.report.runsummary import envelope, get_fingerprint, money_figure, quality_figure, roc_pr_curves

        y, p = run["y_test"], run["p_test"]
        offered = p >= threshold
        m = compute_binary_metrics(y, p, threshold)
        return envelope(
            "churn", name=name, dataset=get_fingerprint(data if data is not None else run["train"],
                                                        name=dataset_name),
            params={"model": "logistic_regression"}, quality=[quality_figure("ROC-AUC", m["roc_auc"])],
            impact=[money_figure("Offer cost", -offer_cost * int(offered.sum()))],
            assumptions=[f"Offer cost {offer_cost:g} per customer"],
            input_={"columns": engine.FEATURES, "numeric": engine.FEATURES, "categorical": [], "kind": "table",
                    "target": engine.TARGET},
            profile=build_profile(run["train"], numeric=engine.FEATURES), curves=roc_pr_curves(y, p),
            decision={"threshold": float(threshold), "offer_cost": float(offer_cost)}, explain={})

    def decision_controls(self, meta):
        return (DecisionControl("threshold", "Offer when P(leave) is at or above", 0.0, 1.0, 0.01, key="thr"),)

    def score(self, run_dir, meta, df, s, *, progress, reason_rows):
        from core.serve.batch import BatchResult

        thr = float(s["threshold"])
        p = engine.predict(engine.load_weights(run_dir), df)
        scored = df.assign(churn_probability=p, decision=np.where(p >= thr, "offer", "no offer"))
        decisions = scored["decision"].value_counts().rename_axis("decision").reset_index(name="customers")
        progress(1.0, "Done")
        return BatchResult("churn", Path(run_dir).name, scored, [("Offers", f"{int((p >= thr).sum()):,}")],
                           decisions, {"threshold": thr})

    def card_sections(self, meta, ws):
        from core.present.card import esc

        return {"Retention offer": f"<p>Offer cost {esc(ws['decision']['offer_cost'])} per customer.</p>"}


register(ChurnScenario())
'''

PAGE = '''
import streamlit as st

st.title("Customer churn")
upload = st.file_uploader("Subscribers (CSV)", type=["csv"], key="churn.upload")
st.caption("Columns: tenure_months, monthly_charges, support_calls and the outcome churned.")
'''

# Runs in a fresh process with the package on the path: the workspace doors that find a scenario.
WORKSPACE_CHECK = '''
import json, sys
from pathlib import Path

import pandas as pd

root, new = Path(sys.argv[1]), sys.argv[2]
from core.store.scenarios import SCENARIOS, scenario_keys
from core.workspace.runs import list_workspace_runs
from core.serve.batch import score_with_run
from core.workspace.report import build_report_html
from core.store.registry import check_run_folder

runs, skipped = list_workspace_runs(root)
result = score_with_run(root / "churn-1", pd.read_csv(new), settings={"threshold": 0.5})
html = build_report_html(root / "churn-1")
spec = SCENARIOS["churn"]
print(json.dumps({"keys": list(scenario_keys()), "runs": [[r.get("scenario"), r.get("run_id")] for r in runs],
                  "skipped": skipped, "folder_problem": check_run_folder(root / "churn-1"),
                  "scored": len(result.scored), "offers": int((result.scored["churn_probability"] >= 0.5).sum()),
                  "figures": result.figures, "drift": sorted(result.drift["variable"]),
                  "card_title": "Customer churn" in html, "card_section": "<h2>Retention offer</h2>" in html,
                  "card_method": "Logistic regression (scikit-learn)" in html,
                  "available": spec.available, "page": spec.page}))
'''

APP_CHECK = '''
import json, sys
from streamlit.testing.v1 import AppTest

at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
seen = {"exception": [str(e.value) for e in at.exception], "subheaders": [h.value for h in at.subheader],
        "markdown": [m.value for m in at.markdown], "buttons": [b.label for b in at.button]}
at.switch_page(sys.argv[2]).run()  # the package's page, through the app's navigation
seen.update(page_exception=[str(e.value) for e in at.exception], titles=[t.value for t in at.title],
            uploads=[u.label for u in at.get("file_uploader")])
print(json.dumps(seen))
'''

APP_ERRORS = '''
import json, sys
from streamlit.testing.v1 import AppTest

at = AppTest.from_file(sys.argv[1], default_timeout=120).run()
print(json.dumps({"exception": [str(e.value) for e in at.exception], "errors": [e.value for e in at.error],
                  "subheaders": [h.value for h in at.subheader]}))
'''


def make_customers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"tenure_months": rng.integers(1, 72, n), "monthly_charges": rng.normal(60, 15, n).round(2),
                       "support_calls": rng.poisson(1.5, n)})
    logit = -0.05 * df["tenure_months"] + 0.03 * (df["monthly_charges"] - 60) + 0.6 * df["support_calls"] - 0.5
    df["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def write_package(parent: Path) -> Path:
    """The churn package written into ``parent`` (a folder outside the repository); returns its folder."""
    folder = parent / PACKAGE
    folder.mkdir(parents=True)
    for name, text in {"__init__.py": "", "engine.py": ENGINE, "cli.py": CLI, "scenario.py": SCENARIO,
                       "page.py": PAGE}.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip())
    return folder


@pytest.fixture
def package(tmp_path):
    return write_package(tmp_path / "ext")


def _env(tmp_path, package_dir: Path, **extra) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_dir.parent), str(ROOT)]),
            "STUDIO_SCENARIOS": PACKAGE, "STUDIO_RUNS_DIR": str(tmp_path / "runs"), **extra}


def _run(args, env, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_package_named_in_the_setting_is_found_by_every_door(package, tmp_path):
    env, root = _env(tmp_path, package), tmp_path / "runs"
    data, new = tmp_path / "customers.csv", tmp_path / "next_month.csv"
    make_customers(600, seed=0).to_csv(data, index=False)
    make_customers(250, seed=1).to_csv(new, index=False)
    # The command line: train and save, then score a file in chunks.
    done = _run(["-m", "core", "train", "--scenario", "churn", "--data", str(data), "--offer-cost", "25",
                 "--save", str(root / "churn-1"), "--json"], env)
    assert done.returncode == 0, done.stderr
    trained = json.loads(done.stdout)
    assert trained["saved_to"] == str(root / "churn-1") and trained["metrics"]["test_rows"] == 180
    scored_file = tmp_path / "scored.csv"
    done = _run(["-m", "core", "score", "--model", str(root / "churn-1"), "--data", str(new), "--out",
                 str(scored_file), "--chunk-size", "100", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 250 and json.loads(done.stdout)["threshold"] == 0.4
    assert pd.read_csv(scored_file)["churn_probability"].between(0, 1).all()
    # Runs listing, the Score path and the model card.
    (tmp_path / "check.py").write_text(WORKSPACE_CHECK)
    done = _run([str(tmp_path / "check.py"), str(root), str(new)], env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["keys"] == ["credit", "fraud", "demand", "quality", "churn"]
    assert seen["runs"] == [["churn", "churn-1"]] and seen["skipped"] == [] and seen["folder_problem"] is None
    assert seen["scored"] == 250 and seen["figures"] == [["Offers", f"{seen['offers']:,}"]]
    assert seen["drift"] == ["monthly_charges", "support_calls", "tenure_months"]
    assert seen["card_title"] and seen["card_section"] and seen["card_method"]
    assert seen["available"] and seen["page"] == str(package / "page.py")


def test_the_app_offers_the_package_in_its_navigation(package, tmp_path):
    (tmp_path / "app_check.py").write_text(APP_CHECK)
    done = _run([str(tmp_path / "app_check.py"), str(ROOT / "app.py"), str(package / "page.py")],
                _env(tmp_path, package))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # The Overview links every scenario's page with st.page_link, which fails for a page not in the navigation.
    assert seen["exception"] == []
    assert any("Customer churn" in h for h in seen["subheaders"])
    assert sum(any(t in h for h in seen["subheaders"]) for t in ("Credit scoring", "Quality inspection")) == 2
    # The Overview counts and names the scenarios found, the package's too; the demo button counts the demos
    # (the package brings none) and says which scenarios it trains.
    text = " ".join(seen["markdown"])
    assert ("Five scenarios: credit scoring, fraud detection, demand forecasting, quality inspection and customer "
            "churn.") in text
    assert "Run all four demos" in seen["buttons"]
    assert ("trains each scenario with a demo (credit scoring, fraud detection, demand forecasting and quality "
            "inspection)") in text
    assert text.count("or *Run all four demos* above") == 4 and text.count("press *Save to workspace*.") == 1
    assert seen["page_exception"] == [] and seen["titles"] == ["Customer churn"]
    assert seen["uploads"] == ["Subscribers (CSV)"]


def test_a_wrong_package_setting_says_how_to_fix_it(tmp_path, monkeypatch):
    from core.errors import DataValidationError
    from core.store.scenarios import discover, extension_problems, get_scenario, scenario_keys

    monkeypatch.setenv("STUDIO_SCENARIOS", "no_such_scenario_pkg")
    with pytest.raises(DataValidationError, match="names the package 'no_such_scenario_pkg', which Python cannot "
                                                  "import. Fix: put the folder"):
        discover(strict=True)
    # Left out, not in the way: the built-in scenarios still answer, and asking for a missing one says why.
    assert scenario_keys() == ("credit", "fraud", "demand", "quality") and len(extension_problems()) == 1
    with pytest.raises(DataValidationError, match=r"got 'churn'. \(STUDIO_SCENARIOS names the package "
                                                  r"'no_such_scenario_pkg'.*\) Fix: pass the key"):
        get_scenario("churn")
    monkeypatch.setenv("STUDIO_SCENARIOS", "churn scenario")
    with pytest.raises(DataValidationError, match="importable package names.*got 'churn scenario'.*Fix"):
        discover(strict=True)
    empty = tmp_path / "ext" / "empty_scenario_pkg"
    empty.mkdir(parents=True)
    (empty / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(empty.parent))
    monkeypatch.setenv("STUDIO_SCENARIOS", "empty_scenario_pkg")
    with pytest.raises(DataValidationError, match="'empty_scenario_pkg' in STUDIO_SCENARIOS registers no scenario. "
                                                  "Fix: call core.store.scenarios.register"):
        discover(strict=True)
    broken = tmp_path / "ext" / "broken_scenario_pkg"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    (broken / "scenario.py").write_text("import not_installed_anywhere_pkg\n")
    monkeypatch.setenv("STUDIO_SCENARIOS", "broken_scenario_pkg")
    with pytest.raises(DataValidationError, match="'broken_scenario_pkg' in STUDIO_SCENARIOS failed while "
                                                  "'broken_scenario_pkg.scenario' was imported: ModuleNotFoundError: "
                                                  ".*not_installed_anywhere_pkg.*Fix: install what it needs"):
        discover(strict=True)
    monkeypatch.delenv("STUDIO_SCENARIOS")
    discover(strict=True)  # nothing named: the built-in scenarios only
    assert extension_problems() == []


def test_the_command_line_and_the_app_say_what_is_wrong_with_the_setting(tmp_path):
    env = {**os.environ, "STUDIO_SCENARIOS": "no_such_scenario_pkg", "STUDIO_RUNS_DIR": str(tmp_path / "runs")}
    done = _run(["-m", "core", "train", "--scenario", "credit", "--data", str(tmp_path / "x.csv")], env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "STUDIO_SCENARIOS names the package 'no_such_scenario_pkg', which Python cannot import." in done.stderr
    (tmp_path / "app_check.py").write_text(APP_ERRORS)
    done = _run([str(tmp_path / "app_check.py"), str(ROOT / "app.py")], env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["exception"] == [] and len(seen["errors"]) == 1 and "'no_such_scenario_pkg'" in seen["errors"][0]
    assert any("Credit scoring" in h for h in seen["subheaders"])  # the built-in scenarios are still offered

"""One approve / review / block rule for a saved fraud run, whichever door scores: the Score page's path
(``core.serve.batch.score_with_run`` → ``core.fraud.scenario.score_fraud_batch``), ``python -m core score`` and the
monitor all decide at ``core.fraud.service.decision_thresholds``.

A tiny run (one epoch on the bundled log's first customers) scores its later transactions; the saved
thresholds are set to quantiles of the risks, so every band holds rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import DataValidationError
from tests.server.conftest import FRAUD_CUSTOMERS, cli_score, train

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def fraud_door(tmp_path_factory):
    """(run folder, later transactions as CSV, the risks the run gives them)."""
    from core.serve.batch import score_with_run

    work = tmp_path_factory.mktemp("fraud_doors")
    log = pd.read_csv(SAMPLES / "fraud_transactions.csv.gz")
    log = log[log["customer_id"] < FRAUD_CUSTOMERS].reset_index(drop=True)
    cut = int(len(log) * 0.85)
    log.iloc[:cut].to_csv(work / "train.csv", index=False)
    log.iloc[cut:].drop(columns="is_fraud").to_csv(work / "later.csv", index=False)
    run = train("--scenario", "fraud", "--data", str(work / "train.csv"), "--epochs", "1", "--no-explain",
                "--seed", "0", "--save", str(work / "runs" / "fraud-1"))
    later = pd.read_csv(work / "later.csv")
    risk = score_with_run(run, later, reason_rows=0).scored["risk"].to_numpy(float)
    meta = json.loads((run / "metadata.json").read_text())
    review, block = (float(v) for v in np.quantile(risk, [0.6, 0.85]))
    meta["workspace"]["decision"].update(review_threshold=review, block_threshold=block)
    (run / "metadata.json").write_text(json.dumps(meta))
    return run, work / "later.csv", risk


def _decisions(scored: pd.DataFrame) -> pd.Series:
    return scored.set_index("transaction_id")["decision"].astype(str).sort_index()


def _page_and_cli(fraud_door, tmp_path, settings: dict, flags: list[str]):
    from core.serve.batch import score_with_run

    run, later, _ = fraud_door
    page = score_with_run(run, pd.read_csv(later), settings=settings, reason_rows=0)
    cli = cli_score(run, later, tmp_path / "scored.csv", *flags)
    return page, _decisions(page.scored), _decisions(cli)


def test_the_page_and_the_cli_decide_alike_at_the_saved_thresholds(fraud_door, tmp_path):
    page, on_page, by_cli = _page_and_cli(fraud_door, tmp_path, {}, [])
    assert len(on_page) == len(by_cli) == len(fraud_door[2])
    assert on_page.equals(by_cli)
    assert set(on_page) == {"approve", "review", "block"}
    assert not any("is below the review threshold" in n for n in page.notices)


def test_a_review_threshold_above_the_saved_block_blocks_every_alert_on_both(fraud_door, tmp_path):
    """The saved block threshold is raised to the review one on the page as on the command line
    (the page used to refuse it while `score --threshold` blocked every alert)."""
    review = float(np.quantile(fraud_door[2], 0.95))
    page, on_page, by_cli = _page_and_cli(fraud_door, tmp_path, {"review_threshold": review},
                                          ["--threshold", str(review)])
    assert on_page.equals(by_cli)
    assert set(on_page) == {"approve", "block"} and (on_page == "block").sum() > 0
    assert page.settings["block_threshold"] == review
    assert any("is below the review threshold" in n and "every alert is blocked" in n for n in page.notices)


def test_the_monitor_decides_as_the_cli_even_with_a_saved_block_below_review(fraud_door, tmp_path):
    """A run whose saved block threshold is below its review one (edited by hand, or saved before the
    rule): the monitor blocked the rows between the two, the command line reviewed none of them."""
    import shutil

    from core.fraud.monitoring import MONITOR
    from core.store.registry import read_metadata

    run, later, risk = fraud_door
    odd = shutil.copytree(run, tmp_path / "fraud-odd")
    meta = json.loads((odd / "metadata.json").read_text())
    meta["workspace"]["decision"].update(review_threshold=float(np.quantile(risk, 0.85)),
                                         block_threshold=float(np.quantile(risk, 0.6)))
    (odd / "metadata.json").write_text(json.dumps(meta))
    cli = cli_score(odd, later, tmp_path / "scored.csv")
    decided = MONITOR.decide(read_metadata(odd), cli["risk"].to_numpy(float))
    assert list(decided) == list(cli["decision"].astype(str))
    assert set(decided) == {"approve", "block"}


def test_a_block_threshold_chosen_below_review_is_refused(fraud_door):
    from core.serve.batch import score_with_run

    run, later, _ = fraud_door
    with pytest.raises(DataValidationError, match=r"block threshold \(0\.2\) must be at or above the review "
                                                  r"threshold \(0\.5\)\. Fix: raise the block threshold"):
        score_with_run(run, pd.read_csv(later), settings={"review_threshold": 0.5, "block_threshold": 0.2})
    with pytest.raises(DataValidationError, match=r"Expected the block threshold between 0 and 1; got 1\.5"):
        score_with_run(run, pd.read_csv(later), settings={"block_threshold": 1.5})
    with pytest.raises(DataValidationError, match=r"Expected the review threshold between 0 and 1; got -0\.1"):
        score_with_run(run, pd.read_csv(later), settings={"review_threshold": -0.1})


def test_the_score_page_blocks_every_alert_above_the_saved_block_with_a_note(fraud_door, monkeypatch):
    """On the page: the review slider moved above the saved block threshold scores (it used to stop
    with an error) and says why there is no review band; the decisions are the command line's."""
    from streamlit.testing.v1 import AppTest

    from tests.server.conftest import ROOT

    run, later, risk = fraud_door
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(run.parent))
    at = AppTest.from_file(str(ROOT / "pages" / "score.py"), default_timeout=180).run()
    at.selectbox(key="score.run").set_value(run.name).run()
    review = round(float(np.quantile(risk, 0.95)), 3)
    at.slider(key=f"score.{run.name}.review").set_value(review)
    at.checkbox(key="score.log").uncheck()
    at.file_uploader(key="score.upload.False").set_value(("later.csv", later.read_bytes(), "text/csv"))
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    scored = next(d.value for d in at.dataframe if hasattr(d.value, "columns") and "decision" in d.value.columns)
    assert set(scored["decision"]) == {"approve", "block"}
    assert (scored["risk"] >= review).sum() == (scored["decision"] == "block").sum()
    notes = " ".join(m.value for m in at.markdown)
    assert "is below the review threshold" in notes and "every alert is blocked" in notes

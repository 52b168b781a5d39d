"""The Score page with a fraud run whose card number is the customer key (a keyed pseudonym, core/data/pseudonym.py):
an uploaded file's raw card numbers are pseudonymised with the run's secret, so the page gives the risks of
``python -m core score`` on the same file, and no raw number is on the page.

Generator: ``scripts/make_card_log.py`` (the public card-transaction log's look-alike: ``cc_num`` repeating per
card, names, street, date of birth, merchants, fraud bursts), 70 cards over 50 days; the last 150 rows scored.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from core.data.pseudonym import is_pseudonym
from tests.server.conftest import cli_score, train

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from make_card_log import make_card_transactions  # noqa: E402


def test_score_page_pseudonymises_a_keyed_runs_card_numbers(tmp_path, monkeypatch):
    log = make_card_transactions(70, days=50, seed=3)
    log.iloc[:-150].to_csv(tmp_path / "cards.csv", index=False)
    run = train("--scenario", "fraud", "--data", str(tmp_path / "cards.csv"), "--epochs", "1", "--no-explain",
                "--save", str(tmp_path / "runs" / "cards-1"))
    later = log.iloc[-150:].drop(columns="is_fraud")
    later.to_csv(tmp_path / "later.csv", index=False)
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(run.parent))
    at = AppTest.from_file(str(ROOT / "pages" / "score.py"), default_timeout=180).run()
    at.selectbox(key="score.run").set_value(run.name).run()
    at.file_uploader(key="score.upload.False").set_value(("later.csv", (tmp_path / "later.csv").read_bytes(),
                                                          "text/csv"))
    at.button(key="FormSubmitter:score.form-Score file").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    scored = next(d.value for d in at.dataframe if hasattr(d.value, "columns") and "risk" in d.value.columns)
    assert len(scored) == 150 and scored["cc_num"].map(is_pseudonym).all()
    raw = {str(v) for v in log["cc_num"].unique()}
    shown = " ".join(d.value.to_csv() for d in at.dataframe if hasattr(d.value, "to_csv"))
    shown += " ".join(e.value for e in [*at.markdown, *at.caption, *at.warning, *at.info, *at.success])
    assert not [v for v in raw if v in shown]
    # The same risk per card and time as the command line, which reads the file with the run's secret.
    cli = cli_score(run, tmp_path / "later.csv", tmp_path / "scored.csv")
    on_page = scored.sort_values(["cc_num", "trans_date_trans_time"])["risk"].to_numpy(float)
    by_cli = cli.sort_values(["cc_num", "trans_date_trans_time"])["risk"].to_numpy(float)
    assert np.allclose(on_page, by_cli, atol=1e-5)

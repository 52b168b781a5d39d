"""The fraud page with a label spelled otherwise (AppTest): fraud / ok / pending, where the analyst
says which value means fraud and what the others mean before the log is checked."""

from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest
from tests.conftest import errors_besides_trust

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "fraud.py")


def log_with_words(n: int = 2000, days: int = 40) -> pd.DataFrame:
    """A 40-day log whose label is 'fraud' (every 40th), 'pending' (every 97th of the rest) or 'ok'."""
    rng = np.random.default_rng(0)
    t = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, days * 86400, n)), unit="s")
    i = np.arange(n)
    label = np.where(i % 40 == 0, "fraud", np.where(i % 97 == 0, "pending", "ok"))
    return pd.DataFrame({"timestamp": t.astype(str), "card_id": rng.integers(0, 50, n), "shop": rng.integers(0, 30, n),
                         "amount": rng.uniform(1, 100, n).round(2), "is_fraud": label})


def test_a_label_in_words_with_a_third_value_is_explained_before_the_log_is_used():
    df = log_with_words()
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="fraud.source").set_value("Upload my file").run()
    at.file_uploader(key="fraud.file").set_value(("log.txt", df.to_csv(index=False).encode(), "text/plain")).run()
    assert not at.exception and not errors_besides_trust(at), errors_besides_trust(at)
    assert next(s for s in at.selectbox if s.label.startswith("Value of 'is_fraud'")).value == "fraud"
    assert not at.metric  # the log waits for the other values to be explained
    next(r for r in at.radio if r.label.startswith("The values other than 'fraud'")).set_value("some").run()
    pending = int((df["is_fraud"] == "pending").sum())
    assert any(f"Left out {pending} row(s) whose 'is_fraud' is neither 'fraud'" in c.value for c in at.caption)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Transactions"] == f"{len(df) - pending:,}"
    assert tiles["Fraud rate"] == f"{(df['is_fraud'] == 'fraud').sum() / (len(df) - pending):.2%}"

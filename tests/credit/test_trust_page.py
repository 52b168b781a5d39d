"""AppTest: a credit model trained on a shuffled outcome is called no better than chance above the
page's tabs, in bold, and the warning follows the decline line (declining everyone is degenerate)."""

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "credit.py")


def test_shuffled_outcome_upload_is_flagged_above_the_tabs(small_df):
    df = small_df.head(1200)
    df = df.assign(default=np.random.default_rng(0).permutation(df["default"].to_numpy()))
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.radio(key="credit.source").set_value("Upload my file").run()
    at.file_uploader(key="credit.upload").set_value(("shuffled.csv", df.to_csv(index=False).encode(),
                                                     "text/csv")).run()
    assert not at.exception and not at.error
    next(n for n in at.number_input if n.label.startswith("Epochs")).set_value(2)
    next(n for n in at.number_input if n.label == "Rows explained with SHAP").set_value(50)
    next(b for b in at.button if b.label == "Train model").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors and errors[0].startswith("**No better than chance.** The network's ROC-AUC is ")
    assert "holds 0.5, what random scores get" in errors[0]
    # Drawn in the page's header, above the tabs (whichever is open), not inside one of them.
    assert len(at.tabs) == 10 and all(errors[0] not in [e.value for e in tab.error] for tab in at.tabs)
    # Moving the decline line to 0 declines every applicant: the money then says nothing about the model.
    at.slider(key="credit.threshold").set_value(0.0).run()
    assert not at.exception
    assert any(e.value.startswith("**Declines 100.0 % of applicants.** At the decline threshold 0.000")
               for e in at.error)

"""A saved credit run as a predictor: the command-line scorer's step (``core.credit.service.score_chunk``) on each
request, so every applicant gets the probability of default, scorecard points, grade, approve / decline
and, when declined, four reason codes (SHAP over the network, on either runtime), as in the scored file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from core.serve.serving import Predictor


class CreditPredictor(Predictor):
    def __init__(self, run_dir: Path, *, runtime: str):
        from core.credit.persist import load_credit_model

        self.model = load_credit_model(run_dir, runtime=runtime)
        super().__init__(run_dir, self.model.metadata, runtime=runtime)
        self.threshold = self.model.threshold  # what `python -m core score` decides at

    def example_row(self) -> dict:
        row = super().example_row()
        # Runs saved without a profile still know the training medians their reason codes quote.
        for c, v in self.model.references.items():
            if c in self.columns() and c not in row:
                row[c] = v
        return row

    def predict(self, df: pd.DataFrame, *, remember: bool = True) -> pd.DataFrame:
        from core.credit.service import score_chunk

        part = self.check(df)
        scored, _ = score_chunk(self.model, part, threshold=self.threshold, reasons=True, with_input=False)
        return scored


def make_predictor(run_dir: Path, *, runtime: str) -> CreditPredictor:
    return CreditPredictor(run_dir, runtime=runtime)

"""Fraud alert reasons quote amounts of money with the currency and thousands separators."""

from __future__ import annotations

import pandas as pd

from core.fraud.alerts import format_value, get_reasons, is_money_feature, reason_text, short_label


class _Shap:
    """The two things ``get_reasons`` reads from a SHAP result: the rows and each row's top reasons."""

    def __init__(self, rows: list[dict]):
        self.data = pd.DataFrame(rows)

    def top_reasons(self, i: int, k: int) -> pd.DataFrame:
        row = self.data.iloc[i]
        return pd.DataFrame({"feature": list(row.index[:k]), "value": list(row.values[:k])})


def test_money_features_carry_the_currency():
    assert format_value("amount", 1234.56, "USD") == "$1,235"
    assert format_value("amount", 57.16) == "€57.16"  # the studio's default currency
    assert format_value("cust_avg_amount_7d", 44.1, "GBP") == "£44.10"
    assert format_value("TX_AMOUNT", 25000, "EUR") == "€25,000" and short_label("TX_AMOUNT") == "TX amount"
    # Ratios, z-scores and counts built from amounts are not money.
    assert not is_money_feature("amount_to_cust_avg_30d") and format_value("amount_to_cust_avg_30d", 4.04) == "4.0x"
    assert not is_money_feature("amount_zscore_7d") and not is_money_feature("cust_avg_7d_to_30d")
    assert format_value("cust_nb_tx_7d", 1200.0) == "1200"


def test_reason_text_and_reasons_in_the_page_currency():
    assert reason_text("amount", 1250.0, 42.1, "GBP") == "Amount: £1,250 (typical £42.10)"
    shap = _Shap([{"amount": 4321.0, "term_risk_7d": 0.4}])
    (text,) = get_reasons(shap, {"amount": 40.0, "term_risk_7d": 0.0}, k=2, currency="USD")
    assert text == "Amount: $4,321 (typical $40); Terminal fraud rate, 7 days: 40% (typical 0%)"

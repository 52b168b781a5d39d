"""The credit service's decline rule and reason-row choice, shared by every door."""

import numpy as np

from core.credit.scoring import decide
from core.credit.service import declined_rows, riskiest


def test_declined_rows_follow_the_decline_rule_at_the_threshold():
    p = np.array([0.1, 0.3, 0.29999, 0.8, 0.3])
    rows = declined_rows(p, 0.3)
    assert rows.tolist() == [1, 3, 4]
    assert (decide(p, 0.3)[rows] == "decline").all() and (decide(p, 0.3)[np.setdiff1d(range(5), rows)] == "approve").all()


def test_riskiest_orders_by_probability_keeps_ties_in_row_order_and_limits():
    p = np.array([0.5, 0.9, 0.5, 0.7, 0.2])
    rows = np.array([0, 1, 2, 3])
    assert riskiest(p, rows, None).tolist() == [1, 3, 0, 2]
    assert riskiest(p, rows, 2).tolist() == [1, 3]
    assert riskiest(p, rows, 0).tolist() == []

"""Fraud detection scenario: transaction features without leakage, time-aware split, card
precision@k, cost policy, decision bands, imbalance comparison and an explained alert queue."""

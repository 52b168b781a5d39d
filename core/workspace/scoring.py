"""Batch scoring with a saved run, for the Score page: the engine lives on the ground floor
(``core.serve.batch.score_with_run``, each scenario's ``score`` hook, ``core.serve.decisions``), so the
scenario packages' command-line scorers use it without reaching up into the workspace. The
names pages and tests import from here are kept.
"""

from core.serve.batch import (PAGE_MAX_ROWS, REASON_ROWS, BatchResult, Progress, describe_overlap,
                        get_training_overlap, score_with_run)
from core.serve.decisions import check_probability, fraud_decisions, get_decision_settings

__all__ = ["PAGE_MAX_ROWS", "REASON_ROWS", "BatchResult", "Progress", "check_probability", "describe_overlap",
           "fraud_decisions", "get_decision_settings", "get_training_overlap", "score_with_run"]

"""The leakage audit before training: inputs that reconstruct or reveal the outcome.

Every tabular scenario runs it on its training rows only, before anything is fitted, at one point in
its pipeline, so the page, the CLI, the model search and a saved run all see the same result:

- credit and fraud (``audit_outcome``, ``core/audit/separation.py``): a column that separates the
  outcome at ROC-AUC >= 0.98 alone, is named like something recorded after it (chargeback,
  collection, write-off, ...), or is an identifier whose parts give the class; suspects are left out,
  except a column the analyst mapped to a role (fraud's amount): it stays, with a warning to check it.
- demand (``audit_covariates``, ``core/audit/covariates.py``): a covariate, or a set of covariates,
  that reconstructs the quantity (sums to it, or a linear fit has R² > 0.95), or that is measured with
  it (weather actuals, counts of the same thing); suspects enter through their past values only.

The analyst keeps a suspect with one click on the page or ``--keep-column NAME`` on the command line.
What was found and done is a ``LeakAudit`` (``core/audit/report.py``): notices for the page and the
CLI's standard error, ``to_dict()`` for the CLI's JSON (``"leakage"``) and the saved run's data
fingerprint (``workspace.dataset.leakage``).
"""

from core.audit.covariates import audit_covariates, observed_word
from core.audit.report import (ACTION_WORDS, KEPT, LEFT_OUT, MAPPED, NOT_INPUT, PAST_ONLY, Finding, LeakAudit,
                               add_keep_argument, keep_list)
from core.audit.separation import AUC_LEAK, audit_outcome, post_outcome_word

__all__ = ["ACTION_WORDS", "AUC_LEAK", "KEPT", "LEFT_OUT", "MAPPED", "NOT_INPUT", "PAST_ONLY", "Finding", "LeakAudit",
           "add_keep_argument", "attach_to_fingerprint", "audit_covariates", "audit_outcome", "keep_list",
           "observed_word", "post_outcome_word"]


def attach_to_fingerprint(dataset: dict, audit) -> dict:
    """The saved run's data fingerprint with the audit under ``"leakage"`` (a ``LeakAudit`` or its dict)."""
    if audit is None:
        return dataset
    return {**dataset, "leakage": audit.to_dict() if isinstance(audit, LeakAudit) else dict(audit)}

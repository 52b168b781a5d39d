"""Budgeted model search: the network's settings tuned within a time budget the user gives.

``engine`` runs an Optuna study (TPE sampler, median pruner, fixed seed) over any scenario's
objective; ``tabular`` holds the objective of a tabular network (each scenario's own search, on its
own rows, is its package's ``search.py``); ``scenarios`` the JSON and records every search shares;
``ensemble`` chooses, on validation, the optional blend of the network with a baseline (the same
rule for every scenario); ``charts`` draws the trials with Plotly. Optuna is imported only inside these functions, so importing this package is cheap.
"""

from core.search.engine import (DEFAULT_PAGE_BUDGET, SearchProgress, SearchResult, TrialRecord, check_budget,
                                run_search)

__all__ = ["DEFAULT_PAGE_BUDGET", "SearchProgress", "SearchResult", "TrialRecord", "check_budget", "run_search"]

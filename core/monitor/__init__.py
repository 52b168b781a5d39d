"""The production loop of a saved run: prediction log, feedback, monitor, retrain and promote.

* ``store``: the log (one Parquet file per append, partitioned by day, read with DuckDB), retention;
* ``record``: ``PredictionRecorder``, what each scoring door (CLI, Score page, HTTP service) calls;
* ``feedback``: ``record_feedback(run_dir, outcomes) -> FeedbackResult`` (labels matched by id);
* ``report``: ``compute_monitor(run_dir, by=...)`` per period: drift, decisions, realized and estimated
  figures, alerts (``alerts``); ``calibration`` and ``cbpe`` for the estimates; ``charts`` draws them;
* ``retrain`` / ``lineage``: challenger on the original plus newly labelled rows, verdict, promotion;
* ``hooks``: the functions the HTTP service's routes call; ``cli``: the commands.

Each scenario's part is its ``monitor()`` hook (``spec.MonitorSpec`` in ``core/<name>/monitoring.py``);
nothing here names a scenario. Importing this package is cheap (pandas, DuckDB and scikit-learn
are imported by the functions that need them).
"""

"""The same scoring engine on a Dask cluster (``python -m core score ... --engine dask``).

One module per concern:

- ``cluster``: start a LocalCluster on this machine's cores, or connect to a running scheduler.
- ``inputs``: what ``--data`` names (a file, a glob, a Parquet folder) cut into row blocks.
- ``output``: parts written by the workers into a hidden folder, renamed into place when complete.
- ``engine``: ships the saved run to the workers once, runs one task per block, shows progress.
- ``run``, ``tables``, ``predlog``: the shared table run (column check, coercion, drift merge) and the
  prediction log of a scaled scoring.
- ``sample``: training on a file larger than memory (the block reader, a seeded uniform sample).

Each scenario's partition scorer lives in its own package (``core/<name>/scale.py``: ``run_score_dask``),
calling the single-process scorer's own functions so the two engines give the same rows; nothing here
names a scenario.

Nothing here is imported unless ``--engine dask`` is asked for: dask and distributed stay out of
the app's start-up.
"""

"""The job machinery's tests: worker processes that need no Keras for the job they run."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def light_workers(tmp_path_factory, monkeypatch):
    """Worker processes (cold and spare) find a stand-in ``keras`` first on their path, so a test of how jobs
    are started, handed over, cancelled and reported does not spend 6.6 CPU s importing TensorFlow per worker.
    The jobs these tests run (``tests.jobs.jobfuncs``: count, hold, die...) never use Keras; the tests that
    train a network, and one warm-spare test, keep the real library."""
    stub = tmp_path_factory.getbasetemp() / "light-workers"
    init = stub / "keras" / "__init__.py"
    if not init.exists():
        init.parent.mkdir(parents=True, exist_ok=True)
        # ``Model`` for core.jobs.store's check of a result for networks (nothing here is one).
        init.write_text('"""A stand-in for Keras in job-machinery tests."""\n\n\nclass Model:\n    pass\n')
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(stub), os.environ.get("PYTHONPATH")])))
    return stub

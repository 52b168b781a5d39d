"""The process killed (SIGKILL) while training, saving and scoring: no partial run, no partial output
file, and the runs listing still loads. Seeded random kill points; bench/bench_faults.py runs 50
trials of each kind, and the same kills on the real command line (TensorFlow training, Keras model
save, scoring), which take too long for the test run."""

from __future__ import annotations

from tests.hardening import faults


def test_killed_during_save_leaves_a_complete_run_or_none(tmp_path):
    counts = faults.save_trials(tmp_path, 5, seed=1)
    assert counts.ok, counts.problems
    assert counts.trials == 5 and counts.complete + counts.absent == 5
    assert counts.killed >= 2  # the kill points land inside the save, not after it


def test_killed_during_scoring_leaves_the_whole_file_or_none(tmp_path):
    counts = faults.score_trials(tmp_path, 5, seed=2, rows=30_000)
    assert counts.ok, counts.problems
    assert counts.complete + counts.absent == 5 and counts.killed >= 2


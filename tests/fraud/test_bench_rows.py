"""bench/bench_fraud.py's recommended-model rows: read from the run's ``recommended_section()`` (what the
command's JSON prints), and "ahead" only when every seed is."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench.bench_fraud import TARGET, recommended_entry, recommended_rows, recommended_verdict, save_scores


def fake_run(model: str, roc: float, ap: float, cp: float, *, network_roc: float = 0.5, k: int = 100):
    """A run whose recommended section and network metrics differ, so a row that read the network's is caught."""
    rec = {"roc_auc": roc, "pr_auc": ap, f"card_precision_at_{k}": cp}
    label = "Ensemble: 75 % Keras network + 25 % gradient boosting" if model == "ensemble" else "Keras network"
    ens = {"checked": True, "use": model == "ensemble", "metric": "pr_auc", "baseline": "gradient_boosting",
           "weight": 0.75, "validation_scores": {"network": 0.61, "gradient_boosting": 0.58, "ensemble": 0.63}}
    return SimpleNamespace(
        recommended_section=lambda: {"model": model, "label": label, "metrics": dict(rec)},
        tabular=SimpleNamespace(ensemble=ens), config=SimpleNamespace(k=k),
        metrics={"network": {"roc_auc": network_roc, "pr_auc": 0.1, f"card_precision_at_{k}": 0.1},
                 "gradient_boosting": {"roc_auc": 0.884, "pr_auc": 0.647, f"card_precision_at_{k}": 0.29}})


def test_rows_carry_the_recommended_section_of_each_seed_not_the_network():
    entries = [recommended_entry(0, fake_run("ensemble", 0.8812, 0.6904, 0.3014)),
               recommended_entry(1, fake_run("network", 0.8744, 0.6811, 0.2971))]
    rows = recommended_rows(entries)
    assert len(rows) == 2
    assert rows[0].startswith("| **Recommended, seed 0: Ensemble: 75 % Keras network + 25 % gradient boosting** |")
    assert "| 0.881 | 0.690 | 0.301 |" in rows[0]
    assert "seed 1: Keras network" in rows[1] and "| 0.874 | 0.681 | 0.297 |" in rows[1]
    assert "0.500" not in "".join(rows)  # the network's own figures are not the recommended model's
    assert entries[0]["baselines"]["gradient_boosting"]["roc_auc"] == 0.884
    assert "network" not in entries[0]["baselines"]


def test_gap_to_the_best_baseline_is_judged_on_every_seed():
    from bench.bench_fraud import baseline_gap

    # fake_run's best baseline is gradient boosting at 0.884: 0.8812 trails it by 0.0028, 0.8780 by 0.0060.
    near = recommended_entry(0, fake_run("ensemble", 0.8812, 0.69, 0.30))
    far = recommended_entry(1, fake_run("ensemble", 0.8780, 0.69, 0.30))
    assert baseline_gap([near]).startswith("Recommended ROC-AUC against the best baseline's, within 0.005 on every seed")
    assert "seed 0: 0.8812 vs gradient_boosting 0.8840 (-0.0028)" in baseline_gap([near])
    line = baseline_gap([near, far])
    assert "NOT within 0.005" in line and "seed 1: 0.8780 vs gradient_boosting 0.8840 (-0.0060)" in line
    assert "NOT within" in baseline_gap([])


def test_weeks_set_the_commands_dates():
    from bench.bench_fraud import cli_config

    handbook, early = cli_config(1), cli_config(1, "early")
    assert str(handbook.train_start) == "2018-07-25" and str(handbook.test_start) == "2018-08-08"
    assert str(early.train_start) == "2018-07-11" and str(early.test_start) == "2018-07-25"
    assert early.tabular.seed == 1 and early.tabular.ensemble_metric == handbook.tabular.ensemble_metric


def test_card_precision_follows_the_runs_k():
    e = recommended_entry(2, fake_run("network", 0.9, 0.7, 0.42, k=50))
    assert e["metrics"]["card_precision_at_100"] == 0.42  # the column of the run's own k


def test_ahead_only_when_every_seed_is_ahead():
    roc_t, ap_t, cp_t = TARGET
    entries = [recommended_entry(0, fake_run("ensemble", roc_t + 0.01, ap_t + 0.02, cp_t + 0.01)),
               recommended_entry(1, fake_run("network", roc_t - 0.002, ap_t + 0.03, cp_t + 0.005))]
    head, *per_seed = recommended_verdict(entries)
    assert f"ROC-AUC NOT ahead of {roc_t:.3f}" in head
    assert f"AP ahead of {ap_t:.3f}" in head and f"CP@100 ahead of {cp_t:.3f}" in head
    assert "(ensemble / network)" in head
    assert len(per_seed) == 2 and "seed 0: recommended ensemble" in per_seed[0]
    assert "network 0.6100, gradient_boosting 0.5800, ensemble 0.6300" in per_seed[0]
    assert "best blend 0.75 network + gradient_boosting" in per_seed[0]
    # A figure level with the target is not ahead of it.
    level = recommended_verdict([recommended_entry(0, fake_run("network", roc_t, ap_t + 0.1, cp_t + 0.1))])[0]
    assert f"ROC-AUC NOT ahead of {roc_t:.3f}" in level
    assert recommended_verdict([]) == []


def test_saved_scores_hold_each_models_validation_and_test_probabilities(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    tab = SimpleNamespace(y_val=rng.integers(0, 2, 20), y_test=rng.integers(0, 2, 8),
                          val_proba={"network": rng.random(20), "gradient_boosting": rng.random(20)},
                          proba={"network": rng.random(8), "gradient_boosting": rng.random(8)})
    test = pd.DataFrame({"day": pd.date_range("2018-08-08", periods=8).normalize(), "customer": range(8)})
    path = save_scores(SimpleNamespace(tabular=tab, test=test), 3, tmp_path / "scores")
    assert path.name == "seed_3.npz"
    with np.load(path) as z:
        assert np.array_equal(z["val_gradient_boosting"], tab.val_proba["gradient_boosting"])
        assert np.array_equal(z["test_network"], tab.proba["network"])
        assert np.array_equal(z["y_val"], tab.y_val) and list(z["card"]) == [str(i) for i in range(8)]


def noisy_scores(seed: int, *, perfect_baseline: bool) -> dict:
    """Saved probabilities of one seed: a network and a gradient boosting with independent errors (their
    average ranks better than either), or a gradient boosting that ranks the validation rows perfectly."""
    rng = np.random.default_rng(seed)

    def probs(y, noise):
        return 1 / (1 + np.exp(-(2.0 * y - 1 + noise * rng.standard_normal(len(y)))))

    y_val, y_test = (rng.random(2000) < 0.1).astype(int), (rng.random(600) < 0.1).astype(int)
    gb_val = y_val * 0.9 + 0.05 if perfect_baseline else probs(y_val, 1.5)
    return {"y_val": y_val, "y_test": y_test, "day": np.repeat(np.arange(6), 100), "card": np.arange(600).astype(str),
            "val_network": probs(y_val, 1.5), "test_network": probs(y_test, 1.5),
            "val_gradient_boosting": gb_val, "test_gradient_boosting": probs(y_test, 1.5)}


def test_check_rows_list_every_candidate_and_the_pick_of_each_metric():
    from core.ml.metrics import compute_binary_metrics

    from bench.bench_fraud import check_rows

    scores = noisy_scores(0, perfect_baseline=False)
    rows, picks = check_rows(scores)
    assert len(rows) == 2 + 3  # the network, the baseline and three blends of the two
    net = compute_binary_metrics(scores["y_val"], scores["val_network"])
    assert rows[0].startswith(f"| network | {net['roc_auc']:.4f} | {net['pr_auc']:.4f} |")
    assert any(r.startswith("| 50% network + gradient_boosting |") for r in rows)
    # Independent errors: a blend beats both models on the validation rows, by either metric.
    assert picks["pr_auc"].endswith("network + gradient_boosting") and picks["roc_auc"] != "network"
    # A baseline no blend can beat on validation: a blend still beats the network, so the check picks it, as the
    # command does (the better of the network and its blend; the line says the baseline alone scored higher).
    _, picked = check_rows(noisy_scores(1, perfect_baseline=True))
    assert all(p.endswith("network + gradient_boosting") for p in picked.values())
    # A network no blend can beat: the check keeps it.
    s = noisy_scores(1, perfect_baseline=True)
    s = {**s, "val_network": s["val_gradient_boosting"], "val_gradient_boosting": s["val_network"]}
    assert check_rows(s)[1] == {"pr_auc": "network", "roc_auc": "network"}


def test_check_part_reads_saved_seeds_and_says_what_is_missing(tmp_path, capsys):
    from bench.bench_fraud import main

    empty = tmp_path / "empty"
    empty.mkdir()
    main(["--part", "check", "--scores-dir", str(empty)])
    assert f"No seed_<n>.npz in {empty}: run the quality part with --scores-dir" in capsys.readouterr().out
    np.savez_compressed(tmp_path / "seed_4.npz", **noisy_scores(2, perfect_baseline=False))
    main(["--part", "check", "--scores-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "### Ensemble check, seed_4: validation 2,000 rows" in out
    from core.fraud.pipeline import FRAUD_TABULAR

    # Each metric's pick, the command's default named as such and the other by the flag that asks for it.
    roc, ap = (" (the default)" if FRAUD_TABULAR.ensemble_metric == m else f" (--search-metric {m})"
               for m in ("roc_auc", "pr_auc"))
    assert f"Picked when the check scores by ROC-AUC{roc}:" in out and f"; by average precision{ap}:" in out
    assert roc != ap
    with pytest.raises(SystemExit):
        main(["--part", "check"])
    assert "--part check reads the probabilities the quality part saved: give --scores-dir DIR" in \
        capsys.readouterr().err

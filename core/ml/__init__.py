"""Training and judging a network: models, training loop, metrics, explanations, the tabular pipeline, blends, lift and dependence.

Layer rule: docs/ARCHITECTURE.md, "core/ by layer"."""

"""Using a saved run on new data: decisions, the predictor base, batch and streaming scoring, access keys.

Layer rule: docs/ARCHITECTURE.md, "core/ by layer"."""

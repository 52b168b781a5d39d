"""Tables in: reading files, checking columns, personal data, row hashes, drift profiles and the preparation of training rows (encoding, rebalancing).

Layer rule: docs/ARCHITECTURE.md, "core/ by layer"."""

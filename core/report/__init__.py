"""What a finished run says: its summary figures, trust checks and pitch.

Layer rule: docs/ARCHITECTURE.md, "core/ by layer"."""

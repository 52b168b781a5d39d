"""The scenario catalogue and the saved-run store: which scenarios exist, what a saved run holds and how it is written and read.

Layer rule: docs/ARCHITECTURE.md, "core/ by layer"."""

"""The words and the drawing: glossary, money and units, chart styling, the model card's text and the console output.

Layer rule: docs/ARCHITECTURE.md, "core/ by layer"."""

"""The fraud detection page's parts: the log and its time split, training, and one renderer per
result tab. ``pages/fraud.py`` shows the flow; these modules draw each step."""

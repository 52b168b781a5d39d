"""The quality inspection page's parts: the images, training, and one renderer per result tab.
``pages/quality.py`` shows the flow; these modules draw each step."""

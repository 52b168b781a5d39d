"""The credit scoring page's parts: data and columns, training, and one renderer per result tab.
``pages/credit.py`` shows the flow; these modules draw each step."""

"""The demand forecasting page's parts: the sales data and its columns, training, and one renderer per
result tab. ``pages/demand.py`` shows the flow; these modules draw each step."""

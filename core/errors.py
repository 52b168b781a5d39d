"""Errors the engine raises for bad input. Pages show them with ``st.error``, never a traceback."""


class DataValidationError(ValueError):
    """The user's data or options cannot be used as given.

    The message always says what was expected, what was found, and how to fix it.
    """

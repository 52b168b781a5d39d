"""What a file to score must contain: lives in ``core.data.columncheck`` (batch, chunked and Dask scoring
use it); re-exported here for the pages and code that import it from the workspace."""

from core.data.columncheck import (CATEGORY, DATE, NUMBER, WRONG_TYPE_SHARE, ColumnMismatchError, ColumnReport,
                              check_columns, coerce_numbers, expected_from_summary, get_expected_input,
                              get_training_profile)

__all__ = ["CATEGORY", "DATE", "NUMBER", "WRONG_TYPE_SHARE", "ColumnMismatchError", "ColumnReport", "check_columns",
           "coerce_numbers", "expected_from_summary", "get_expected_input", "get_training_profile"]

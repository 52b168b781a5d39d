"""A request's small table kept as one plain block of values while it waits in the service's log buffer.

A buffered request (``core.monitor.record.Request``) used to keep its inputs and its answer as two small
DataFrames: each held a few dozen objects the garbage collector tracks and some 17 KB, so a full buffer of
2,000 one-row requests held 46 MB and a third of a million tracked objects that every full collection walked
(on whichever request was answering). ``Columns`` keeps the column labels and types (one shared copy per shape
of request) and the values as one object array, taken from the frame in one conversion: about 1 KB and two
tracked objects a table (3.3 MB and 6,100 objects for 2,000 one-row credit requests, ``bench/bench_log_tables.py``).

``join(tables)`` is ``pd.concat`` of the frames they were made from (``ignore_index=True``): the same
columns, types and values. Tables of one shape (the usual case: the same columns with the same types) are
joined as one block, then each column is given its type back (numbers, booleans, text, Python objects: a
JSON request's types, which come back exactly from their Python values); any other mix, or another type
(dates, categories), is joined by pandas from the frames themselves, which such tables keep.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SHAPES: dict[tuple, tuple] = {}  # (labels, types) -> the one copy the tables of that shape share
_MAX_SHAPES = 256


def _plain(dtype) -> bool:
    """A type whose values come back exactly from the Python objects ``to_numpy(dtype=object)`` gives."""
    return isinstance(dtype, pd.StringDtype) or isinstance(dtype, np.dtype) and dtype.kind in "biufO"


class Columns:
    """One small table as its labels, types and values (see the module docstring)."""

    __slots__ = ("names", "dtypes", "values", "frame_")

    def __init__(self, names: tuple, dtypes: tuple, values: np.ndarray | None, frame: pd.DataFrame | None = None):
        self.names, self.dtypes, self.values, self.frame_ = names, dtypes, values, frame

    @classmethod
    def of(cls, df: pd.DataFrame) -> "Columns":
        """``df``'s values as one object block (a frame with another type of column is kept as a copy)."""
        shape = (tuple(df.columns.tolist()), tuple(df.dtypes.tolist()))
        shared = _SHAPES.get(shape)
        if shared is None:
            if len(_SHAPES) >= _MAX_SHAPES:
                _SHAPES.clear()
            shared = _SHAPES[shape] = (*shape, all(map(_plain, shape[1])))
        if not shared[2]:
            return cls(shared[0], shared[1], None, df.reset_index(drop=True).copy())
        return cls(shared[0], shared[1], df.to_numpy(dtype=object))

    def __len__(self) -> int:
        return len(self.values) if self.values is not None else len(self.frame_)

    @property
    def columns(self) -> list:
        return list(self.names)

    def frame(self) -> pd.DataFrame:
        """The table as the DataFrame it was made from (a fresh 0 .. n - 1 index)."""
        return self.frame_ if self.values is None else _frame(self.names, self.dtypes, self.values)


def _frame(names: tuple, dtypes: tuple, values: np.ndarray, pause=None) -> pd.DataFrame:
    columns = {}
    for j, dtype in enumerate(dtypes):
        if pause is not None and j:
            pause()
        col = values[:, j]
        if isinstance(dtype, pd.StringDtype):
            columns[j] = pd.Series(pd.array(col, dtype=dtype))
        elif dtype.kind == "O":
            columns[j] = pd.Series(col, dtype=object)
        else:
            columns[j] = pd.Series(col.astype(dtype), copy=False)
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(values)))
    out.columns = pd.Index(list(names))  # positions first: labels may repeat
    return out


def plain(tables: list[Columns]) -> bool:
    """Whether every table keeps its values as a block (``join`` then never joins hundreds of frames)."""
    return all(t.values is not None for t in tables)


def join(tables: list[Columns], pause=None) -> pd.DataFrame:
    """``pd.concat([t.frame() for t in tables], ignore_index=True)``: the tables of each shape joined as one block,
    the shapes' frames joined by pandas (which gives a column the type it gives when joining every table: a
    number column that was empty in one request's JSON is an object column there), then the rows put back in
    the tables' order. ``pause()``, when given, is called between the columns a frame is built of (the
    service's log writer: see ``core.monitor.buffer``)."""
    shapes: dict = {}
    for i, t in enumerate(tables):
        shapes.setdefault((t.names, t.dtypes) if t.values is not None else i, []).append(i)
    parts = []
    for members in shapes.values():
        first = tables[members[0]]
        if pause is not None and parts:
            pause()
        parts.append(first.frame_ if first.values is None else
                     _frame(first.names, first.dtypes, np.concatenate([tables[i].values for i in members]), pause))
    if len(parts) == 1:
        return parts[0] if tables[0].values is not None else parts[0].copy()
    joined = pd.concat(parts, ignore_index=True)
    starts = np.cumsum([0] + [len(t) for t in tables])
    rows = np.concatenate([np.arange(starts[i], starts[i + 1]) for members in shapes.values() for i in members])
    if np.array_equal(rows, np.arange(len(rows))):
        return joined
    return joined.iloc[np.argsort(rows, kind="stable")].reset_index(drop=True)

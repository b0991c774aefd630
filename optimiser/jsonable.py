"""Plain JSON from our values and tables: the one sanitiser (NaN and infinity become null). No Streamlit.

`jsonable` turns a summary (dicts, lists, numpy scalars, floats that may be NaN) into plain JSON
types, so ``json.dumps(..., allow_nan=False)`` accepts it. `frame_to_json` and `frame_from_json`
store a table as JSON text that records each column's type. This module imports nothing from
`optimiser`, so every layer (the plan's summary, the store, the exports) can use it.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd


def jsonable(value: Any) -> Any:
    """Plain JSON types; NaN and infinity become None, numpy scalars Python ones, other objects text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (AttributeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def frame_to_json(frame: pd.DataFrame) -> str:
    """A table as JSON text (pandas' ``table`` layout, which records each column's type)."""
    plain = frame.reset_index(drop=True)
    for column in plain.columns:
        if plain[column].dtype == object:
            plain[column] = plain[column].map(_plain_cell)
    return str(plain.to_json(orient="table", index=False, double_precision=15, default_handler=str))


def frame_from_json(text: str) -> pd.DataFrame:
    """The table `frame_to_json` wrote."""
    return pd.read_json(io.StringIO(text), orient="table")


def _plain_cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(map(str, value))
    return value

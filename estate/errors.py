"""Exceptions and warnings raised by the estate package."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_LISTED = 10
MAX_SHOWN = 80  # characters of a value quoted in a message; the Issue keeps it whole


@dataclass(frozen=True)
class Issue:
    """One problem in one cell (or the whole) of an input table.

    Parameters
    ----------
    source
        File name (and layer), as the user gave it.
    row
        1-based data row in the file (the first record is row 1); 0 means the whole table.
    record_id
        The row's ID, when it has a readable one.
    column
        Column the problem is in (after mapping).
    value
        The offending value, as read.
    problem
        What rule it breaks.
    fix
        How to fix it.

    """

    source: str
    row: int
    record_id: str | None
    column: str
    value: object
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.source}" + (f" row {self.row}" if self.row else "")
        if self.record_id:
            where += f" ({self.record_id})"
        if self.row == 0 and self.value is None:  # about the whole table, e.g. a missing column
            text = f"{where}, column {self.column!r}: {self.problem}"
        else:
            text = f"{where}, column {self.column!r} = {shown_value(self.value)}: {self.problem}"
        return f"{text}. {self.fix}" if self.fix else text

    def to_dict(self) -> dict[str, object]:
        """Plain dict, for tables and JSON."""
        return {
            "source": self.source,
            "row": self.row,
            "id": self.record_id,
            "column": self.column,
            "value": None if self.value is None else str(self.value),
            "problem": self.problem,
            "fix": self.fix,
        }


def shown_value(value: object) -> str:
    """A value as quoted in a message: its repr, shortened; ``(blank)`` for an empty cell."""
    if _is_blank(value):
        return "(blank)"
    text = repr(value)
    return (
        text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 5]}...{text[-1]} ({len(text):,} characters)"
    )


def _is_blank(value: object) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    return value is None or (isinstance(value, str) and not value.strip())


class EstateError(Exception):
    """Base class for every error the estate package raises on purpose."""


class EstateValidationError(EstateError, ValueError):
    """Input that cannot be used; `.issues` lists every problem found.

    Parameters
    ----------
    source
        File the issues come from.
    issues
        Every problem found, in row order.

    """

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        rows = {issue.row for issue in self.issues if issue.row}
        where = f" in {len(rows):,} row(s)" if rows else " with its columns"
        head = f"{source}: {len(self.issues):,} problem(s){where}."
        lines = [head, *(f"  - {issue}" for issue in self.issues[:MAX_LISTED])]
        if len(self.issues) > MAX_LISTED:
            lines.append(f"  ... and {len(self.issues) - MAX_LISTED} more (see `.issues`).")
        super().__init__("\n".join(lines))


class EstateDataWarning(UserWarning):
    """Data that is usable but suspicious (fallback encoding, fixed buildings, ...)."""

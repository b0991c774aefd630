"""A supplied travel matrix: minutes from zones to buildings that override the modelled ones.

The file is a CSV of ``zone_id, building_id, minutes``, one row per pair. Every row is
checked; any problem refuses the whole file (a matrix half used would mix two travel models
without saying so): blank or unknown IDs, minutes that are not a finite number of 0 or more,
and a pair given twice (both rows named).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from estate.errors import EstateError, EstateValidationError, Issue
from estate.settings import check_file

COLUMNS = ("zone_id", "building_id", "minutes")
WHOLE_ROW = "(whole row)"
MAX_LISTED_ISSUES = 1_000  # problems kept in the error; a count says how many more there were


def read_travel_matrix(
    path: str | Path, *, zone_ids: Iterable[str], building_ids: Iterable[str]
) -> pd.DataFrame:
    """The matrix as a frame of ``zone_id, building_id, minutes`` (minutes as floats).

    Parameters
    ----------
    path
        The CSV file (UTF-8).
    zone_ids, building_ids
        The estate's accepted zones and buildings; a row naming any other is refused.

    Raises
    ------
    EstateError
        The file is missing, a folder, unreadable, not UTF-8, not a CSV, or lacks a column.
    EstateValidationError
        Some rows are wrong; `.issues` names each file row, column, value and fix.

    """
    path = Path(path)
    check_file(path, what="Travel matrix", error=EstateError)
    header, records = _read_rows(path)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        msg = (
            f"{path.name}: a travel matrix needs columns zone_id, building_id, minutes; "
            f"missing {', '.join(missing)} (found {', '.join(header)})."
        )
        raise EstateError(msg)
    at = [header.index(c) for c in COLUMNS]
    width = len(header)
    frame = pd.DataFrame(
        {c: [r[i].strip() if i < len(r) else "" for r in records] for c, i in zip(COLUMNS, at, strict=True)},
        dtype=object,
    )
    widths = np.array([len(r) for r in records], dtype=int)
    frame[WHOLE_ROW] = [",".join(r) if len(r) > width else "" for r in records]
    issues = _issues(frame, path.name, set(map(str, zone_ids)), set(map(str, building_ids)), widths, width)
    if issues:
        raise EstateValidationError(path.name, issues)
    minutes = pd.to_numeric(frame["minutes"]).astype(float)
    return frame.assign(minutes=minutes)[list(COLUMNS)].reset_index(drop=True)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header (names stripped) and the records (blank lines skipped), every cell as text."""
    try:
        data = path.read_bytes()
    except OSError as err:
        msg = f"Travel matrix {path}: cannot be read ({err.strerror or err}). Check the file's permissions."
        raise EstateError(msg) from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = (
            f"Travel matrix {path}: not UTF-8 text (byte {data[err.start]:#04x} at position {err.start}). "
            "Save it as UTF-8 CSV."
        )
        raise EstateError(msg) from err
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except csv.Error as err:
        msg = f"Travel matrix {path}: cannot be read as CSV ({err}). Save it as a comma-separated file."
        raise EstateError(msg) from err
    if not rows:
        msg = f"Travel matrix {path}: the file is empty. Give a header zone_id,building_id,minutes and one row per pair."
        raise EstateError(msg)
    return [cell.strip() for cell in rows[0]], rows[1:]


def _issues(
    frame: pd.DataFrame, source: str, zones: set[str], buildings: set[str], widths: np.ndarray, width: int
) -> list[Issue]:
    """Every problem of every row, in row order (the first `MAX_LISTED_ISSUES`, then a count)."""
    rows = np.arange(1, len(frame) + 1)
    minutes = pd.to_numeric(frame["minutes"], errors="coerce")
    blank = {c: frame[c] == "" for c in COLUMNS}
    checks: list[tuple[str, pd.Series, str, str]] = [
        (
            WHOLE_ROW,
            pd.Series(widths > width),
            f"has more values than the {width} columns of the header",
            "Put values that hold a comma in quotes, and write decimals with a point (12.5, not 12,5).",
        ),
        ("zone_id", blank["zone_id"], "is blank", "Give the zone's ID, or remove the row."),
        (
            "zone_id",
            ~blank["zone_id"] & ~frame["zone_id"].isin(zones),
            "is not a zone of the estate",
            "Check the ID against the zones table, or remove the row.",
        ),
        ("building_id", blank["building_id"], "is blank", "Give the building's ID, or remove the row."),
        (
            "building_id",
            ~blank["building_id"] & ~frame["building_id"].isin(buildings),
            "is not an accepted building of the estate",
            "Check the ID against the buildings table (rejected buildings do not count), or remove the row.",
        ),
        ("minutes", blank["minutes"], "is blank", "Give the minutes as a number, 0 or more."),
        (
            "minutes",
            ~blank["minutes"] & minutes.isna(),
            "is not a number",
            "Give the minutes as a number, 0 or more (a point for decimals, e.g. 12.5).",
        ),
        (
            "minutes",
            minutes.notna() & ~np.isfinite(minutes),
            "is not a finite number",
            "Give the minutes as a number, 0 or more; remove pairs that cannot be travelled.",
        ),
        (
            "minutes",
            np.isfinite(minutes) & (minutes < 0),
            "is negative",
            "Give the minutes as a number, 0 or more.",
        ),
    ]
    found: list[tuple[int, int, Issue]] = []
    total = 0
    for order, (column, mask, problem, fix) in enumerate(checks):
        hits = np.flatnonzero(mask.to_numpy())
        total += len(hits)
        for i in hits[:MAX_LISTED_ISSUES]:
            found.append(
                (
                    int(rows[i]),
                    order,
                    Issue(source, int(rows[i]), None, column, frame.at[i, column], problem, fix),
                )
            )
    pair = ["zone_id", "building_id"]
    repeated = frame.duplicated(pair, keep="first") & ~blank["zone_id"] & ~blank["building_id"]
    if repeated.any():
        first_row = frame.reset_index().groupby(pair, sort=False)["index"].transform("min").to_numpy() + 1
        hits = np.flatnonzero(repeated.to_numpy())
        total += len(hits)
        for i in hits[:MAX_LISTED_ISSUES]:
            first = int(first_row[i])
            value = f"{frame.at[i, 'zone_id']} / {frame.at[i, 'building_id']}"
            problem = (
                f"repeats the pair of row {first} (rows {first} and {rows[i]} give "
                f"{frame.at[first - 1, 'minutes'] or 'blank'} and {frame.at[i, 'minutes'] or 'blank'} minutes)"
            )
            issue = Issue(
                source,
                int(rows[i]),
                None,
                "zone_id, building_id",
                value,
                problem,
                "Keep one row per zone and building.",
            )
            found.append((int(rows[i]), len(checks), issue))
    found.sort(key=lambda t: (t[0], t[1]))
    issues = [issue for _, _, issue in found[:MAX_LISTED_ISSUES]]
    if total > len(issues):
        shown_count = len(issues)
        issues.append(
            Issue(
                source,
                0,
                None,
                "(every column)",
                f"{total:,} problems",
                f"only the first {shown_count:,} are listed",
                "Check that the matrix is for this estate, fix those rows, then load it again.",
            )
        )
    return issues

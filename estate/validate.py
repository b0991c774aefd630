"""Check raw tables against the schema and split them into accepted and rejected rows.

Every problem becomes an `Issue` naming the file, the 1-based row, the ID, the column, the
value and how to fix it. Nothing is lost: accepted + rejected always equals the input.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from estate.errors import EstateValidationError, Issue
from estate.schema import (
    ID_COLUMN,
    ID_PATTERN,
    LIST_SEPARATOR,
    SPATIAL_TABLES,
    TABLES,
    UNIQUE_KEY,
    Column,
    columns_needed_to_optimise,
)

_ID_RE = re.compile(ID_PATTERN)
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_NUMBER_JUNK = re.compile(r"[£\s]")
DECIMAL_MARKS = (".", ",")
LISTED_DUPLICATES = 5  # other rows named in a duplicate-key message; the rest are counted


class Bad:
    """A parse failure: the problem and how to fix it."""

    __slots__ = ("fix", "problem")

    def __init__(self, problem: str, fix: str) -> None:
        self.problem = problem
        self.fix = fix


def plain_value(value: object) -> object:
    """Turn numpy scalars into Python ones, so messages show -1, not np.int64(-1)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _parse_id(value: object, col: Column) -> object:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not _ID_RE.fullmatch(text):
        return Bad(
            "may only use letters A-Z a-z, digits 0-9 and '_'",
            "Rename it, or map the IDs with a column mapping ([ids] replace).",
        )
    return text


def _parse_text(value: object, col: Column) -> object:
    return str(value).strip()


def number_from_text(text: str, *, decimal: str = ".", grouping: bool = True) -> float | Bad:
    """A number written as text, read the way its author meant, or why it cannot be.

    Spaces and '£' are ignored. With ``decimal="."`` (the default) a comma may only group
    thousands (``1,234,567.5``); any other comma, as in the decimal comma ``53,45``, is refused
    rather than read as 5345. With ``decimal=","`` (a mapping's ``[read] decimal``) the roles
    swap: ``1.234,5`` is 1234.5. `grouping` False (for coordinates) refuses thousands
    separators altogether.
    """
    text = _NUMBER_JUNK.sub("", text)
    point, group = (".", ",") if decimal == "." else (",", ".")
    if group in text:
        grouped = re.fullmatch(
            rf"[+-]?\d{{1,3}}(?:{re.escape(group)}\d{{3}})+(?:{re.escape(point)}\d*)?", text
        )
        if not (grouping and grouped):
            single = text.count(group) == 1 and point not in text
            example = f" ({text.translate(str.maketrans(',.', '.,'))})" if single else ""
            if decimal == ".":
                return Bad(
                    "has a comma that is not a thousands separator (a decimal comma?)",
                    f"Write it with a decimal point{example}, or, if the file uses decimal commas "
                    'throughout, set decimal = "," in the mapping\'s [read] section for this table '
                    "(e.g. [buildings.read]).",
                )
            return Bad(
                "has a '.' that is not a thousands separator, and the mapping says this file "
                "uses decimal commas",
                f'Write it with a decimal comma{example}, or remove decimal = "," from the mapping.',
            )
        text = text.replace(group, "")
    text = text.replace(point, ".")
    if "_" in text or not text:
        return Bad("is not a number", "")
    try:
        number = float(text)
    except ValueError:
        return Bad("is not a number", "")
    return Bad("is not a number", "") if math.isnan(number) else number


def _parse_number(value: object, col: Column, decimal: str = ".") -> object:
    if isinstance(value, bool):
        return Bad("is true/false, not a number", f"Give {col.name} as a number.")
    if isinstance(value, (int, float, np.number)):
        number = float(value)
    else:
        parsed = number_from_text(str(value), decimal=decimal)
        if isinstance(parsed, Bad):
            unit = f" in {col.unit}" if col.unit else ""
            return parsed if parsed.fix else Bad(parsed.problem, f"Give {col.name} as a plain number{unit}.")
        number = parsed
    if not math.isfinite(number):
        return Bad("is not a finite number", f"Give {col.name} as a finite number.")
    if col.minimum is not None and number < col.minimum:
        return Bad(f"must be at least {col.minimum:g}", f"Correct {col.name} or leave it blank.")
    if col.maximum is not None and number > col.maximum:
        why = f"{col.maximum_reason}. " if col.maximum_reason else ""
        return Bad(f"must be at most {_figure(col.maximum)}", f"{why}Correct {col.name} or leave it blank.")
    return number


def _figure(number: float) -> str:
    """1000000000000 as '1,000,000,000,000'; 2300 as '2300', 0.5 as '0.5'."""
    return f"{number:,.0f}" if float(number).is_integer() and 1e4 <= abs(number) < 1e16 else f"{number:g}"


def _parse_integer(value: object, col: Column, decimal: str = ".") -> object:
    number = _parse_number(value, col, decimal)
    if isinstance(number, float) and not number.is_integer():
        return Bad("must be a whole number", f"Give {col.name} as a whole number.")
    if isinstance(number, Bad):
        return number
    assert isinstance(number, float)  # _parse_number gives a float or a Bad
    return int(number)


def _parse_bool(value: object, col: Column) -> object:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return Bad("is not true or false", "Use true/false, yes/no or 1/0.")


def _normalise_word(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _parse_choice(value: object, col: Column) -> object:
    word = _normalise_word(str(value))
    if word not in col.choices:
        return Bad(
            f"is not one of {', '.join(col.choices)}",
            "Correct it, or map your values with a column mapping ([values]).",
        )
    return word


def _parse_list(value: object, col: Column) -> object:
    words = tuple(
        dict.fromkeys(
            _normalise_word(part) if col.choices else part.strip()
            for part in re.split(r"[;,]", str(value))
            if part.strip()
        )
    )
    unknown = [word for word in words if col.choices and word not in col.choices]
    if unknown:
        return Bad(
            f"has {', '.join(map(repr, unknown))}, not one of {', '.join(col.choices)}",
            f"Separate the values with '{LIST_SEPARATOR}' and use only those names.",
        )
    return words


_PARSERS: dict[str, Callable[[object, Column], object]] = {
    "id": _parse_id,
    "text": _parse_text,
    "number": _parse_number,
    "integer": _parse_integer,
    "bool": _parse_bool,
    "choice": _parse_choice,
    "list": _parse_list,
}


def find_issues(
    raw: pd.DataFrame, table: str, *, source: str, decimal: str = "."
) -> tuple[list[Issue], pd.DataFrame]:
    """List every problem in a raw table and parse the cells that are good.

    Parameters
    ----------
    raw
        The table exactly as read, with the `source_row` column that `estate.io` adds.
    table
        One of ``estate.schema.TABLES``.
    source
        File (and layer) name, quoted in messages.
    decimal
        The decimal mark of numbers written as text: ``"."`` (the default; commas may
        group thousands) or ``","`` (a mapping's ``[read] decimal``; dots may group thousands).

    Returns
    -------
    issues
        One `Issue` per bad cell, in row order; empty when the table is clean. A missing
        required column gives one row-0 issue per column.
    parsed
        The schema columns parsed to Python values (defaults filled), same index as `raw`.

    """
    schema = TABLES[table]
    id_col = ID_COLUMN[table]
    missing = [col.name for col in schema if col.required and col.name not in raw.columns]
    if table in SPATIAL_TABLES and "geometry" not in raw.columns:
        missing.append("geometry")
    if missing:
        missing_issues = [
            Issue(
                source,
                0,
                None,
                name,
                None,
                "required column is missing",
                f"Add a {name!r} column, or map yours to it with `--mapping`. "
                f"Columns found: {', '.join(map(str, raw.columns))}.",
            )
            for name in missing
        ]
        return missing_issues, pd.DataFrame(index=raw.index)

    # plain lists, not pandas lookups per cell: this loop runs once per cell of the register
    ids = [("" if _is_blank(v) else str(v).strip()) for v in raw[id_col]] if id_col in raw else None
    rows = [int(r) for r in raw["source_row"]]
    issues: list[Issue] = []

    def flag(pos: int, column: str, value: object, problem: str, fix: str) -> None:
        rid = ids[pos] if ids is not None else None
        issues.append(Issue(source, rows[pos], rid or None, column, plain_value(value), problem, fix))

    parsed: dict[str, list[object]] = {}
    for col in schema:
        if col.name not in raw.columns:
            parsed[col.name] = [col.default] * len(raw)
            continue
        parser = _PARSERS[col.kind]
        number = col.kind in ("number", "integer")
        values: list[object] = []
        for pos, value in enumerate(raw[col.name].tolist()):
            if _is_blank(value):
                if col.required:
                    flag(pos, col.name, value, "is blank", f"Fill in {col.name}; it is required.")
                values.append(col.default)
                continue
            result = parser(value, col, decimal) if number else parser(value, col)  # type: ignore[call-arg]
            if isinstance(result, Bad):
                flag(pos, col.name, value, result.problem, result.fix)
                values.append(None)
            else:
                values.append(result)
        parsed[col.name] = values
    frame = pd.DataFrame(parsed, index=raw.index, dtype=object)

    key_cols = [c for c in UNIQUE_KEY[table] if c in raw.columns]
    if key_cols:
        issues.extend(_duplicate_issues(raw, key_cols, source, rows, ids))

    if table in SPATIAL_TABLES:
        geom = raw.geometry if isinstance(raw, gpd.GeoDataFrame) else raw["geometry"]
        for pos, shape in enumerate(geom.tolist()):
            if shape is None or (isinstance(shape, float) and math.isnan(shape)) or shape.is_empty:
                flag(
                    pos,
                    "geometry",
                    None,
                    "location is missing",
                    "Give coordinates (lon/lat or easting/northing) or a geometry.",
                )
            elif not shape.is_valid:
                flag(
                    pos,
                    "geometry",
                    shape.wkt[:60],
                    "is not a valid shape",
                    "Repair it (e.g. QGIS 'Fix geometries' or shapely.make_valid).",
                )

    issues.extend(_cross_column_issues(parsed, table, source, rows, ids))
    issues.sort(key=lambda issue: issue.row)
    return issues, frame


def _duplicate_issues(
    raw: pd.DataFrame, key_cols: list[str], source: str, rows: list[int], ids: list[str] | None
) -> list[Issue]:
    """Every row whose key is repeated, each naming a few of the others: linear in the rows.

    Both (all) rows of a repeated key are rejected, since there is no telling which is right.
    A message names at most `LISTED_DUPLICATES` of the other rows and counts the rest.
    """
    columns = [[("" if _is_blank(v) else str(v).strip()) for v in raw[c]] for c in key_cols]
    keys = list(zip(*columns, strict=True))
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for pos, key in enumerate(keys):
        if all(key):
            groups[key].append(pos)
    what = " + ".join(key_cols)
    subject = "appears" if len(key_cols) == 1 else f"({what}) appears"
    fix = "Give each row its own ID." if len(key_cols) == 1 else "Remove the repeated row."
    last = raw[key_cols[-1]].tolist()
    issues = []
    for members in groups.values():
        if len(members) < 2:
            continue
        for pos in members:
            others = [rows[p] for p in members[: LISTED_DUPLICATES + 1] if p != pos][:LISTED_DUPLICATES]
            more = len(members) - 1 - len(others)
            rest = f" and {more:,} more" if more > 0 else ""
            also = f"also row{'s' if len(members) > 2 else ''} {', '.join(map(str, others))}{rest}"
            issues.append(
                Issue(
                    source,
                    rows[pos],
                    (ids[pos] or None) if ids is not None else None,
                    key_cols[-1],
                    plain_value(last[pos]),
                    f"{subject} more than once ({also})",
                    fix,
                )
            )
    return issues


def _cross_column_issues(
    parsed: dict[str, list[object]], table: str, source: str, rows: list[int], ids: list[str] | None
) -> Iterable[Issue]:
    """Rules that involve more than one column of a row."""
    if table == "buildings":
        for pos, (gia, cap) in enumerate(zip(parsed["gia_m2"], parsed["capacity_m2"], strict=True)):
            if isinstance(gia, float) and isinstance(cap, float) and cap > gia * 1.0001:
                yield Issue(
                    source,
                    rows[pos],
                    (ids[pos] or None) if ids is not None else None,
                    "capacity_m2",
                    cap,
                    f"is more than gia_m2 ({gia:g})",
                    "Usable space cannot exceed the gross internal area.",
                )
    if table == "access":
        for pos, service in enumerate(parsed["service"]):
            rule, share = parsed["rule"][pos], parsed["min_share"][pos]
            rid = str(service)
            if parsed["reach_km"][pos] is None and parsed["reach_min"][pos] is None:
                yield Issue(
                    source,
                    rows[pos],
                    rid,
                    "reach_km",
                    None,
                    "needs reach_km or reach_min",
                    "Give the reach in km or minutes.",
                )
            if rule == "min_share" and share is None:
                yield Issue(
                    source,
                    rows[pos],
                    rid,
                    "min_share",
                    None,
                    "is needed for rule min_share",
                    "Give a share between 0 and 1.",
                )
            if rule == "max_mean_increase" and parsed["max_mean_increase_km"][pos] is None:
                yield Issue(
                    source,
                    rows[pos],
                    rid,
                    "max_mean_increase_km",
                    None,
                    "is needed for rule max_mean_increase",
                    "Give the cap in km.",
                )


def split_rows(
    raw: pd.DataFrame,
    issues: list[Issue],
    *,
    source: str,
    strict: bool = False,
) -> tuple[pd.Series, pd.DataFrame]:
    """Decide which rows are rejected; returns (is_rejected mask, rejected rows with reasons).

    Raises `EstateValidationError` for a whole-table issue, or any issue when `strict`.
    """
    if issues and (strict or any(issue.row == 0 for issue in issues)):
        raise EstateValidationError(source, [i for i in issues if strict or i.row == 0])
    problems: dict[int, list[str]] = defaultdict(list)
    for issue in issues:
        problems[issue.row].append(f"{issue.column} {issue.problem}")
    reasons = {row: "; ".join(texts) for row, texts in problems.items()}
    is_bad = raw["source_row"].isin(list(reasons))
    rejected = raw[is_bad].assign(reasons=raw.loc[is_bad, "source_row"].map(reasons))
    return is_bad, pd.DataFrame(rejected)


def validate_table(
    raw: pd.DataFrame, table: str, *, source: str, strict: bool = False, decimal: str = "."
) -> tuple[pd.DataFrame, pd.DataFrame, list[Issue]]:
    """Split `raw` into (accepted, rejected, issues); no row is ever dropped silently.

    `accepted` holds the schema columns parsed and typed, the user's extra columns unchanged,
    `source_row`, and geometry for spatial tables. `rejected` keeps every original column
    plus `reasons`. Raises `EstateValidationError` if a required column is missing, or on any
    issue when `strict` is True. `raw` is never modified. `decimal` is as in `find_issues`.
    """
    issues, parsed = find_issues(raw, table, source=source, decimal=decimal)
    is_bad, rejected = split_rows(raw, issues, source=source, strict=strict)
    schema_names = [col.name for col in TABLES[table]]
    extras = [c for c in raw.columns if c not in schema_names and c != "geometry"]
    good = parsed.loc[~is_bad].join(raw.loc[~is_bad, extras])
    good = _typed(good, TABLES[table])
    if table in SPATIAL_TABLES:
        geometry = raw.loc[~is_bad, "geometry"]
        crs = raw.crs if isinstance(raw, gpd.GeoDataFrame) else None
        good = gpd.GeoDataFrame(good, geometry=geometry, crs=crs)
    if len(good) + len(rejected) != len(raw):  # invariant: nothing lost
        msg = f"{source}: {len(raw)} rows in, {len(good) + len(rejected)} out."
        raise AssertionError(msg)
    return good, rejected, issues


def _typed(frame: pd.DataFrame, schema: tuple[Column, ...]) -> pd.DataFrame:
    """Give parsed schema columns proper dtypes (float, Int64, bool, str)."""
    out = frame.copy()
    for col in schema:
        series = out[col.name]
        if col.kind == "number":
            out[col.name] = pd.to_numeric(series, errors="coerce").astype("float64")
        elif col.kind == "integer":
            out[col.name] = pd.to_numeric(series, errors="coerce").astype("Int64")
        elif col.kind == "bool":
            out[col.name] = series.fillna(col.default if col.default is not None else False).astype(bool)
        elif col.kind in ("id", "text", "choice"):
            out[col.name] = series.map(lambda v: None if v is None else str(v)).astype("object")
    return out


def find_fixed_buildings(buildings: pd.DataFrame) -> pd.Series:
    """Why each building cannot be optimised ('' when it can): missing figures."""
    needed = columns_needed_to_optimise()
    missing = buildings[list(needed)].isna().to_numpy()
    reasons = [
        "missing " + ", ".join(name for name, gone in zip(needed, row, strict=True) if gone)
        if row.any()
        else ""
        for row in missing
    ]
    return pd.Series(reasons, index=buildings.index, dtype="object")

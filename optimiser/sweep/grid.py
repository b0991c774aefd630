"""Scenario grids of a sweep: a grid file's base, ``[grid]`` and ``[[scenarios]]`` as rows.

See ``docs/sweep.md`` for the file format; `docs/limits.md` for `MAX_GRID_SCENARIOS`.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from estate.limits import MAX_GRID_SCENARIOS
from estate.settings import check_keys, nearest_hint, read_toml, shown, table
from optimiser.errors import ScenarioError, SweepError
from optimiser.scenario import SCENARIO_KEYS, SECTIONS, TOP_KEYS, Scenario

DEFAULT_TIME_LIMIT_S = 30.0
# `sweep --national` without --time-limit or --scenarios: seconds per place, so that every
# English place at full density finishes within 15 minutes on 2 workers (docs/sweep.md)
NATIONAL_TIME_LIMIT_S = 10.0
GRID_TABLES = ("base", "grid", "scenarios", "description")
ACCESS_FIELDS = ("reach_km", "reach_min", "rule", "min_share", "protect_deprived_deciles")


@dataclass(frozen=True)
class ScenarioRow:
    """One scenario of a grid: a valid `scenario`, or the `error` that makes the row malformed."""

    name: str
    scenario: Scenario | None
    error: str = ""
    where: str = ""


def default_base(*, time_limit_s: float | None = None) -> dict[str, Any]:
    """The sweep's defaults in the scenario-file layout: a per-job time limit and one thread."""
    return {"name": "default", "solver": {"time_limit_s": time_limit_s or DEFAULT_TIME_LIMIT_S, "threads": 1}}


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _access_services(access: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The estate's access table as ``[access.services.<service>]`` bodies."""
    out: dict[str, dict[str, Any]] = {}
    for service, row in access.iterrows():
        body: dict[str, Any] = {}
        for name in ACCESS_FIELDS:
            value = row.get(name)
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
                continue
            body[name] = (
                int(value)
                if name == "protect_deprived_deciles"
                else (float(value) if name in ("reach_km", "reach_min", "min_share") else str(value))
            )
        out[str(service)] = body
    return out


def _set_key(data: dict[str, Any], key: str, value: Any, access: pd.DataFrame) -> None:
    """Set a dotted scenario key, e.g. ``cat_discount``, ``limits.capital_budget_gbp``,
    ``access.reach_km`` (every standard) or ``access.services.library.reach_km``."""
    parts = key.split(".")
    if len(parts) == 2 and parts[0] == "access" and parts[1] in ACCESS_FIELDS[:4]:
        services = data.setdefault("access", {}).setdefault("services", {})
        for service, body in _access_services(access).items():
            services[service] = {**body, **services.get(service, {})}
        for body in services.values():
            if parts[1] in ("reach_km", "reach_min"):
                body.pop("reach_km", None)
                body.pop("reach_min", None)
            body[parts[1]] = value
        return
    if len(parts) == 1:
        if key == "name":
            data["name"] = value
            return
        sections = [s for s, keys in SECTIONS.items() if key in keys]
        if not sections:
            known = sorted(k for keys in SECTIONS.values() for k in keys)
            msg = (
                f"unknown scenario key {key!r}{nearest_hint(key, known)}. Allowed keys: {', '.join(known)}, or a dotted key "
                "such as limits.capital_budget_gbp, access.reach_km or access.services.library.reach_km."
            )
            raise ScenarioError(msg)
        parts = [sections[0], key]
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            msg = f"key {key!r}: {part!r} is a value, not a table"
            raise ScenarioError(msg)
        node = child
    node[parts[-1]] = value


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e5:
        return f"{value:.0e}".replace("+0", "").replace("+", "")
    return f"{value:g}" if isinstance(value, float) else str(value)


def scenario_row(
    base: dict[str, Any],
    overrides: dict[str, Any],
    *,
    name: str,
    where: str,
    access: pd.DataFrame,
    source: str = "grid",
) -> ScenarioRow:
    """Apply `overrides` (dotted keys) to `base` and build the Scenario; errors make a malformed row."""
    data = copy.deepcopy(base)
    try:
        for key, value in overrides.items():
            if isinstance(value, dict) and "." not in key and key != "access":
                data = _deep_merge(data, {key: value})
            elif key == "access" and isinstance(value, dict):
                data = _deep_merge(data, {"access": value})
            else:
                _set_key(data, key, value, access)
        data["name"] = str(overrides.get("name", name))
        scenario = Scenario.from_dict(data, source=f"{source} {where}")
    except (ScenarioError, TypeError, ValueError, KeyError) as err:
        text = str(err) if isinstance(err, ScenarioError) else f"{type(err).__name__}: {err}"
        if not text.startswith(source):
            text = f"{source} {where}: {text}"
        return ScenarioRow(name=str(overrides.get("name", name)), scenario=None, error=text, where=where)
    return ScenarioRow(name=scenario.name, scenario=scenario, where=where)


def read_grid(
    path: str | Path, *, access: pd.DataFrame, time_limit_s: float | None = None
) -> list[ScenarioRow]:
    """Read a scenario grid TOML into rows (malformed rows carry their error).

    The file holds a base scenario (a ``[base]`` table in the layout of a scenario file, or
    that layout at the top level), then a ``[grid]`` table of dotted keys with lists of values
    (every combination is a row) and/or ``[[scenarios]]`` rows of dotted keys (each applied to
    the base). With neither, the base is the only row.

    Raises
    ------
    SweepError
        If the file is missing, not TOML, or its ``grid``/``scenarios`` are not tables.

    """
    path = Path(path)
    body, grid, rows_in = grid_parts(path)
    base = _deep_merge(default_base(), body)
    if time_limit_s is not None:
        base.setdefault("solver", {})["time_limit_s"] = time_limit_s
    base_name = str(base.get("name", "default"))
    rows: list[ScenarioRow] = []
    if grid:
        keys = list(grid)
        values = [v if isinstance(v, list) else [v] for v in grid.values()]
        for i, combo in enumerate(itertools.product(*values), start=1):
            overrides = dict(zip(keys, combo, strict=True))
            name = ", ".join(
                f"{k.split('.')[-1] if k != 'access.reach_km' else 'reach_km'}={_format_value(v)}"
                for k, v in overrides.items()
            )
            rows.append(
                scenario_row(
                    base,
                    overrides,
                    name=name if base_name == "default" else f"{base_name}: {name}",
                    where=f"[grid] combination {i}",
                    access=access,
                    source=path.name,
                )
            )
    for i, row in enumerate(rows_in, start=1):
        where = f"[[scenarios]] row {i}"
        if not isinstance(row, dict):
            rows.append(
                ScenarioRow(
                    name=f"row {i}",
                    scenario=None,
                    where=where,
                    error=f"{path.name} {where}: must be a table of keys, got {row!r}",
                )
            )
            continue
        rows.append(
            scenario_row(base, row, name=f"{base_name} row {i}", where=where, access=access, source=path.name)
        )
    if not grid and not rows_in:
        rows.append(scenario_row(base, {}, name=base_name, where="[base]", access=access, source=path.name))
    return rows


def grid_parts(path: Path) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """A grid file's base, ``[grid]`` and ``[[scenarios]]``, with its row count checked
    against `MAX_GRID_SCENARIOS` before any row is built.

    Raises
    ------
    SweepError
        The file cannot be read, is not TOML, has an unknown top-level key, its parts are of
        the wrong kind, or it makes too many rows.

    """
    data = read_toml(path, what="Scenario grid", error=SweepError)
    source = path.name
    if "base" in data:
        check_keys(data, GRID_TABLES, source=source, where="", error=SweepError)
        body = table(data["base"], source=source, where="[base]", error=SweepError)
    else:
        allowed = list(dict.fromkeys([*GRID_TABLES, *TOP_KEYS, *SCENARIO_KEYS, "access"]))
        check_keys(data, allowed, source=source, where="", error=SweepError)
        body = {k: v for k, v in data.items() if k not in GRID_TABLES}
    grid = table(data.get("grid", {}), source=source, where="[grid]", error=SweepError)
    rows_in = data.get("scenarios", [])
    if not isinstance(rows_in, list):
        msg = f"{source}: scenarios = {shown(rows_in)} must be a list of tables: write each row as [[scenarios]]."
        raise SweepError(msg)
    count_grid_rows(grid, extra=len(rows_in), source=source)
    return body, grid, rows_in


def count_grid_rows(grid: dict[str, Any], *, extra: int = 0, source: str = "grid") -> int:
    """Scenario rows a grid makes (the product of its value counts, plus `extra` explicit rows),
    computed without listing them; a `SweepError` when a key has no values or the count is over
    `MAX_GRID_SCENARIOS`."""
    sizes = {}
    for key, values in grid.items():
        sizes[key] = len(values) if isinstance(values, list) else 1
        if sizes[key] == 0:
            msg = (
                f"{source}: [grid] {key} = [] has no values. Fix: give at least one value, or remove the key."
            )
            raise SweepError(msg)
    combinations = math.prod(sizes.values()) if grid else 0
    total = combinations + extra
    if total > MAX_GRID_SCENARIOS:
        sizes_text = " x ".join(f"{n:,}" for n in sizes.values()) or "0"
        msg = (
            f"{source}: the grid makes {total:,} scenario rows ([grid] {sizes_text} = {combinations:,} "
            f"combinations, plus {extra:,} [[scenarios]] rows); the limit is {MAX_GRID_SCENARIOS:,}. "
            "Fix: use fewer values per key, or split the grid into several files (see docs/limits.md)."
        )
        raise SweepError(msg)
    return total


__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "NATIONAL_TIME_LIMIT_S",
    "ScenarioRow",
    "count_grid_rows",
    "default_base",
    "grid_parts",
    "read_grid",
    "scenario_row",
]

"""Where options differ, in plain words: decisions (kept here, disposed of there; moves) and constraints.

Compare (pages/compare.py, drawn by pages/compare_view.py) shows these for two to four saved
options. Buildings and services are named as a person reads them (`optimiser.report.words`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from optimiser.report.words import money_words, service_name
from optimiser.scenario import FIELD_KEYS, Scenario

MAX_NAMED = 12  # buildings named in one line; the rest are counted


@dataclass(frozen=True)
class Option:
    """One option to compare: its label, scenario, buildings and occupiers tables."""

    label: str
    scenario: Scenario
    buildings: pd.DataFrame
    occupiers: pd.DataFrame | None = None


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype(str) if column in frame.columns else frame.index.to_series().astype(str)


def _names(options: Sequence[Option]) -> dict[str, str]:
    names: dict[str, str] = {}
    for option in options:
        b = option.buildings
        for bid, name in zip(_ids(b, "building_id"), b.get("name", _ids(b, "building_id")), strict=True):
            names.setdefault(bid, f"{name} ({bid})" if str(name) != bid else bid)
    return names


def _listed(items: list[str]) -> str:
    more = len(items) - MAX_NAMED
    return ", ".join(items[:MAX_NAMED]) + (f" and {more:,} more" if more > 0 else "")


def decision_differences(options: Sequence[Option]) -> list[str]:
    """Buildings kept in one option and disposed of in another, and occupiers that move differently."""
    names = _names(options)
    decisions = pd.DataFrame(
        {
            o.label: pd.Series(o.buildings["decision"].to_numpy(), index=_ids(o.buildings, "building_id"))
            for o in options
        }
    )
    lines: list[str] = []
    differ = decisions[decisions.nunique(axis=1, dropna=False) > 1]
    for pattern, group in differ.groupby(list(decisions.columns), dropna=False, sort=False):
        kept = [o.label for o, d in zip(options, pattern, strict=True) if d == "keep"]
        gone = [o.label for o, d in zip(options, pattern, strict=True) if d == "dispose"]
        lines.append(
            f"Kept in {' and '.join(kept) or 'none'}, disposed of in {' and '.join(gone) or 'none'} "
            f"({len(group):,} building{'s' if len(group) != 1 else ''}): "
            + _listed(sorted(names.get(b, b) for b in group.index))
        )
    lines.extend(_move_differences(options, names))
    return lines


def _move_differences(options: Sequence[Option], names: dict[str, str]) -> list[str]:
    """Occupiers sent to different buildings (an occupier split over sites has several rows)."""
    frames = [o.occupiers for o in options]
    if any(f is None or "to_building_id" not in f.columns for f in frames):
        return []
    to: dict[str, pd.Series] = {}
    for option, frame in zip(options, frames, strict=True):
        assert frame is not None
        ids = _ids(frame, "occupier_id").to_numpy()
        dest = frame["to_building_id"].astype(str).to_numpy()
        moved = frame["from_building_id"].astype(str).to_numpy() != dest
        rows = pd.DataFrame({"occupier": ids, "to": dest, "moved": moved})
        to[option.label] = rows.groupby("occupier", sort=False).apply(
            lambda g: tuple(sorted(set(g.loc[g["moved"], "to"]))), include_groups=False
        )
    table = pd.DataFrame(to)
    table = table.map(lambda v: v if isinstance(v, tuple) else ())
    differ = table[table.apply(lambda row: len(set(row)) > 1, axis=1)]
    occ = frames[0]
    assert occ is not None
    first = occ.drop_duplicates(subset=["occupier_id"]) if "occupier_id" in occ else occ
    service = dict(
        zip(_ids(first, "occupier_id"), first.get("service", pd.Series("", index=first.index)), strict=True)
    )
    source = dict(zip(_ids(first, "occupier_id"), first["from_building_id"].astype(str), strict=True))
    lines = []
    for oid, row in differ.iterrows():
        where = "; ".join(
            f"{'moves to ' + ' and '.join(names.get(d, d) for d in dests) if dests else 'stays'} in {label}"
            for label, dests in row.items()
        )
        home = source.get(str(oid), "")
        lines.append(f"{service_name(service.get(str(oid)))} ({oid}) in {names.get(home, home)}: {where}")
    if len(lines) > MAX_NAMED:
        lines = [*lines[:MAX_NAMED], f"… and {len(lines) - MAX_NAMED:,} more occupiers whose moves differ"]
    return lines


def _shown(name: str, value: Any) -> str:
    if value is None:
        return FIELD_KEYS[name][1].off if name in FIELD_KEYS else "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name.endswith("_gbp"):
        return money_words(value)
    if isinstance(value, tuple | list):
        return ", ".join(service_name(v) if name == "cat_services" else str(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def _label(name: str) -> str:
    section = FIELD_KEYS[name][0] if name in FIELD_KEYS else ""
    words = name.replace("_gbp", " (£)").replace("_", " ")
    return f"{section.capitalize() + ': ' if section else ''}{words}"


def constraint_differences(options: Sequence[Option]) -> list[str]:
    """The scenario values that differ between the options, one line each: what, and its value in each."""
    lines = []
    for name in FIELD_KEYS:
        if name == "name":
            continue
        values = [getattr(o.scenario, name) for o in options]
        if len({repr(v) for v in values}) > 1:
            lines.append(
                f"{_label(name)}: "
                + "; ".join(f"{_shown(name, v)} in {o.label}" for o, v in zip(options, values, strict=True))
            )
    standards = [{a.service: a.describe for a in o.scenario.access} for o in options]
    for service in sorted(set().union(*standards)):
        said = [s.get(service) for s in standards]
        if len(set(said)) > 1:
            lines.append(
                f"Access standard for {service_name(service)}: "
                + "; ".join(
                    f"{(d.split(': ', 1)[1] if d else 'the estate’s own')} in {o.label}"
                    for o, d in zip(options, said, strict=True)
                )
            )
    return lines


def same_place_defaults(runs: Sequence[Any], place: str | None = None) -> list[Any]:
    """The two newest saves of one place (`runs` are `RunInfo`, any order): `place` (the newest
    run's place) when it has a save, else the newest save's place."""
    if not runs:
        return []
    if place is None or not any(r.place == place for r in runs):
        place = max(runs, key=lambda r: r.saved_at).place
    same = sorted((r for r in runs if r.place == place), key=lambda r: r.saved_at, reverse=True)
    return [r.run_id for r in same[:2]]


__all__ = ["Option", "constraint_differences", "decision_differences", "same_place_defaults"]

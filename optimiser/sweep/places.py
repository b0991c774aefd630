"""Split a large estate into places, each with a boundary buffer of its neighbours' buildings.

A *place* is the unit a sweep optimises: in ``data/england.gpkg`` an upper-tier local
authority (the ``place`` column of buildings and zones); in a file without that column, a
borough. One place's estate holds:

- its own buildings and occupiers, free to optimise;
- its own zones (access is measured for its residents only);
- the buildings of *other* places within `buffer_km` (straight line) of any of its zones,
  kept exactly as they are. They are marked ``fixed`` and ``protected`` (reason
  ``NEIGHBOUR_REASON``), their occupiers are not movable, so nothing moves in or out; their
  money and carbon figures are set to zero in the copy, so the objective, the gap and the
  carbon cap concern the place's own estate only. Their services still count for access:
  a border zone that reaches a neighbour's library today still reaches it after the plan.

`boundary_buffer_km` is the largest straight-line reach of the access standards in force,
so every building that can serve one of the place's zones is in the copy. Without it, a
partition would invent access losses at every boundary (see ``docs/sweep.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import shapely

from estate import Estate
from optimiser.access import standards_for, straight_reach_km
from optimiser.errors import PlaceError
from optimiser.outcomes import money_by_building, partner_totals, totals
from optimiser.plan import Plan
from optimiser.provenance import estate_digest
from optimiser.scenario import Scenario

NEIGHBOUR_REASON = "neighbouring place (boundary buffer)"
PLACE_COLUMNS = ("place", "borough")  # the first column present on both buildings and zones
# Columns zeroed in a neighbour's copy: it is kept whatever happens, so its costs are not
# part of the place's decision (and would otherwise dilute the relative gap).
NEIGHBOUR_ZEROED = (
    "running_cost_gbp",
    "rent_gbp",
    "rates_gbp",
    "energy_gbp",
    "fm_gbp",
    "backlog_gbp",
    "market_value_gbp",
    "disposal_cost_gbp",
    "site_area_ha",
    "carbon_tco2e",
)


@dataclass(frozen=True, eq=False)
class PlaceEstate:
    """One place's estate plus its boundary buffer.

    Attributes
    ----------
    place, place_name
        Code (e.g. ``E08000009``) and name of the place.
    estate
        Own buildings, occupiers and zones, plus the neighbours' buildings in the buffer.
    own
        IDs of the place's own buildings (the ones the plan decides and reports).
    neighbours
        IDs of the neighbouring places' buildings in the buffer.
    buffer_km
        Straight-line buffer used.

    """

    place: str
    place_name: str
    estate: Estate
    own: frozenset[str]
    neighbours: frozenset[str]
    buffer_km: float

    @property
    def size(self) -> int:
        """A rough measure of solve effort: buildings x zones."""
        return len(self.estate.buildings) * max(len(self.estate.zones), 1)

    def data_hash(self) -> str:
        """sha256 of every input table of this place (own rows, buffer rows, standards)."""
        return estate_digest(self.estate, extra=f"{self.place}|{self.buffer_km:.6f}")


def place_column(estate: Estate) -> str:
    """The column that names places: ``place`` if buildings and zones have it, else ``borough``."""
    for col in PLACE_COLUMNS:
        if col in estate.buildings.columns and col in estate.zones.columns:
            if estate.zones[col].notna().all() and (estate.zones[col].astype(str) != "").all():
                return col
    msg = (
        "The estate cannot be split into places: its buildings and zones need a `place` column "
        "(or a `borough` column) filled on every zone. Build data/england.gpkg with "
        "scripts/build_national.py, or add the column."
    )
    raise PlaceError(msg)


def list_places(estate: Estate) -> pd.DataFrame:
    """One row per place: ``place``, ``place_name``, ``zones``, ``population``, ``buildings``,
    and the population-weighted centre (``easting``, ``northing``), sorted by place."""
    col = place_column(estate)
    z = estate.zones
    names = z["place_name"] if col == "place" and "place_name" in z.columns else z[col]
    w = z["population"].astype(float).to_numpy()
    frame = pd.DataFrame(
        {
            "place": z[col].astype(str).to_numpy(),
            "place_name": names.astype(str).to_numpy(),
            "wx": z["easting"].to_numpy() * w,
            "wy": z["northing"].to_numpy() * w,
            "w": w,
            "x": z["easting"].to_numpy(),
            "y": z["northing"].to_numpy(),
        }
    )
    agg = frame.groupby("place").agg(
        place_name=("place_name", "first"),
        zones=("w", "size"),
        population=("w", "sum"),
        wx=("wx", "sum"),
        wy=("wy", "sum"),
        x=("x", "mean"),
        y=("y", "mean"),
    )
    weighted = agg["population"] > 0
    agg["easting"] = np.where(weighted, agg["wx"] / agg["population"].where(weighted, 1.0), agg["x"])
    agg["northing"] = np.where(weighted, agg["wy"] / agg["population"].where(weighted, 1.0), agg["y"])
    counts = estate.buildings[col].astype(str).value_counts()
    agg["buildings"] = counts.reindex(agg.index).fillna(0).astype("int64")
    agg["population"] = agg["population"].round().astype("int64")
    out = agg.reset_index()[
        ["place", "place_name", "zones", "population", "buildings", "easting", "northing"]
    ]
    return out.sort_values("place", kind="stable").reset_index(drop=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def resolve_places(estate: Estate, wanted: Iterable[str]) -> list[str]:
    """Place codes for codes or names (case and punctuation ignored), in the order given.

    Raises
    ------
    PlaceError
        If a name matches no place; the message lists close matches.

    """
    table = list_places(estate)
    lookup: dict[str, str] = {}
    for code, name in zip(table["place"], table["place_name"], strict=True):
        lookup[_slug(code)] = code
        lookup.setdefault(_slug(name), code)
    out: list[str] = []
    unknown = []
    for raw in wanted:
        item = raw.strip()
        if not item:
            continue
        code = lookup.get(_slug(item))
        if code is None:
            unknown.append(item)
        elif code not in out:
            out.append(code)
    if unknown:
        hints = []
        for item in unknown:
            close = [n for n in table["place_name"] if _slug(item) in _slug(n)][:3]
            hints.append(f"{item!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        msg = (
            f"Unknown place(s): {'; '.join(hints)}. Give place codes or names as in "
            f"`python -m optimiser sweep --list-places` ({len(table)} places)."
        )
        raise PlaceError(msg)
    return out


def boundary_buffer_km(estate: Estate, scenario: Scenario) -> float:
    """Largest straight-line reach (km) of the access standards in force for the services the
    estate offers (0 when none)."""
    if not scenario.access_enabled:
        return 0.0
    reach = 0.0
    occ = estate.occupiers
    offered = set(occ.loc[occ["public_facing"].astype(bool), "service"])
    for standard in standards_for(estate, scenario):
        if standard.service not in offered:  # no one to keep reach to
            continue
        reach = max(reach, straight_reach_km(estate, standard))
    return float(reach)


def place_estate(estate: Estate, place: str, *, buffer_km: float) -> PlaceEstate:
    """The estate of one place plus its neighbours' buildings within `buffer_km` of its zones.

    Raises
    ------
    PlaceError
        If the place has no zone and no building.

    """
    col = place_column(estate)
    b, occ, z = estate.buildings, estate.occupiers, estate.zones
    is_own_b = b[col].astype(str) == place
    is_own_z = z[col].astype(str) == place
    if not is_own_b.any() and not is_own_z.any():
        msg = f"Place {place!r} has no zone and no building in {estate.name}."
        raise PlaceError(msg)
    zones = z[is_own_z]
    others = b[~is_own_b]
    near = np.zeros(len(others), dtype=bool)
    if buffer_km > 0 and len(zones) and len(others):
        tree = shapely.STRtree(shapely.points(zones[["easting", "northing"]].to_numpy()))
        hit, _ = tree.query(
            shapely.points(others[["easting", "northing"]].to_numpy()),
            predicate="dwithin",
            distance=buffer_km * 1000.0,
        )
        near[np.unique(hit)] = True
    neighbour_ids = others.index[near]
    keep_b = is_own_b | b.index.isin(neighbour_ids)
    buildings = b[keep_b].copy()
    is_neighbour = buildings.index.isin(neighbour_ids)
    if is_neighbour.any():
        for column in NEIGHBOUR_ZEROED:
            if column in buildings.columns:
                buildings.loc[is_neighbour, column] = 0.0
        buildings.loc[is_neighbour, "fixed"] = True
        buildings.loc[is_neighbour, "fixed_reason"] = NEIGHBOUR_REASON
        buildings.loc[is_neighbour, "protected"] = True
        buildings.loc[is_neighbour, "protected_reason"] = NEIGHBOUR_REASON
    occupiers = occ[occ["building_id"].isin(buildings.index)].copy()
    occupiers.loc[occupiers["building_id"].isin(neighbour_ids), "movable"] = False
    names = (
        z.loc[is_own_z, "place_name"]
        if "place_name" in z.columns and col == "place"
        else z.loc[is_own_z, col]
    )
    name = str(names.iloc[0]) if len(names) else place
    sub = replace(
        estate,
        buildings=buildings,
        occupiers=occupiers,
        zones=zones.copy(),
        rejected={},
        issues=(),
        notes=(),
        name=name,
    )
    return PlaceEstate(
        place=place,
        place_name=name,
        estate=sub,
        own=frozenset(map(str, b.index[is_own_b])),
        neighbours=frozenset(map(str, neighbour_ids)),
        buffer_km=float(buffer_km),
    )


def scope_plan(plan: Plan, estate: Estate, own: Iterable[str]) -> Plan:
    """The plan restricted to the place's own buildings: KPIs, partners, buildings, occupiers.

    Access is left as solved: it concerns the place's zones and counts every building within
    reach, the neighbours' included (they are kept).
    """
    own_ids = pd.Index(sorted(set(own)))
    b = estate.buildings
    own_b = b.loc[b.index.isin(own_ids)]
    own_occ = estate.occupiers[estate.occupiers["building_id"].isin(own_b.index)]
    own_estate = replace(estate, buildings=own_b, occupiers=own_occ)
    keep = (plan.buildings.set_index("building_id")["decision"] == "keep").reindex(own_b.index).fillna(True)
    money = money_by_building(own_estate, plan.scenario, keep)
    occ_rows = plan.occupiers[plan.occupiers["occupier_id"].isin(own_occ.index)].reset_index(drop=True)
    part_cost = occ_rows["move_cost_gbp"].astype(float)
    parts = occ_rows[["occupier_id", "from_building_id", "to_building_id", "share"]]
    kpis = totals(own_estate, plan.scenario, money, float(part_cost.sum()))
    partners = partner_totals(own_estate, money, parts, part_cost)
    buildings = plan.buildings[plan.buildings["building_id"].isin(own_b.index)].reset_index(drop=True)
    return replace(plan, buildings=buildings, occupiers=occ_rows, partners=partners, kpis=kpis)

"""The Estate: an immutable, validated set of tables, indexed by ID, in EPSG:27700."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from estate.errors import Issue
from estate.geometry import TravelModel, distance_table, representative_xy
from estate.schema import (
    ACCESS_COLUMNS,
    COMPATIBILITY_COLUMNS,
    CRS,
    OCCUPIER_COLUMNS,
    TABLE_NAMES,
    ZONE_COLUMNS,
    Column,
)
from estate.validate import find_fixed_buildings

NET_TO_GROSS = 0.8  # capacity_m2 = gia_m2 x this, when only gia is known (RICS NIA/GIA ~0.8)


def _empty(columns: tuple[Column, ...], *, spatial: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame({c.name: pd.Series(dtype=object) for c in columns})
    frame["source_row"] = pd.Series(dtype="int64")
    if spatial:
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return frame


@dataclass(frozen=True, eq=False)
class Estate:
    """A place's public estate, validated and ready to optimise.

    Attributes
    ----------
    buildings
        GeoDataFrame indexed by ``building_id`` (EPSG:27700) with the schema columns,
        ``easting``/``northing`` of a representative point, ``fixed`` (cannot be optimised,
        kept as it is), ``fixed_reason`` and ``source_row``.
    occupiers
        DataFrame indexed by ``occupier_id``.
    zones
        GeoDataFrame indexed by ``zone_id`` with ``easting``/``northing``.
    access
        Access standards indexed by ``service``.
    compatibility
        Pairs (service, host_service) that may share a building.
    rejected
        Per table, the rejected rows as read plus ``reasons``.
    issues
        Every issue found while loading (rejections), in file order.
    notes
        Problems that did not reject a row (fixed buildings, over-full buildings).
    sources
        File (and layer) each table came from.
    name
        Place name.
    travel
        Modelled travel; ``travel_matrix`` (zone_id, building_id, minutes) overrides it.

    """

    buildings: gpd.GeoDataFrame
    occupiers: pd.DataFrame
    zones: gpd.GeoDataFrame
    access: pd.DataFrame
    compatibility: pd.DataFrame
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()
    notes: tuple[Issue, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    name: str = "estate"
    travel: TravelModel = field(default_factory=TravelModel)
    travel_matrix: pd.DataFrame | None = None

    @classmethod
    def from_tables(
        cls,
        *,
        buildings: pd.DataFrame,
        occupiers: pd.DataFrame | None = None,
        zones: pd.DataFrame | None = None,
        access: pd.DataFrame | None = None,
        compatibility: pd.DataFrame | None = None,
        rejected: dict[str, pd.DataFrame] | None = None,
        issues: tuple[Issue, ...] = (),
        notes: tuple[Issue, ...] = (),
        sources: dict[str, str] | None = None,
        name: str = "estate",
        travel: TravelModel | None = None,
        travel_matrix: pd.DataFrame | None = None,
    ) -> Estate:
        """Index validated tables by ID, fill documented defaults and mark fixed buildings.

        `notes` (from reading the files) come first, then the notes found here.
        """
        sources = dict(sources or {})
        b = gpd.GeoDataFrame(buildings.copy(), geometry="geometry", crs=CRS)
        gia_only = b["capacity_m2"].isna() & b["gia_m2"].notna()
        if gia_only.any():
            b.loc[gia_only, "capacity_m2"] = b.loc[gia_only, "gia_m2"] * NET_TO_GROSS
            b.loc[gia_only, "modelled"] = b.loc[gia_only, "modelled"].map(
                lambda m: (*tuple(m or ()), "capacity_m2")
            )
        b["fixed_reason"] = find_fixed_buildings(b)
        b["fixed"] = b["fixed_reason"] != ""
        xy = representative_xy(b.geometry)
        b["easting"], b["northing"] = xy[:, 0], xy[:, 1]
        b = b.set_index("building_id", drop=False).rename_axis(index="id")

        occ = occupiers.copy() if occupiers is not None else _empty(OCCUPIER_COLUMNS)
        occ = occ.set_index("occupier_id", drop=False).rename_axis(index="id")
        z = zones.copy() if zones is not None else _empty(ZONE_COLUMNS, spatial=True)
        z = gpd.GeoDataFrame(z, geometry="geometry", crs=CRS)
        zxy = representative_xy(z.geometry) if len(z) else np.empty((0, 2))
        z["easting"], z["northing"] = zxy[:, 0], zxy[:, 1]
        z = z.set_index("zone_id", drop=False).rename_axis(index="id")
        acc = access.copy() if access is not None else _empty(ACCESS_COLUMNS)
        acc = acc.set_index("service", drop=False).rename_axis(index="id")
        comp = compatibility.copy() if compatibility is not None else _empty(COMPATIBILITY_COLUMNS)

        notes = (
            *notes,
            *_fixed_notes(b, sources.get("buildings", "buildings")),
            *_overfull_notes(b, occ, sources.get("occupiers", "occupiers")),
        )
        return cls(
            buildings=b,
            occupiers=occ,
            zones=z,
            access=acc,
            compatibility=comp.reset_index(drop=True),
            rejected=dict(rejected or {}),
            issues=tuple(issues),
            notes=tuple(notes),
            sources=sources,
            name=name,
            travel=travel or TravelModel(),
            travel_matrix=travel_matrix,
        )

    # ---------------------------------------------------------------- queries
    @property
    def population(self) -> int:
        """Total population of the zones."""
        return round(float(self.zones["population"].sum())) if len(self.zones) else 0

    def counts(self) -> dict[str, Any]:
        """Accepted and rejected rows per table, and the population."""
        out: dict[str, Any] = {}
        for table in TABLE_NAMES:
            frame = getattr(self, table)
            out[table] = {"accepted": len(frame), "rejected": len(self.rejected.get(table, ()))}
        out["buildings"]["fixed"] = int(self.buildings["fixed"].sum())
        out["population"] = self.population
        return out

    def building_distances(self, max_km: float) -> pd.DataFrame:
        """Building pairs (``building_id``, ``to_building_id``, ``straight_km``) within `max_km`."""
        b = self.buildings
        xy = b[["easting", "northing"]].to_numpy()
        return distance_table(
            b.index, xy, b.index, xy, max_km, from_name="building_id", to_name="to_building_id"
        )

    def zone_reach(self, max_straight_km: float) -> pd.DataFrame:
        """Zone-building pairs within `max_straight_km`, with road km and minutes.

        Minutes come from `travel_matrix` where it has the pair, else from `travel`.
        """
        z, b = self.zones, self.buildings
        table = distance_table(
            z.index,
            z[["easting", "northing"]].to_numpy(),
            b.index,
            b[["easting", "northing"]].to_numpy(),
            max_straight_km,
            from_name="zone_id",
            to_name="building_id",
        )
        table["road_km"] = self.travel.road_km(table["straight_km"].to_numpy())
        table["minutes"] = self.travel.minutes(table["straight_km"].to_numpy())
        if self.travel_matrix is not None:
            given = table.merge(
                self.travel_matrix, on=["zone_id", "building_id"], how="left", suffixes=("", "_given")
            )
            table["minutes"] = given["minutes_given"].fillna(given["minutes"]).to_numpy()
        return table

    def subset(self, boroughs: list[str] | tuple[str, ...], *, name: str | None = None) -> Estate:
        """The estate of some boroughs only (buildings, their occupiers, and zones)."""
        keep_b = self.buildings["borough"].isin(boroughs)
        b = self.buildings[keep_b]
        occ = self.occupiers[self.occupiers["building_id"].isin(b.index)]
        z = self.zones[self.zones["borough"].isin(boroughs)]
        return replace(self, buildings=b, occupiers=occ, zones=z, name=name or ", ".join(boroughs))

    def with_travel(self, travel: TravelModel) -> Estate:
        """A copy with another travel model."""
        return replace(self, travel=travel)


def _fixed_notes(b: pd.DataFrame, source: str) -> list[Issue]:
    return [
        Issue(
            source,
            int(b.at[bid, "source_row"]),
            str(bid),
            reason.removeprefix("missing ").split(",")[0],
            None,
            f"building kept as it is: {reason}",
            "Add the missing figures to optimise it.",
        )
        for bid, reason in b["fixed_reason"].items()
        if reason
    ]


def _overfull_notes(b: pd.DataFrame, occ: pd.DataFrame, source: str) -> list[Issue]:
    if occ.empty:
        return []
    used = occ.groupby("building_id")["space_m2"].sum()
    cap = b["capacity_m2"].reindex(used.index)
    over = used[(cap.notna()) & (used > cap * 1.0001)]
    return [
        Issue(
            source,
            0,
            str(bid),
            "space_m2",
            float(used[bid]),
            f"occupiers need {used[bid]:,.0f} m2 but the building has {cap[bid]:,.0f} m2",
            "The optimiser treats today's use as the capacity; check the figures.",
        )
        for bid in over.index
    ]

"""Points, distances and reach in British National Grid, using a spatial index.

Travel is modelled as straight-line distance times a detour factor (road km), and minutes as
a fixed access time plus minutes per straight-line km. Both are calibrated against real
LSOA-to-hospital road times; see ``docs/travel.md`` and ``docs/calibrate_travel.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from estate.errors import EstateError

# Defaults from docs/travel_calibration.json (docs/calibrate_travel.py): Huber fit on English
# urban LSOA-to-hospital road times under 10 km straight line (outside London), R2 0.81; on
# Greater Manchester pairs under 10 km the median absolute error is 0.97 min. The detour
# factor is the literature's convention (docs/travel.md), not fitted.
DETOUR_FACTOR = 1.3
MINUTES_INTERCEPT = 7.65
MINUTES_PER_KM = 1.29


@dataclass(frozen=True)
class TravelModel:
    """How straight-line km become road km and minutes.

    Parameters
    ----------
    detour_factor
        Road km per straight-line km.
    minutes_intercept
        Fixed minutes added to every trip (access, parking).
    minutes_per_km
        Minutes per straight-line km.

    """

    detour_factor: float = DETOUR_FACTOR
    minutes_intercept: float = MINUTES_INTERCEPT
    minutes_per_km: float = MINUTES_PER_KM

    def __post_init__(self) -> None:
        if not self.detour_factor >= 1.0:
            msg = f"`detour_factor` must be at least 1 (road is never shorter); got {self.detour_factor}."
            raise EstateError(msg)
        if self.minutes_per_km <= 0 or self.minutes_intercept < 0:
            msg = "`minutes_per_km` must be positive and `minutes_intercept` not negative."
            raise EstateError(msg)

    def road_km(self, straight_km: np.ndarray | float) -> np.ndarray | float:
        """Road km for straight-line km."""
        return np.asarray(straight_km) * self.detour_factor

    def minutes(self, straight_km: np.ndarray | float) -> np.ndarray | float:
        """Modelled travel minutes for straight-line km."""
        return self.minutes_intercept + np.asarray(straight_km) * self.minutes_per_km

    def straight_km_for_minutes(self, minutes: float) -> float:
        """Largest straight-line km reachable in `minutes`."""
        return max(0.0, (minutes - self.minutes_intercept) / self.minutes_per_km)


def representative_xy(geometry: gpd.GeoSeries) -> np.ndarray:
    """(n, 2) metres: the point itself, or a point inside each footprint polygon."""
    points = shapely.point_on_surface(geometry.to_numpy())
    return np.column_stack([shapely.get_x(points), shapely.get_y(points)])


def pairs_within(
    from_xy: np.ndarray, to_xy: np.ndarray, max_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j) with straight-line distance <= `max_km`, found with an STRtree.

    Returns
    -------
    i, j, km
        Positions in `from_xy` and `to_xy`, and the straight-line km between them.

    """
    if len(from_xy) == 0 or len(to_xy) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    tree = shapely.STRtree(shapely.points(to_xy))
    i, j = tree.query(shapely.points(from_xy), predicate="dwithin", distance=max_km * 1000.0)
    km = np.hypot(*(from_xy[i] - to_xy[j]).T) / 1000.0
    return i.astype(np.int64), j.astype(np.int64), km


def distance_table(
    from_ids: pd.Index,
    from_xy: np.ndarray,
    to_ids: pd.Index,
    to_xy: np.ndarray,
    max_km: float,
    *,
    from_name: str,
    to_name: str,
) -> pd.DataFrame:
    """Long table of (from, to, straight_km) for every pair within `max_km`."""
    i, j, km = pairs_within(from_xy, to_xy, max_km)
    return pd.DataFrame({from_name: from_ids.to_numpy()[i], to_name: to_ids.to_numpy()[j], "straight_km": km})

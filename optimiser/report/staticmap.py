"""The board pack's printable map: a static before/after picture of a plan, drawn on the server. No Streamlit.

`plan_map_png` draws, from a plan's tables alone (as a run folder or a saved run holds them),
the estate before and after side by side: buildings as dots (disposed ones red, kept ones that
receive occupiers green, other kept ones blue), moves as arrows from the old building to the
new one, over the borough boundaries, with a legend and a scale bar. `options_map_png` draws
2–4 options' "after" side by side on the same extent, for a comparison pack.

Borough boundaries come from a polygon layer of the bundled GeoPackage whose name holds
"borough" (`borough_boundaries`); when there is none, the boroughs are approximated from the
zones' population-weighted centroids (each zone's Voronoi cell, dissolved by borough and
clipped to the zones' outline: `approximate_boroughs`), and the map says so.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, so it is safe in a server's
threads); matplotlib is imported only when a map is drawn. Coordinates are British National
Grid metres throughout.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from estate.schema import CRS
from optimiser.report.words import count_words

KEEP_COLOUR, RECEIVE_COLOUR, DISPOSE_COLOUR, MOVE_COLOUR = "#4a6fa5", "#1a9850", "#d73027", "#e07b00"
BOUNDARY_COLOUR = "#8c8c8c"
WIDTH_IN = 7.0  # fits the A4 text width (210 mm less 2 x 15 mm margins)
DPI = 170


@dataclass(frozen=True)
class Boundaries:
    """Borough outlines for a map, and whether they are the real ones or an approximation."""

    frame: gpd.GeoDataFrame  # one row per borough: ``name``, polygon geometry in BNG
    approximate: bool

    @property
    def note(self) -> str:
        if self.approximate:
            return (
                "Borough outlines are approximate: drawn from the zones' population-weighted centroids "
                "(no borough boundary layer in the data)."
            )
        return "Borough boundaries from the estate's GeoPackage."


def borough_boundaries(path: str | Path | None) -> gpd.GeoDataFrame | None:
    """The borough polygons of a GeoPackage (the first polygon layer whose name holds "borough"),
    in British National Grid with a ``name`` column; None when there is no such layer."""
    if path is None or not Path(path).is_file():
        return None
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # not a GeoPackage we can read: draw without it
        return None
    for name, kind in layers:
        if "borough" in str(name).lower() and kind and "polygon" in str(kind).lower():
            frame = gpd.read_file(path, layer=str(name))
            if frame.crs is None:
                continue
            frame = frame.to_crs(CRS)
            label = next((c for c in ("name", "borough", "lad_name", "LAD24NM") if c in frame), None)
            frame["name"] = frame[label].astype(str) if label else ""
            return gpd.GeoDataFrame(frame[["name"]], geometry=frame.geometry, crs=CRS)
    return None


def approximate_boroughs(zones: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    """Borough areas approximated from zone centroids: Voronoi cells dissolved by borough,
    clipped to the zones' outline (their convex hull, 1 km wider). None without zones."""
    if zones is None or zones.empty or not {"easting", "northing", "borough"} <= set(zones.columns):
        return None
    xy = zones[["easting", "northing"]].apply(pd.to_numeric, errors="coerce")
    ok = xy.notna().all(axis=1).to_numpy()
    if ok.sum() < 3:
        return None
    points = shapely.points(xy.to_numpy()[ok])
    outline = shapely.convex_hull(shapely.multipoints(points)).buffer(1000.0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline))
    # voronoi_polygons does not keep the input order: match each cell to the point inside it
    tree = shapely.STRtree(cells)
    point_i, cell_i = tree.query(points, predicate="within")
    order = np.full(len(points), -1)
    order[point_i] = cell_i
    borough = zones["borough"].astype(str).to_numpy()[ok]
    keep = order >= 0
    frame = gpd.GeoDataFrame(
        {"name": borough[keep]}, geometry=shapely.intersection(cells[order[keep]], outline), crs=CRS
    )
    return frame.dissolve(by="name", as_index=False)


def boundaries_for(zones: pd.DataFrame | None, gpkg: str | Path | None = None) -> Boundaries | None:
    """The real borough boundaries from `gpkg` if it has them, else the approximation from `zones`."""
    real = borough_boundaries(gpkg)
    if real is not None and len(real):
        return Boundaries(real, approximate=False)
    approx = approximate_boroughs(zones)
    return None if approx is None else Boundaries(approx, approximate=True)


# ---------------------------------------------------------------------- drawing
def _classes(buildings: pd.DataFrame) -> np.ndarray:
    disposed = buildings["decision"].astype(str).eq("dispose").to_numpy()
    incoming = pd.to_numeric(buildings.get("occupiers_in", 0), errors="coerce")
    receives = (pd.Series(incoming, index=buildings.index).fillna(0) > 0).to_numpy()
    return np.where(disposed, "dispose", np.where(receives, "receive", "keep"))


def _xy(buildings: pd.DataFrame) -> np.ndarray:
    xy: np.ndarray = (
        buildings[["easting", "northing"]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    )
    return xy


def _moves(buildings: pd.DataFrame, occupiers: pd.DataFrame) -> np.ndarray:
    """Rows of (x0, y0, x1, y1) for each occupier part that changes building."""
    if occupiers is None or occupiers.empty:
        return np.empty((0, 4))
    where = dict(zip(buildings["building_id"].astype(str), map(tuple, _xy(buildings)), strict=True))
    moved = occupiers[occupiers["from_building_id"].astype(str) != occupiers["to_building_id"].astype(str)]
    rows = [
        (*where[a], *where[b])
        for a, b in zip(
            moved["from_building_id"].astype(str), moved["to_building_id"].astype(str), strict=True
        )
        if a in where and b in where
    ]
    out = np.array(rows, dtype=float).reshape(-1, 4)
    finite: np.ndarray = out[np.isfinite(out).all(axis=1)]
    return finite


def _extent(
    buildings: Sequence[pd.DataFrame], boundaries: Boundaries | None
) -> tuple[float, float, float, float]:
    xy = np.vstack([_xy(b) for b in buildings]) if buildings else np.empty((0, 2))
    xy = xy[np.isfinite(xy).all(axis=1)]
    if boundaries is not None and len(boundaries.frame):
        x0, y0, x1, y1 = boundaries.frame.total_bounds
        if len(xy):
            x0, y0 = min(x0, xy[:, 0].min()), min(y0, xy[:, 1].min())
            x1, y1 = max(x1, xy[:, 0].max()), max(y1, xy[:, 1].max())
    elif len(xy):
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
    else:
        return (0.0, 0.0, 1000.0, 1000.0)
    pad = max(x1 - x0, y1 - y0, 1000.0) * 0.03
    return (float(x0 - pad), float(y0 - pad), float(x1 + pad), float(y1 + pad))


def _draw_boundaries(ax: Any, boundaries: Boundaries | None, *, labels: bool) -> None:
    if boundaries is None:
        return
    frame = boundaries.frame
    frame.boundary.plot(ax=ax, color=BOUNDARY_COLOUR, linewidth=0.6, zorder=1)
    frame.plot(ax=ax, color="#f4f4f0", edgecolor="none", zorder=0)
    if labels and len(frame) <= 12:
        for name, point in zip(frame["name"], frame.geometry.representative_point(), strict=True):
            ax.annotate(
                str(name), (point.x, point.y), ha="center", va="center", fontsize=6, color="#6b6b6b", zorder=2
            )


def _draw_panel(
    ax: Any,
    buildings: pd.DataFrame,
    occupiers: pd.DataFrame,
    *,
    after: bool,
    title: str,
    boundaries: Boundaries | None,
    extent: tuple[float, float, float, float],
) -> None:
    _draw_boundaries(ax, boundaries, labels=True)
    xy = _xy(buildings)
    kinds = _classes(buildings)
    if not after:
        ax.scatter(xy[:, 0], xy[:, 1], s=9, c=KEEP_COLOUR, edgecolors="white", linewidths=0.3, zorder=3)
        marked = kinds == "dispose"
        ax.scatter(
            xy[marked, 0],
            xy[marked, 1],
            s=26,
            facecolors="none",
            edgecolors=DISPOSE_COLOUR,
            linewidths=0.8,
            zorder=4,
        )
    else:
        for kind, colour, size, marker in (
            ("keep", KEEP_COLOUR, 9, "o"),
            ("receive", RECEIVE_COLOUR, 22, "o"),
            ("dispose", DISPOSE_COLOUR, 20, "X"),
        ):
            chosen = kinds == kind
            ax.scatter(
                xy[chosen, 0],
                xy[chosen, 1],
                s=size,
                c=colour,
                marker=marker,
                edgecolors="white",
                linewidths=0.3,
                zorder=5 if kind != "keep" else 3,
            )
        for x0, y0, x1, y1 in _moves(buildings, occupiers):
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": MOVE_COLOUR,
                    "lw": 0.9,
                    "mutation_scale": 6,
                    "shrinkA": 2,
                    "shrinkB": 3,
                },
                zorder=4,
            )
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_color("#bbbbbb")
    ax.set_title(title, fontsize=8, loc="left")
    _scale_bar(ax, extent)


def _scale_bar(ax: Any, extent: tuple[float, float, float, float]) -> None:
    width = extent[2] - extent[0]
    km = next((k for k in (1, 2, 5, 10, 20, 50, 100) if k * 1000 >= width / 6), 100)
    x0 = extent[0] + width * 0.04
    y0 = extent[1] + (extent[3] - extent[1]) * 0.04
    ax.plot([x0, x0 + km * 1000], [y0, y0], color="#333333", linewidth=1.5, zorder=6)
    ax.annotate(
        f"{km} km", (x0 + km * 500, y0), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=6
    )


def _legend(fig: Any, *, before: bool, boundaries: Boundaries | None) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="", color=KEEP_COLOUR, markersize=4, label="kept"),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=RECEIVE_COLOUR,
            markersize=5,
            label="kept, receives occupiers",
        ),
        Line2D([], [], marker="X", linestyle="", color=DISPOSE_COLOUR, markersize=5, label="disposed"),
        Line2D(
            [],
            [],
            color=MOVE_COLOUR,
            linewidth=1.2,
            marker=">",
            markersize=4,
            label="occupier moves (arrow: to)",
        ),
    ]
    if boundaries is not None:
        label = "borough (approximate outline)" if boundaries.approximate else "borough boundary"
        handles.append(Line2D([], [], color=BOUNDARY_COLOUR, linewidth=0.8, label=label))
    if before:
        handles.insert(
            3,
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor=DISPOSE_COLOUR,
                markersize=5,
                label="before: to be disposed",
            ),
        )
    fig.legend(
        handles=handles, loc="lower center", ncol=3, fontsize=6.5, frameon=False, bbox_to_anchor=(0.5, 0.0)
    )


def _leave_room_for_the_legend(fig: Any) -> None:
    """The panels in the top 90% of the figure; the legend below them."""
    fig.get_layout_engine().set(rect=(0, 0.1, 1, 0.9))


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def plan_map_png(
    buildings: pd.DataFrame,
    occupiers: pd.DataFrame,
    *,
    boundaries: Boundaries | None = None,
) -> bytes:
    """The estate before and after a plan, side by side, as a PNG for print (7 in wide).

    Parameters
    ----------
    buildings
        `Plan.buildings` (``building_id``, ``easting``, ``northing``, ``decision``, ``occupiers_in``).
    occupiers
        `Plan.occupiers` (``from_building_id``, ``to_building_id``).
    boundaries
        Borough outlines (`boundaries_for`), or None for none.

    """
    from matplotlib.figure import Figure

    extent = _extent([buildings], boundaries)
    aspect = (extent[3] - extent[1]) / max(extent[2] - extent[0], 1.0)
    panel_w = WIDTH_IN / 2
    fig = Figure(figsize=(WIDTH_IN, min(panel_w * aspect, 6.0) + 0.9), layout="constrained")
    _leave_room_for_the_legend(fig)
    before_ax, after_ax = fig.subplots(1, 2)
    kinds = _classes(buildings)
    n_before, n_after = len(buildings), int((kinds != "dispose").sum())
    _draw_panel(
        before_ax,
        buildings,
        occupiers,
        after=False,
        title=f"Before: {count_words(n_before)} buildings",
        boundaries=boundaries,
        extent=extent,
    )
    moves = len(_moves(buildings, occupiers))
    _draw_panel(
        after_ax,
        buildings,
        occupiers,
        after=True,
        title=f"After: {count_words(n_after)} buildings, {count_words(moves)} moves",
        boundaries=boundaries,
        extent=extent,
    )
    _legend(fig, before=True, boundaries=boundaries)
    return _png(fig)


def options_map_png(
    options: Sequence[tuple[str, pd.DataFrame, pd.DataFrame]],
    *,
    boundaries: Boundaries | None = None,
) -> bytes:
    """2–4 options' estates after their plans, side by side on one extent, as a PNG for print.

    `options` holds (name, buildings, occupiers) per option.
    """
    from matplotlib.figure import Figure

    extent = _extent([b for _, b, _ in options], boundaries)
    aspect = (extent[3] - extent[1]) / max(extent[2] - extent[0], 1.0)
    columns = 2 if len(options) > 1 else 1
    rows = -(-len(options) // columns)
    panel_w = WIDTH_IN / columns
    fig = Figure(figsize=(WIDTH_IN, rows * min(panel_w * aspect, 4.5) + 0.8), layout="constrained")
    _leave_room_for_the_legend(fig)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, (name, buildings, occupiers) in zip(axes, options, strict=False):
        kinds = _classes(buildings)
        _draw_panel(
            ax,
            buildings,
            occupiers,
            after=True,
            title=f"{name}: {count_words(int((kinds != 'dispose').sum()))} buildings after",
            boundaries=boundaries,
            extent=extent,
        )
    for ax in axes[len(options) :]:
        ax.set_visible(False)
    _legend(fig, before=False, boundaries=boundaries)
    return _png(fig)

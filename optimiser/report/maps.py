"""Estate and plan maps as folium.Map objects that work offline. No Streamlit.

Folium 0.20 makes every map load Leaflet, jQuery, Bootstrap and the awesome-markers plugin from
CDNs, so with no internet (or behind a council proxy that blocks CDNs) the map stays blank. The
maps built here load only Leaflet 1.9.3, taken from the installed ``XStatic-Leaflet`` package,
and use no folium feature that needs anything else (no ``folium.Popup``, which needs jQuery; no
awesome markers; no branca colour maps, which need d3). Popups and tooltips are bound with
Leaflet's own ``bindPopup``/``bindTooltip``.

Two ways of delivering Leaflet are offered (see `offline_map`):

- ``assets="data-url"``: the script and stylesheet are ``data:`` URLs in the map's
  ``default_js``/``default_css``. streamlit-folium loads exactly those links inside its
  iframe, so the app serves Leaflet itself and nothing is fetched from outside.
- ``assets="inline"``: ``<script>`` and ``<style>`` elements in the page head, for the
  self-contained board pack (`standalone_html`).

Only the background tiles (OpenStreetMap) come from outside; without them the map still shows
buildings and zones on Leaflet's plain grey background.

All geometry arrives in British National Grid (``easting``/``northing``) and is drawn in WGS84.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.template import Template

from estate import Estate
from optimiser.report.kpis import MODELLED_FOOTNOTE, format_money, format_number, is_blank, modelled_set

TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
TILE_HOSTS = ("tile.openstreetmap.org",)  # the only hosts a map may contact
GM_CENTRE = (53.48, -2.24)

OWNER_TYPE_COLOURS = {
    "council": "#1f78b4",
    "nhs": "#33a02c",
    "police": "#6a3d9a",
    "fire": "#e31a1c",
    "dwp": "#ff7f00",
    "other": "#7f7f7f",
}
PALETTE = (
    "#1f78b4",
    "#33a02c",
    "#e31a1c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#b2df8a",
    "#fb9a99",
    "#fdbf6f",
    "#cab2d6",
    "#8dd3c7",
    "#bebada",
    "#80b1d3",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#1b9e77",
    "#d95f02",
)
OTHER_COLOUR = "#9e9e9e"
DECISION_COLOURS = {"keep": "#4a6fa5", "receive": "#1a9850", "dispose": "#d73027"}
DECISION_LABELS = {
    "keep": "kept",
    "receive": "kept, receives occupiers",
    "dispose": "disposed",
}
MOVE_COLOUR = "#ff7f00"
ACCESS_COLOURS = {"gained": "#1a9850", "lost": "#d73027", "kept": "#9ecae1", "never": "#d9d9d9"}
ACCESS_LABELS = {
    "gained": "gains reach",
    "lost": "loses reach",
    "kept": "within reach before and after",
    "never": "out of reach before and after",
}
COLOUR_BY = {
    "owner_type": "partner type",
    "owner": "partner",
    "service": "main service",
}

AssetMode = Literal["data-url", "inline", "none"]


# ----------------------------------------------------------------------------- assets
def _leaflet_dir() -> Path:
    from xstatic.pkg import leaflet  # the installed XStatic-Leaflet package

    return Path(leaflet.BASE_DIR)


@functools.cache
def leaflet_js() -> str:
    """Leaflet 1.9.3's minified script, from XStatic-Leaflet, without its source-map comment."""
    text = (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    return re.sub(r"//# sourceMappingURL=\S+\s*$", "", text)


@functools.cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images (layers control, default marker) inlined."""
    folder = _leaflet_dir()
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        path = folder / match.group(1)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[A-Za-z0-9_.-]+\.png)\)", inline, css)


@functools.cache
def _data_urls() -> tuple[str, str]:
    js = base64.b64encode(leaflet_js().encode()).decode("ascii")
    css = base64.b64encode(leaflet_css().encode()).decode("ascii")
    return f"data:text/javascript;base64,{js}", f"data:text/css;base64,{css}"


def offline_map(
    *,
    bounds: tuple[float, float, float, float] | None = None,
    tiles: bool = True,
    assets: AssetMode = "data-url",
) -> folium.Map:
    """An empty folium.Map that loads Leaflet from the installed package, never a CDN.

    Parameters
    ----------
    bounds
        (south, west, north, east) in degrees to fit the view to.
    tiles
        Add the OpenStreetMap background (the only outside resource).
    assets
        ``data-url`` (for streamlit-folium), ``inline`` (for a standalone page) or ``none``
        (the caller supplies Leaflet).

    """
    m = folium.Map(location=GM_CENTRE, zoom_start=10, tiles=None, prefer_canvas=True, control_scale=True)
    # instance attributes: folium's class-level lists (CDN links) are left untouched
    m.default_js = []
    m.default_css = []
    if assets == "data-url":
        js, css = _data_urls()
        m.default_js = [("leaflet", js)]
        m.default_css = [("leaflet_css", css)]
    elif assets == "inline":
        head = f"<style>{leaflet_css()}</style>\n<script>{_script_safe(leaflet_js())}</script>"
        root = m.get_root()
        if not isinstance(root, Figure):
            msg = "A folium.Map always belongs to a branca Figure."
            raise TypeError(msg)
        root.header.add_child(Element(head), name="leaflet_inline", index=0)
    if tiles:
        folium.TileLayer(
            tiles=TILES_URL,
            attr=TILES_ATTRIBUTION,
            name="OpenStreetMap",
            max_zoom=19,
            max_native_zoom=19,
            control=False,
        ).add_to(m)
    if bounds is not None:
        south, west, north, east = bounds
        m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    return m


def _script_safe(js: str) -> str:
    return js.replace("</script", "<\\/script")


def external_urls(m: folium.Map) -> list[str]:
    """Every script or stylesheet URL the map would load that is not served by the app itself.

    Empty for maps built here. Used by tests, and as a guard before a map is shown.
    """
    urls: list[str] = []

    def walk(element: Any) -> None:
        if isinstance(element, JSCSSMixin):
            urls.extend(
                u for _, u in [*element.default_js, *element.default_css] if not u.startswith("data:")
            )
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(m)
    return list(dict.fromkeys(urls))


# ----------------------------------------------------------------------------- elements
class FeatureLayer(folium.map.Layer):
    """A GeoJSON layer drawn with Leaflet alone: circle markers for points, styled lines.

    Each feature's ``properties`` holds ``k`` (a key into `styles`, Leaflet path options), and
    optionally ``t`` (tooltip text) and ``p`` (popup: ``t`` title, ``s`` subtitle, ``r`` rows of
    [index into `labels`, value], ``n`` notes of [label, text], ``f`` 1 to add `footnote`).
    Labels are shared by the layer to keep the page small. Popups and tooltips are built in
    the browser as text nodes, so no value is ever interpreted as HTML.
    `folium.map.Layer.render` adds the layer to its parent when `show` is True, and
    LayerControl lists it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.estatePopup = window.estatePopup || function (p, labels, footnote) {
            function el(tag, text, css) {
                var e = document.createElement(tag);
                if (text !== undefined && text !== null) { e.textContent = text; }
                if (css) { e.style.cssText = css; }
                return e;
            }
            var box = el("div", null, "font:12px/1.35 sans-serif;");
            box.appendChild(el("div", p.t, "font-weight:600;font-size:13px;"));
            if (p.s) { box.appendChild(el("div", p.s, "color:#555;margin-bottom:4px;")); }
            var table = el("table");
            (p.r || []).forEach(function (r) {
                var tr = el("tr");
                tr.appendChild(el("td", labels[r[0]], "padding:1px 8px 1px 0;color:#555;"));
                tr.appendChild(el("td", r[1], "padding:1px 0;"));
                table.appendChild(tr);
            });
            box.appendChild(table);
            (p.n || []).forEach(function (n) {
                var d = el("div", null, "margin-top:4px;");
                d.appendChild(el("b", n[0] + ": "));
                d.appendChild(document.createTextNode(n[1]));
                box.appendChild(d);
            });
            if (p.f) { box.appendChild(el("div", footnote, "margin-top:4px;color:#777;")); }
            return box;
        };
        var {{ this.get_name() }}_styles = {{ this.styles|tojson }};
        var {{ this.get_name() }}_labels = {{ this.labels|tojson }};
        var {{ this.get_name() }}_footnote = {{ this.footnote|tojson }};
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
            pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, {{ this.get_name() }}_styles[feature.properties.k]);
            },
            style: function (feature) { return {{ this.get_name() }}_styles[feature.properties.k]; },
            onEachFeature: function (feature, layer) {
                var p = feature.properties;
                if (p.t) {
                    layer.bindTooltip(function () { return document.createTextNode(p.t); }, {sticky: true});
                }
                if (p.p) {
                    layer.bindPopup(function () {
                        return window.estatePopup(p.p, {{ this.get_name() }}_labels, {{ this.get_name() }}_footnote);
                    }, {maxWidth: 380});
                }
            }
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        features: list[dict[str, Any]],
        styles: Mapping[str, Mapping[str, Any]],
        *,
        name: str,
        labels: Iterable[str] = (),
        footnote: str = "",
        show: bool = True,
        control: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "FeatureLayer"
        self.data = {"type": "FeatureCollection", "features": features}
        self.styles = {str(k): dict(v) for k, v in styles.items()}
        self.labels = list(labels)
        self.footnote = footnote


class _Labels:
    """Popup row labels shared by a layer: each label is sent once, rows carry its index."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def rows(self, pairs: Iterable[tuple[str, str]]) -> list[list[Any]]:
        out: list[list[Any]] = []
        for label, value in pairs:
            if label not in self._index:
                self._index[label] = len(self.names)
                self.names.append(label)
            out.append([self._index[label], value])
        return out


class Legend(folium.MacroElement):
    """A legend box (Leaflet control) from (colour, label) rows, grouped under titles."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomright"});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "estate-legend");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, sections: Iterable[tuple[str, Iterable[tuple[str, str, str]]]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is untyped
        self._name = "Legend"
        self.html = legend_html(sections)


def legend_html(sections: Iterable[tuple[str, Iterable[tuple[str, str, str]]]]) -> str:
    """HTML for a legend: each section a title and rows of (colour, label, shape)."""
    parts = [
        '<details open style="background:rgba(255,255,255,0.92);padding:6px 9px;border-radius:4px;'
        'box-shadow:0 0 4px rgba(0,0,0,0.3);font:12px/1.4 sans-serif;max-width:260px;">'
        '<summary style="cursor:pointer;font-weight:600;">Legend</summary>'
        '<div style="max-height:260px;overflow-y:auto;">'
    ]
    for title, rows in sections:
        parts.append(f'<div style="font-weight:600;margin-top:2px;">{html.escape(title)}</div>')
        for colour, label, shape in rows:
            if shape == "line":
                swatch = (
                    f'<span style="display:inline-block;width:16px;height:0;border-top:3px solid {colour};'
                    'margin:0 6px 3px 0;vertical-align:middle;"></span>'
                )
            else:
                swatch = (
                    f'<span style="display:inline-block;width:11px;height:11px;border-radius:50%;'
                    f'background:{colour};border:1px solid #333;margin-right:6px;vertical-align:middle;">'
                    "</span>"
                )
            parts.append(f"<div>{swatch}{html.escape(label)}</div>")
    parts.append("</div></details>")
    return "".join(parts)


# ----------------------------------------------------------------------------- helpers
def _lonlat(easting: Iterable[float], northing: Iterable[float]) -> np.ndarray:
    e = pd.to_numeric(pd.Series(list(easting), dtype=object), errors="coerce").to_numpy(dtype=float)
    n = pd.to_numeric(pd.Series(list(northing), dtype=object), errors="coerce").to_numpy(dtype=float)
    if len(e) == 0:
        return np.empty((0, 2))
    points = gpd.GeoSeries(gpd.points_from_xy(e, n), crs=27700).to_crs(4326)
    return np.column_stack([points.x.to_numpy(), points.y.to_numpy()]).round(5)


def _bounds(lonlat: np.ndarray) -> tuple[float, float, float, float] | None:
    ok = np.isfinite(lonlat).all(axis=1) if len(lonlat) else np.zeros(0, dtype=bool)
    if not ok.any():
        return None
    lon, lat = lonlat[ok, 0], lonlat[ok, 1]
    return float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max())


def _point(lon: float, lat: float, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": properties,
    }


def _text(value: Any, default: str = "–") -> str:
    return default if is_blank(value) or str(value) == "" else str(value)


FIGURES: tuple[tuple[str, str, Any], ...] = (
    ("gia_m2", "Floor area (GIA)", lambda v: format_number(v, "m²")),
    ("capacity_m2", "Usable space", lambda v: format_number(v, "m²")),
    ("running_cost_gbp", "Running cost a year", format_money),
    ("market_value_gbp", "Market value", format_money),
    ("backlog_gbp", "Maintenance backlog", format_money),
    ("site_area_ha", "Site area", lambda v: format_number(v, "ha", 2)),
    ("carbon_tco2e", "Carbon a year", lambda v: format_number(v, "tCO2e")),
)


def _figure_rows(row: Mapping[str, Any], modelled: set[str]) -> list[tuple[str, str]]:
    return [
        (label + (" *" if column in modelled else ""), fmt(row[column]))
        for column, label, fmt in FIGURES
        if column in row
    ]


def main_services(estate: Estate) -> pd.Series:
    """Per building, the service that uses the most space in it today ('none' if empty)."""
    occ = estate.occupiers
    out = pd.Series("none", index=estate.buildings.index, dtype=object)
    if occ.empty:
        return out
    space = pd.to_numeric(occ["space_m2"], errors="coerce").fillna(0.0)
    biggest = occ.assign(space=space).sort_values("space", ascending=False, kind="stable")
    found = biggest.drop_duplicates("building_id").set_index("building_id")["service"]
    found = found.reindex(out.index)
    return found.where(found.notna(), out).astype(object)


def _colours_for(
    values: pd.Series, *, fixed: Mapping[str, str] | None = None
) -> tuple[pd.Series, list[tuple[str, str]]]:
    """A colour per value, and legend rows (commonest first; a long tail shares one grey)."""
    text = values.map(lambda v: _text(v, "unknown"))
    counts = text.value_counts()
    if fixed:
        order = [v for v in fixed if v in counts.index] + [v for v in counts.index if v not in fixed]
        mapping = {v: fixed.get(v, OTHER_COLOUR) for v in order}
        legend = [(mapping[v], f"{v} ({counts[v]:,})") for v in order]
    else:
        named = list(counts.index[: len(PALETTE) - 1]) if len(counts) > len(PALETTE) else list(counts.index)
        mapping = {v: PALETTE[i] for i, v in enumerate(named)}
        legend = [(mapping[v], f"{v} ({counts[v]:,})") for v in named]
        rest = [v for v in counts.index if v not in mapping]
        if rest:
            legend.append((OTHER_COLOUR, f"{len(rest)} others ({int(counts[rest].sum()):,})"))
    return text.map(lambda v: mapping.get(v, OTHER_COLOUR)), legend


def _dot(colour: str, radius: float, *, weight: float = 0.6, opacity: float = 0.85) -> dict[str, Any]:
    return {
        "radius": radius,
        "color": "#333333",
        "weight": weight,
        "fillColor": colour,
        "fillOpacity": opacity,
    }


# ----------------------------------------------------------------------------- estate map
def estate_map(
    estate: Estate,
    *,
    colour_by: str = "owner_type",
    show_zones: bool = False,
    assets: AssetMode = "data-url",
    tiles: bool = True,
) -> folium.Map:
    """The whole estate: buildings coloured by partner type, partner or main service.

    Clicking a building shows its figures (modelled ones starred) and its occupiers. Zones
    (population-weighted centroids; the tooltip gives population and IMD decile) are drawn only when
    `show_zones` is set.

    Parameters
    ----------
    estate
        The estate to draw.
    colour_by
        ``owner_type`` (partner type), ``owner`` (partner) or ``service`` (main service).
    show_zones
        Draw the zones layer.
    assets, tiles
        See `offline_map`.

    """
    if colour_by not in COLOUR_BY:
        msg = f"`colour_by` = {colour_by!r}; use one of {', '.join(COLOUR_BY)}."
        raise ValueError(msg)
    b = estate.buildings
    lonlat = _lonlat(b["easting"], b["northing"])
    services = main_services(estate)
    if colour_by == "owner_type":
        colours, legend_rows = _colours_for(b["owner_type"], fixed=OWNER_TYPE_COLOURS)
    elif colour_by == "owner":
        colours, legend_rows = _colours_for(b["owner"])
    else:
        colours, legend_rows = _colours_for(services)
    styles = {c: _dot(c, 5) for c in set(colours)}
    occ = estate.occupiers
    occupants: dict[str, list[str]] = {}
    for bid, name, service in zip(occ["building_id"], occ["name"], occ["service"], strict=True):
        occupants.setdefault(str(bid), []).append(f"{_text(name, '')} ({service})")

    labels = _Labels()
    features = []
    for (bid, row), (lon, lat), colour, service in zip(b.iterrows(), lonlat, colours, services, strict=True):
        if not (math.isfinite(lon) and math.isfinite(lat)):
            continue
        modelled = modelled_set(row.get("modelled"))
        rows = [
            ("ID", str(bid)),
            ("Partner", _text(row.get("owner"))),
            ("Partner type", _text(row.get("owner_type"))),
            ("Borough", _text(row.get("borough"))),
            ("Tenure" + (" *" if "tenure" in modelled else ""), _text(row.get("tenure"))),
            ("Main service", str(service)),
            *_figure_rows(row, modelled),
        ]
        notes = []
        if bool(row.get("protected", False)):
            notes.append(["Protected", _text(row.get("protected_reason"), "yes")])
        if bool(row.get("fixed", False)):
            notes.append(["Kept as it is", _text(row.get("fixed_reason"), "")])
        if occupants.get(str(bid)):
            notes.append(["Occupiers", "; ".join(occupants[str(bid)])])
        name = _text(row.get("name"), str(bid))
        popup: dict[str, Any] = {
            "t": name,
            "s": f"{_text(row.get('owner'), '')} · {_text(row.get('owner_type'), '')}",
            "r": labels.rows(rows),
            "n": notes,
        }
        if modelled:
            popup["f"] = 1
        features.append(
            _point(
                float(lon),
                float(lat),
                {
                    "k": colour,
                    "t": f"{name} — {_text(row.get('owner'), '')}",
                    "p": popup,
                    "g": [_text(row.get("owner_type"), ""), _text(row.get("owner"), "")],
                },
            )
        )

    m = offline_map(bounds=_bounds(lonlat), tiles=tiles, assets=assets)
    add_background(m, estate.zones.index.astype(str))
    if show_zones and len(estate.zones):  # left out otherwise: 1,702 zones would add a third to the page
        _zone_population_layer(estate.zones, show=True).add_to(m)
    FeatureLayer(
        features,
        styles,
        name=f"Buildings ({len(features):,})",
        labels=labels.names,
        footnote=MODELLED_FOOTNOTE,
    ).add_to(m)
    Legend(
        [(f"Buildings by {COLOUR_BY[colour_by]}", [(c, label, "dot") for c, label in legend_rows])]
    ).add_to(m)
    MapTools("estate_map.png").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def _zone_population_layer(zones: pd.DataFrame, *, show: bool) -> FeatureLayer:
    lonlat = _lonlat(zones["easting"], zones["northing"])
    pop = pd.to_numeric(zones["population"], errors="coerce").fillna(0.0).to_numpy()
    names = zones["name"] if "name" in zones else pd.Series("", index=zones.index)
    imd = zones["imd_decile"] if "imd_decile" in zones else pd.Series(None, index=zones.index, dtype=object)
    features = [
        _point(
            float(lon),
            float(lat),
            {
                "k": "z",
                "t": " ".join(filter(None, [str(zid), _text(name, "")]))
                + f": {p:,.0f} people"
                + ("" if is_blank(d) else f", IMD decile {int(d)}"),
            },
        )
        for zid, (lon, lat), p, name, d in zip(zones.index, lonlat, pop, names, imd, strict=True)
        if math.isfinite(lon) and math.isfinite(lat)
    ]
    styles = {"z": {"radius": 2.5, "stroke": False, "fillColor": "#636363", "fillOpacity": 0.5}}
    return FeatureLayer(features, styles, name=f"Zones ({len(features):,}, population)", show=show)


# ----------------------------------------------------------------------------- plan map
def decision_classes(buildings: pd.DataFrame) -> pd.Series:
    """``keep``, ``receive`` (kept and receives occupiers) or ``dispose``, per plan building."""
    disposed = buildings["decision"].astype(str).eq("dispose").to_numpy()
    incoming = (
        buildings["occupiers_in"] if "occupiers_in" in buildings else pd.Series(0, index=buildings.index)
    )
    receives = pd.to_numeric(incoming, errors="coerce").fillna(0).gt(0).to_numpy()
    return pd.Series(
        np.where(disposed, "dispose", np.where(receives, "receive", "keep")), index=buildings.index
    )


def access_services(zones: pd.DataFrame | None) -> list[str]:
    """Services whose reach before and after is in a zones table (``reach_<service>_before``)."""
    if zones is None:
        return []
    return [
        c[len("reach_") : -len("_before")]
        for c in zones.columns
        if c.startswith("reach_") and c.endswith("_before") and f"{c[: -len('_before')]}_after" in zones
    ]


def access_change(zones: pd.DataFrame, service: str) -> pd.Series:
    """Per zone: ``gained``, ``lost``, ``kept`` or ``never`` reach of `service`."""
    before = zones[f"reach_{service}_before"].astype(bool).to_numpy()
    after = zones[f"reach_{service}_after"].astype(bool).to_numpy()
    out = np.select([before & after, ~before & after, before & ~after], ["kept", "gained", "lost"], "never")
    return pd.Series(out, index=zones.index)


def plan_map(
    buildings: pd.DataFrame,
    occupiers: pd.DataFrame,
    zones: pd.DataFrame | None = None,
    *,
    service: str | None = None,
    assets: AssetMode = "data-url",
    tiles: bool = True,
) -> folium.Map:
    """A plan, before and after: decisions coloured, moves as lines, zones shaded by access.

    Works from a plan's tables alone (as the CLI writes them and the scenario store keeps
    them), so a saved plan is drawn without solving again.

    Parameters
    ----------
    buildings
        `Plan.buildings`: ``building_id``, ``easting``, ``northing``, ``decision``,
        ``occupiers_in``, ``reason`` and the money columns.
    occupiers
        `Plan.occupiers`: ``from_building_id``, ``to_building_id``, ``move_km``, ...
    zones
        `optimiser.report.files.zones_table` (``reach_<service>_before/after``), or None.
    service
        Shade zones by their change in access to this service (None: no zones).
    assets, tiles
        See `offline_map`.

    Raises
    ------
    ValueError
        If `zones` has no access figures for `service`.

    """
    b = buildings.reset_index(drop=True)
    lonlat = _lonlat(b["easting"], b["northing"])
    classes = decision_classes(b)
    where = {
        str(bid): (float(lon), float(lat)) for bid, (lon, lat) in zip(b["building_id"], lonlat, strict=True)
    }
    styles: dict[str, dict[str, Any]] = {
        "keep": _dot(DECISION_COLOURS["keep"], 4.5, opacity=0.8),
        "receive": _dot(DECISION_COLOURS["receive"], 6.5, weight=0.8, opacity=0.95),
        "dispose": _dot(DECISION_COLOURS["dispose"], 6.5, weight=0.8, opacity=0.95),
        "move": {"color": MOVE_COLOUR, "weight": 2.5, "opacity": 0.85},
    }
    labels = _Labels()
    building_features = []
    order = np.argsort(classes.map({"keep": 0, "receive": 1, "dispose": 2}).to_numpy(), kind="stable")
    for i in order:
        row = b.iloc[i]
        lon, lat = lonlat[i]
        if not (math.isfinite(lon) and math.isfinite(lat)):
            continue
        kind = str(classes.iloc[i])
        modelled = modelled_set(row.get("modelled"))
        route = _text(row.get("route"), "")
        rows = [
            ("ID", str(row["building_id"])),
            ("Partner", _text(row.get("owner"))),
            ("Decision", DECISION_LABELS[kind] + (f" ({route})" if kind == "dispose" and route else "")),
            *_figure_rows(row, modelled),
        ]
        if kind == "dispose":
            rows.append(
                (
                    "Receipt" + (" *" if "market_value_gbp" in modelled else ""),
                    format_money(row.get("receipt_gbp")),
                )
            )
            rows.append(
                (
                    "Saving a year" + (" *" if "running_cost_gbp" in modelled else ""),
                    format_money(row.get("annual_saving_gbp")),
                )
            )
        moved_in, moved_out = int(row.get("occupiers_in", 0) or 0), int(row.get("occupiers_out", 0) or 0)
        if moved_in or moved_out:
            rows.append(("Occupiers in / out", f"{moved_in} / {moved_out}"))
        name = _text(row.get("name"), str(row["building_id"]))
        popup: dict[str, Any] = {
            "t": name,
            "s": f"{_text(row.get('owner'), '')} · {DECISION_LABELS[kind]}",
            "r": labels.rows(rows),
            "n": [["Why", _text(row.get("reason"), "")]],
        }
        price = _text(row.get("price_basis"), "")
        if price:  # the price of this decision, when the plan was priced (optimiser.prices)
            popup["n"].append(["Price of this decision", price])
        if modelled:
            popup["f"] = 1
        building_features.append(
            _point(
                float(lon),
                float(lat),
                {
                    "k": kind,
                    "t": f"{name}: {DECISION_LABELS[kind]}",
                    "p": popup,
                    "g": [_text(row.get("owner_type"), ""), _text(row.get("owner"), "")],
                },
            )
        )

    same = occupiers["from_building_id"].astype(str) == occupiers["to_building_id"].astype(str)
    move_features = []
    for _, part in occupiers[~same].iterrows():
        a, h = where.get(str(part["from_building_id"])), where.get(str(part["to_building_id"]))
        if a is None or h is None:
            continue
        share = float(part.get("share", 1.0) or 1.0)
        label = (
            f"{_text(part.get('name'), str(part.get('occupier_id', '')))} ({_text(part.get('service'), '')}): "
            f"{part['from_building_id']} → {part['to_building_id']}, {format_number(part.get('move_km'), 'km', 1)}"
            + (f", {share:.0%} of it" if share < 0.999 else "")
        )
        move_features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [[list(a), list(h)], arrow_head(a, h)],
                },
                "properties": {"k": "move", "t": label},
            }
        )

    m = offline_map(bounds=_bounds(lonlat), tiles=tiles, assets=assets)
    legend: list[tuple[str, list[tuple[str, str, str]]]] = []
    if zones is not None and "zone_id" in zones:
        add_background(m, zones["zone_id"].astype(str))
    if zones is not None and service is not None and len(zones):
        if service not in access_services(zones):
            msg = (
                f"No access figures for service {service!r}; the plan has "
                f"{', '.join(access_services(zones)) or 'none'}."
            )
            raise ValueError(msg)
        areas = add_distance_layers(m, zones, b, occupiers, service) if "service" in occupiers else None
        legend.append(areas if areas is not None else _add_access_layer(m, zones, service))
    if move_features:
        FeatureLayer(move_features, {"move": styles["move"]}, name=f"Moves ({len(move_features):,})").add_to(
            m
        )
    FeatureLayer(
        building_features,
        styles,
        name=f"Buildings ({len(building_features):,})",
        labels=labels.names,
        footnote=MODELLED_FOOTNOTE,
    ).add_to(m)
    counts = classes.value_counts()
    legend.insert(
        0,
        (
            "Buildings",
            [
                *(
                    (DECISION_COLOURS[k], f"{DECISION_LABELS[k]} ({int(counts.get(k, 0)):,})", "dot")
                    for k in DECISION_COLOURS
                ),
                (MOVE_COLOUR, f"occupier moves ({len(move_features):,})", "line"),
            ],
        ),
    )
    Legend(legend).add_to(m)
    MapTools("plan_map.png").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def _add_access_layer(
    m: folium.Map, zones: pd.DataFrame, service: str
) -> tuple[str, list[tuple[str, str, str]]]:
    change = access_change(zones, service)
    pop = pd.to_numeric(zones["population"], errors="coerce").fillna(0.0)
    lonlat = _lonlat(zones["easting"], zones["northing"])
    ids = zones["zone_id"] if "zone_id" in zones else pd.Series(zones.index, index=zones.index)
    features = [
        _point(
            float(lon),
            float(lat),
            {"k": kind, "t": f"{zid}: {p:,.0f} people; {service} {ACCESS_LABELS[kind]}"},
        )
        for zid, (lon, lat), kind, p in zip(ids, lonlat, change, pop, strict=True)
        if math.isfinite(lon) and math.isfinite(lat)
    ]
    styles = {
        k: {
            "radius": 3.5 if k in ("gained", "lost") else 2.5,
            "stroke": False,
            "fillColor": c,
            "fillOpacity": 0.85 if k in ("gained", "lost") else 0.55,
        }
        for k, c in ACCESS_COLOURS.items()
    }
    FeatureLayer(features, styles, name=f"Zones: {service} access").add_to(m)
    people = pop.groupby(change.to_numpy()).sum()
    counts = change.value_counts()
    rows = [
        (
            ACCESS_COLOURS[k],
            f"{ACCESS_LABELS[k]}: {int(counts.get(k, 0)):,} zones, {float(people.get(k, 0.0)):,.0f} people",
            "dot",
        )
        for k in ACCESS_COLOURS
    ]
    return (f"Zones: {service} access", rows)


# ----------------------------------------------------------------------------- standalone
def standalone_parts(m: folium.Map) -> dict[str, str]:
    """The map as ``head``, ``body`` and ``script`` HTML fragments for embedding in a page.

    Build the map with ``assets="inline"`` so that the head carries Leaflet itself.
    """
    root = m.get_root()
    if not isinstance(root, Figure):
        msg = "The map must belong to a branca Figure (a folium.Map always does)."
        raise TypeError(msg)
    root.render()
    return {
        "head": root.header.render(),
        "body": root.html.render(),
        "script": root.script.render(),
    }


def standalone_html(m: folium.Map) -> str:
    """A whole HTML page for the map, with Leaflet inlined: it needs no network but tiles."""
    if external_urls(m):
        msg = f"The map links outside resources: {', '.join(external_urls(m))}."
        raise ValueError(msg)
    return m.get_root().render()


# ----------------------------------------------------------------------------- GIS layers
BOUNDARIES_FILE = "boundaries.gpkg"  # in estate.io.DATA_DIR: scripts/build_boundaries.py
BOROUGH_STYLE = {"color": "#555555", "weight": 1.6, "opacity": 0.9, "fill": False, "interactive": False}
LSOA_STYLE = {"color": "#9e9e9e", "weight": 0.4, "opacity": 0.7, "fill": False, "interactive": False}
DISTANCE_BINS_KM = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0)  # straight-line km to the nearest site
DISTANCE_COLOURS = ("#f7fcf5", "#c7e9c0", "#a1d99b", "#74c476", "#fdae6b", "#f16913", "#a63603")
LSOA_OUTLINES_MAX = 500  # more zones than this: borough outlines only on the estate map
AREA_TOLERANCE_DEG = 0.0005  # zone areas drawn simplified to about 50 m: a quick page for 1,702 zones
CHANGE_BINS_KM = (-1.0, -0.25, -0.01, 0.01, 0.25, 1.0)  # after minus before
CHANGE_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#f0f0f0", "#fee08b", "#fc8d59", "#d73027")


@functools.cache
def _boundaries() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """The bundled LSOA and borough polygons in WGS84, or None if the file is missing."""
    from estate.io import DATA_DIR

    path = DATA_DIR / BOUNDARIES_FILE
    if not path.exists():
        return None
    lsoa = gpd.read_file(path, layer="lsoa").to_crs(4326)
    lsoa["geometry"] = lsoa.geometry.simplify(AREA_TOLERANCE_DEG / 10, preserve_topology=True)
    boroughs = gpd.read_file(path, layer="boroughs").to_crs(4326)
    return lsoa, boroughs


def _rounded(geometry: Any) -> dict[str, Any]:
    """A GeoJSON geometry with coordinates to 5 decimals (about a metre): a smaller page."""
    import shapely

    mapping: dict[str, Any] = shapely.geometry.mapping(shapely.set_precision(geometry, 1e-5))
    return mapping


def boundary_layers(zone_ids: Iterable[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The LSOA polygons of `zone_ids` and the outlines of the boroughs they lie in (WGS84).

    Empty frames when the bundled boundaries do not cover the zones (an uploaded estate
    elsewhere): the maps then draw zones as points, as before.
    """
    found = _boundaries()
    if found is None:
        empty = gpd.GeoDataFrame({"zone_id": [], "borough": []}, geometry=[], crs=4326)
        return empty, empty
    lsoa, boroughs = found
    ids = set(map(str, zone_ids))
    mine = lsoa[lsoa["zone_id"].isin(ids)]
    return mine, boroughs[boroughs["borough"].isin(set(mine["borough"]))]


def add_background(m: folium.Map, zone_ids: Iterable[str]) -> bool:
    """Borough outlines and LSOA boundaries under everything: a map readable with no tiles."""
    lsoa, boroughs = boundary_layers(zone_ids)
    if boroughs.empty:
        return False
    if len(lsoa) > LSOA_OUTLINES_MAX:  # Greater Manchester's 1,702 would double the page: boroughs only
        lsoa = lsoa.iloc[0:0]
    lines = [
        {"type": "Feature", "geometry": _rounded(g.boundary), "properties": {"k": "lsoa"}}
        for g in lsoa.geometry
    ]
    if lines:
        FeatureLayer(lines, {"lsoa": LSOA_STYLE}, name="LSOA boundaries", show=False).add_to(m)
    outlines = [
        {"type": "Feature", "geometry": _rounded(g.boundary), "properties": {"k": "borough"}}
        for g in boroughs.geometry
    ]
    FeatureLayer(outlines, {"borough": BOROUGH_STYLE}, name="Borough boundaries").add_to(m)
    return True


def service_sites(buildings: pd.DataFrame, occupiers: pd.DataFrame, service: str) -> dict[str, np.ndarray]:
    """Easting/northing of the buildings that host `service`, before and after the plan."""
    xy = buildings.set_index(buildings["building_id"].astype(str))[["easting", "northing"]].apply(
        pd.to_numeric, errors="coerce"
    )
    mine = occupiers[occupiers["service"].astype(str) == service]
    out = {}
    for label, column in (("before", "from_building_id"), ("after", "to_building_id")):
        ids = sorted(set(mine[column].astype(str)) & set(xy.index))
        out[label] = xy.loc[ids].dropna().to_numpy(dtype=float)
    return out


def nearest_km(zones: pd.DataFrame, sites: np.ndarray) -> np.ndarray:
    """Straight-line km from each zone's centroid to the nearest of `sites` (NaN if none)."""
    zxy = zones[["easting", "northing"]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if len(sites) == 0:
        return np.full(len(zxy), np.nan)
    best = np.full(len(zxy), np.inf)
    for start in range(0, len(sites), 256):  # in blocks: zones x sites never held whole
        block = sites[start : start + 256]
        d = np.hypot(zxy[:, None, 0] - block[None, :, 0], zxy[:, None, 1] - block[None, :, 1])
        best = np.minimum(best, d.min(axis=1))
    return np.asarray(best / 1000.0)


def _binned(values: np.ndarray, bins: tuple[float, ...]) -> np.ndarray:
    return np.asarray(np.digitize(np.nan_to_num(values, nan=np.inf), bins))


def _bin_labels(bins: tuple[float, ...], unit: str, *, signed: bool = False) -> list[str]:
    def fmt(v: float) -> str:
        return f"{v:+g}" if signed else f"{v:g}"

    edges = [f"under {fmt(bins[0])} {unit}"]
    edges += [f"{fmt(lo)} to {fmt(hi)} {unit}" for lo, hi in itertools.pairwise(bins)]
    edges.append(f"{fmt(bins[-1])} {unit} or more")
    return edges


def add_distance_layers(
    m: folium.Map, zones: pd.DataFrame, buildings: pd.DataFrame, occupiers: pd.DataFrame, service: str
) -> tuple[str, list[tuple[str, str, str]]] | None:
    """LSOAs shaded by straight-line km to the nearest `service` site: before, after, change.

    A measure under every access rule (``keep_current`` included): it moves whenever a site
    of the service opens or closes, not only when a zone crosses a reach threshold. One layer
    of polygons with three shadings, After shown first; its Before / After / Change buttons
    switch between them (the before/after toggle). Returns the legend section, or None when
    the zones have no bundled polygons.
    """
    lsoa, _ = boundary_layers(zones["zone_id"].astype(str))
    if lsoa.empty:
        return None
    sites = service_sites(buildings, occupiers, service)
    before = nearest_km(zones, sites["before"])
    after = nearest_km(zones, sites["after"])
    change = after - before
    shape = dict(zip(lsoa["zone_id"], lsoa.geometry, strict=True))
    pop = pd.to_numeric(zones["population"], errors="coerce").fillna(0).to_numpy()
    names = (
        zones["name"].astype(str).to_numpy() if "name" in zones else zones["zone_id"].astype(str).to_numpy()
    )
    layers = (
        ("before", before, DISTANCE_BINS_KM, DISTANCE_COLOURS),
        ("after", after, DISTANCE_BINS_KM, DISTANCE_COLOURS),
        ("change", change, CHANGE_BINS_KM, CHANGE_COLOURS),
    )
    bins_of = {label: _binned(values, bins) for label, values, bins, _ in layers}
    features = []
    for i, zid in enumerate(zones["zone_id"].astype(str)):
        geometry = shape.get(zid)
        if geometry is None:
            continue
        tip = (
            f"{names[i]} ({pop[i]:,.0f} people): nearest {service} {before[i]:.1f} km before, "
            f"{after[i]:.1f} km after ({change[i]:+.1f} km)"
        )
        kinds = [int(bins_of[label][i]) for label, *_ in layers]
        features.append(
            {
                "type": "Feature",
                "geometry": _rounded(geometry.simplify(AREA_TOLERANCE_DEG, preserve_topology=True)),
                "properties": {"k": kinds, "t": tip},
            }
        )
    styles = {
        label: [{"stroke": False, "fillColor": c, "fillOpacity": 0.6} for c in colours]
        for label, _, _, colours in layers
    }
    AreaLayer(features, styles, name=f"Zones: km to nearest {service}").add_to(m)
    rows = [(c, t, "dot") for c, t in zip(DISTANCE_COLOURS, _bin_labels(DISTANCE_BINS_KM, "km"), strict=True)]
    rows += [
        (c, f"change {t}", "dot")
        for c, t in zip(CHANGE_COLOURS, _bin_labels(CHANGE_BINS_KM, "km", signed=True), strict=True)
    ]
    return (f"Zones: straight-line km to the nearest {service}", rows)


class AreaLayer(folium.map.Layer):
    """Zone polygons with three shadings (before, after, change) and buttons to switch them.

    Each feature's ``properties.k`` is [before, after, change], indices into `styles`' lists;
    ``t`` is the tooltip. The geometry is sent once, whichever shading is shown.
    """

    MODES = ("before", "after", "change")
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_styles = {{ this.styles|tojson }};
        var {{ this.get_name() }}_mode = 1;
        var {{ this.get_name() }} = L.geoJSON({{ this.data|tojson }}, {
            style: function (f) {
                var mode = ["before", "after", "change"][{{ this.get_name() }}_mode];
                return {{ this.get_name() }}_styles[mode][f.properties.k[{{ this.get_name() }}_mode]];
            },
            onEachFeature: function (f, layer) {
                layer.bindTooltip(function () { return document.createTextNode(f.properties.t); }, {sticky: true});
            }
        });
        (function (map, layer) {
            var pick = L.control({position: "topright"});
            pick.onAdd = function () {
                var div = L.DomUtil.create("div", "estate-toggle leaflet-bar");
                div.style.cssText = "background:#fff;padding:3px;font:12px sans-serif;";
                ["Before", "After", "Change"].forEach(function (label, i) {
                    var b = L.DomUtil.create("button", "", div);
                    b.textContent = label;
                    b.title = "Shade the zones by the distance " + label.toLowerCase();
                    b.style.cssText = "margin:1px;" + (i === 1 ? "font-weight:700;" : "");
                    L.DomEvent.on(b, "click", function () {
                        {{ this.get_name() }}_mode = i;
                        layer.setStyle(layer.options.style);
                        div.querySelectorAll("button").forEach(function (o, j) {
                            o.style.fontWeight = j === i ? "700" : "400";
                        });
                    });
                });
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            pick.addTo(map);
        })({{ this._parent.get_name() }}, {{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, features: list[dict[str, Any]], styles: Mapping[str, list[dict[str, Any]]], *, name: str
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "AreaLayer"
        self.data = {"type": "FeatureCollection", "features": features}
        self.styles = {k: list(v) for k, v in styles.items()}


class MapTools(folium.MacroElement):
    """Find a building by name (zooms to it and opens its popup) and save the map as PNG.

    Leaflet alone, no plugin: the search box lists the names of every feature with a popup
    title in the map's layers; the PNG is the map's vector canvas (``prefer_canvas``) on
    white, so it works offline and is never blocked by tiles from another host.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            var tools = L.control({position: "topleft"});
            tools.onAdd = function () {
                var div = L.DomUtil.create("div", "estate-tools leaflet-bar");
                div.style.cssText = "background:#fff;padding:4px;font:12px sans-serif;";
                var input = L.DomUtil.create("input", "", div);
                input.type = "search";
                input.placeholder = "Find a building by name";
                input.setAttribute("list", "{{ this.get_name() }}_names");
                input.style.cssText = "width:190px;";
                var list = L.DomUtil.create("datalist", "", div);
                list.id = "{{ this.get_name() }}_names";
                var pick = L.DomUtil.create("select", "", div);
                pick.title = "Show only one partner type or partner";
                pick.style.cssText = "margin-left:4px;max-width:170px;";
                var save = L.DomUtil.create("button", "", div);
                save.textContent = "PNG";
                save.title = "Download the map as a PNG image";
                save.style.cssText = "margin-left:4px;";
                var found = {};
                map.eachLayer(function (layer) {
                    var p = layer.feature && layer.feature.properties && layer.feature.properties.p;
                    if (p && p.t && !(p.t in found)) { found[p.t] = layer; }
                });
                var groups = {};
                map.eachLayer(function (layer) {
                    var g = layer.feature && layer.feature.properties && layer.feature.properties.g;
                    if (g) { groups["type: " + g[0]] = 1; groups["partner: " + g[1]] = 1; }
                });
                ["All partners"].concat(Object.keys(groups).sort()).forEach(function (name) {
                    var o = document.createElement("option");
                    o.value = name; o.textContent = name;
                    pick.appendChild(o);
                });
                L.DomEvent.on(pick, "change", function () {
                    var want = pick.value;
                    map.eachLayer(function (layer) {
                        var g = layer.feature && layer.feature.properties && layer.feature.properties.g;
                        if (!g || !layer.setStyle) { return; }
                        if (layer._estateStyle === undefined) {
                            layer._estateStyle = {opacity: layer.options.opacity, fillOpacity: layer.options.fillOpacity};
                        }
                        var show = want === "All partners" || want === "type: " + g[0] || want === "partner: " + g[1];
                        layer.setStyle(show ? layer._estateStyle : {opacity: 0, fillOpacity: 0});
                        if (show) { layer.getElement && layer.bringToFront(); }
                    });
                });
                if (!Object.keys(groups).length) { pick.style.display = "none"; }
                Object.keys(found).sort().forEach(function (name) {
                    var o = document.createElement("option");
                    o.value = name;
                    list.appendChild(o);
                });
                function go() {
                    var layer = found[input.value];
                    if (!layer) { return; }
                    map.setView(layer.getLatLng(), Math.max(map.getZoom(), 15));
                    layer.openPopup();
                }
                L.DomEvent.on(input, "change", go);
                L.DomEvent.on(input, "keydown", function (e) { if (e.key === "Enter") { go(); } });
                L.DomEvent.on(save, "click", function () {
                    var size = map.getSize();
                    var out = document.createElement("canvas");
                    out.width = size.x; out.height = size.y;
                    var ctx = out.getContext("2d");
                    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, size.x, size.y);
                    var origin = map.getContainer().getBoundingClientRect();
                    map.getContainer().querySelectorAll("canvas").forEach(function (c) {
                        var r = c.getBoundingClientRect();
                        ctx.drawImage(c, r.left - origin.left, r.top - origin.top, r.width, r.height);
                    });
                    var a = document.createElement("a");
                    a.download = {{ this.file_name|tojson }};
                    a.href = out.toDataURL("image/png");
                    document.body.appendChild(a); a.click(); a.remove();
                });
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            tools.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, file_name: str = "map.png") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement is untyped
        self._name = "MapTools"
        self.file_name = file_name


def arrow_head(a: tuple[float, float], h: tuple[float, float], *, size: float = 0.25) -> list[list[float]]:
    """A 'V' at `h` pointing from `a` to `h` (lon/lat), `size` of the line's length, at most ~300 m."""
    ax, ay = a
    hx, hy = h
    scale = math.cos(math.radians(hy))  # a degree of longitude is shorter than one of latitude
    dx, dy = (hx - ax) * scale, hy - ay
    length = math.hypot(dx, dy)
    if length == 0:
        return [[hx, hy]]
    arm = min(size * length, 0.0027)
    ux, uy = dx / length, dy / length
    points = []
    for turn in (0.45, -0.45):  # about 26 degrees either side of the line
        cx = -ux * math.cos(turn) + uy * math.sin(turn)
        cy = -ux * math.sin(turn) - uy * math.cos(turn)
        points.append([hx + arm * cx / scale, hy + arm * cy])
    return [points[0], [hx, hy], points[1]]

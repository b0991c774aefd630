"""One source of truth for the estate tables: column names, types, units, defaults and limits.

Every reader, validator, writer and the bundled-data build script take their column lists
from here. Money is in pounds (``_gbp``) at the edges; the optimiser converts to £k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ID_PATTERN = r"[A-Za-z0-9_]+"  # PuLP rewrites other characters to '_', so IDs could collide
CRS = "EPSG:27700"  # British National Grid: all geometry inside the package
CRS_LONLAT = "EPSG:4326"

OWNER_TYPES = ("council", "nhs", "police", "fire", "dwp", "other")
TENURES = ("freehold", "leasehold")
SPACE_TYPES = ("office", "public_counter", "clinical", "library", "operational", "community")
ACCESS_RULES = ("keep_current", "min_share", "max_mean_increase")
LIST_SEPARATOR = ";"  # space_types and modelled are ';'-separated lists in files

# Largest accepted values: each is far above any real figure, so a value beyond it is a typing
# or unit error, and every figure the optimiser multiplies stays finite (see docs/registers.md).
MAX_GBP = 1e12  # £1 trillion: about the UK government's whole annual spending
MAX_AREA_M2 = 1e8  # 100 km2: about fifty times the floor area of the largest building on Earth
MAX_SITE_HA = 1e4  # 100 km2 of land
MAX_POPULATION = 1e7  # more people than any UK city (London: about 9 million)
MAX_CARBON_T = 1e6  # tCO2e a year: fifty times a large acute hospital
MAX_KM = 1500.0  # further than Land's End to John o' Groats by road (about 1,400 km)
MAX_MINUTES = 1440.0  # a day
WHY_GBP = "£1 trillion (about the UK government's annual spending) is the most accepted; check the units"
WHY_AREA = "100 km2 (1e8 m2) is the most accepted for a floor area; check the units (m2, not mm2)"
WHY_SITE = "10,000 ha (100 km2) is the most accepted for a site; check the units (hectares, not m2)"
WHY_POPULATION = "10 million (more than any UK city) is the most accepted for one zone"
WHY_CARBON = "1 million tCO2e a year is the most accepted for one building; check the units (tonnes)"
WHY_KM = "1,500 km (the length of Great Britain by road) is the most accepted; check the units (km)"
WHY_MINUTES = "1,440 minutes (a day) is the most accepted"

Kind = Literal["id", "text", "number", "integer", "bool", "list", "choice"]


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    Parameters
    ----------
    name
        Column name after mapping.
    kind
        How the raw value is parsed and checked.
    required
        A table without this column is refused; a blank cell rejects the row.
    minimum
        Smallest allowed value for numbers (inclusive).
    maximum
        Largest allowed value for numbers (inclusive). Every number column has one, so that
        no accepted value can overflow the optimiser's sums.
    maximum_reason
        Why the maximum is what it is, quoted in the message for a larger value.
    choices
        Allowed values for ``kind="choice"`` and the members of ``kind="list"``.
    default
        Value used when the column is absent or the cell blank; None leaves it unknown.
    unit
        Unit, shown in the app and in documentation.
    needed_to_optimise
        If unknown, the building cannot be optimised and is kept as it is (fixed).
    description
        One line for documentation and the app.

    """

    name: str
    kind: Kind
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    maximum_reason: str = ""
    choices: tuple[str, ...] = ()
    default: object = None
    unit: str = ""
    needed_to_optimise: bool = False
    description: str = ""


BUILDING_COLUMNS: tuple[Column, ...] = (
    Column("building_id", "id", required=True, description="Unique ID, A-Z a-z 0-9 _ only"),
    Column("name", "text", default="", description="Site name"),
    Column("owner", "text", required=True, description="Partner that owns or leases the site"),
    Column("owner_type", "choice", choices=OWNER_TYPES, default="other", description="Kind of partner"),
    Column("borough", "text", default="", description="Local authority district the site is in"),
    Column(
        "tenure",
        "choice",
        choices=TENURES,
        default="freehold",
        description="Freehold, or leasehold (then lease_end_year matters)",
    ),
    Column(
        "lease_end_year",
        "integer",
        minimum=1900,
        maximum=2300,
        unit="year",
        description="Year a leasehold ends",
    ),
    Column(
        "break_year",
        "integer",
        minimum=1900,
        maximum=2300,
        unit="year",
        description="Earliest lease break, if any",
    ),
    Column(
        "gia_m2",
        "number",
        minimum=0,
        maximum=MAX_AREA_M2,
        maximum_reason=WHY_AREA,
        unit="m2",
        description="Gross internal area",
    ),
    Column(
        "capacity_m2",
        "number",
        minimum=0,
        maximum=MAX_AREA_M2,
        maximum_reason=WHY_AREA,
        unit="m2",
        needed_to_optimise=True,
        description="Usable space for occupiers",
    ),
    Column(
        "space_types",
        "list",
        choices=SPACE_TYPES,
        default=(),
        description="Kinds of space the site can offer, ';'-separated",
    ),
    Column(
        "running_cost_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        unit="£/year",
        needed_to_optimise=True,
        description="Annual running cost (rent + rates + energy + FM)",
    ),
    Column(
        "rent_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        unit="£/year",
        description="Annual rent",
    ),
    Column(
        "rates_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        unit="£/year",
        description="Annual business rates",
    ),
    Column(
        "energy_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        unit="£/year",
        description="Annual energy cost",
    ),
    Column(
        "fm_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        unit="£/year",
        description="Annual facilities management and maintenance",
    ),
    Column(
        "backlog_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        default=0.0,
        unit="£",
        description="Maintenance backlog, avoided by disposing",
    ),
    Column(
        "market_value_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        needed_to_optimise=True,
        unit="£",
        description="Open-market value (receipt on sale)",
    ),
    Column(
        "disposal_cost_gbp",
        "number",
        minimum=0,
        maximum=MAX_GBP,
        maximum_reason=WHY_GBP,
        unit="£",
        description="Cost of selling (fees, clearance); default a share of value",
    ),
    Column(
        "site_area_ha",
        "number",
        minimum=0,
        maximum=MAX_SITE_HA,
        maximum_reason=WHY_SITE,
        unit="ha",
        description="Land area of the site",
    ),
    Column(
        "carbon_tco2e",
        "number",
        minimum=0,
        maximum=MAX_CARBON_T,
        maximum_reason=WHY_CARBON,
        unit="tCO2e/year",
        description="Annual operational carbon",
    ),
    Column(
        "protected",
        "bool",
        default=False,
        description="Must stay (acute hospital, listed, operational fire station...)",
    ),
    Column("protected_reason", "text", default="", description="Why it must stay"),
    Column(
        "modelled",
        "list",
        default=(),
        description="Columns whose values were modelled, not measured, ';'-separated",
    ),
    Column("data_source", "text", default="", description="Where the location came from"),
)

OCCUPIER_COLUMNS: tuple[Column, ...] = (
    Column("occupier_id", "id", required=True, description="Unique ID, A-Z a-z 0-9 _ only"),
    Column("name", "text", default="", description="Team or service point name"),
    Column("partner", "text", required=True, description="Partner that runs the service"),
    Column(
        "service",
        "text",
        required=True,
        description="Service, e.g. library, gp_practice, jobcentre, customer_service",
    ),
    Column("building_id", "id", required=True, description="Building it occupies today"),
    Column(
        "space_m2",
        "number",
        required=True,
        minimum=0,
        maximum=MAX_AREA_M2,
        maximum_reason=WHY_AREA,
        unit="m2",
        description="Space it needs",
    ),
    Column("space_type", "choice", required=True, choices=SPACE_TYPES, description="Kind of space it needs"),
    Column("public_facing", "bool", default=False, description="Residents visit it (access standards apply)"),
    Column("movable", "bool", default=True, description="May be relocated"),
    Column("splittable", "bool", default=False, description="May be split across sites"),
    Column(
        "max_move_km",
        "number",
        minimum=0,
        maximum=MAX_KM,
        maximum_reason=WHY_KM,
        unit="km",
        description="Furthest it may move; default from the scenario",
    ),
    Column("modelled", "list", default=(), description="Columns that were modelled"),
)

ZONE_COLUMNS: tuple[Column, ...] = (
    Column("zone_id", "id", required=True, description="LSOA 2021 code"),
    Column("name", "text", default="", description="LSOA name"),
    Column("borough", "text", default="", description="Local authority district"),
    Column(
        "population",
        "number",
        required=True,
        minimum=0,
        maximum=MAX_POPULATION,
        maximum_reason=WHY_POPULATION,
        unit="people",
        description="Census 2021 usual residents",
    ),
    Column("imd_decile", "integer", minimum=1, maximum=10, description="IMD 2019 decile (1 = most deprived)"),
)

ACCESS_COLUMNS: tuple[Column, ...] = (
    Column("service", "text", required=True, description="Public-facing service"),
    Column(
        "reach_km",
        "number",
        minimum=0,
        maximum=MAX_KM,
        maximum_reason=WHY_KM,
        unit="km",
        description="Road distance (straight line x detour factor) that counts as reach",
    ),
    Column(
        "reach_min",
        "number",
        minimum=0,
        maximum=MAX_MINUTES,
        maximum_reason=WHY_MINUTES,
        unit="min",
        description="Travel time that counts as reach (instead of reach_km)",
    ),
    Column(
        "rule",
        "choice",
        required=True,
        choices=ACCESS_RULES,
        description="keep_current, min_share or max_mean_increase",
    ),
    Column(
        "min_share",
        "number",
        minimum=0,
        maximum=1,
        description="Share of population within reach, for rule min_share",
    ),
    Column(
        "max_mean_increase_km",
        "number",
        minimum=0,
        maximum=MAX_KM,
        maximum_reason=WHY_KM,
        unit="km",
        description="Cap on the rise in population-weighted mean distance",
    ),
    Column(
        "protect_deprived_deciles",
        "integer",
        minimum=0,
        maximum=10,
        default=0,
        description="Zones in IMD deciles 1..N never lose reach (0 = off)",
    ),
)

COMPATIBILITY_COLUMNS: tuple[Column, ...] = (
    Column("service", "text", required=True, description="Service that moves"),
    Column(
        "host_service", "text", required=True, description="Service already in the building that it may join"
    ),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "buildings": BUILDING_COLUMNS,
    "occupiers": OCCUPIER_COLUMNS,
    "zones": ZONE_COLUMNS,
    "access": ACCESS_COLUMNS,
    "compatibility": COMPATIBILITY_COLUMNS,
}
TABLE_NAMES = tuple(TABLES)  # the input tables, in the order they are read, checked and listed
ID_COLUMN = {
    "buildings": "building_id",
    "occupiers": "occupier_id",
    "zones": "zone_id",
    "access": "service",
    "compatibility": "service",
}
UNIQUE_KEY = {
    "buildings": ("building_id",),
    "occupiers": ("occupier_id",),
    "zones": ("zone_id",),
    "access": ("service",),
    "compatibility": ("service", "host_service"),
}
SPATIAL_TABLES = ("buildings", "zones")


def column(table: str, name: str) -> Column:
    """Return the `Column` called `name` in `table`."""
    for col in TABLES[table]:
        if col.name == name:
            return col
    msg = f"No column {name!r} in table {table!r}."
    raise KeyError(msg)


def columns_needed_to_optimise() -> tuple[str, ...]:
    """Building columns that must be known for a building to be optimised."""
    return tuple(c.name for c in BUILDING_COLUMNS if c.needed_to_optimise)

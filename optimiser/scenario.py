"""Scenario: every assumption and constraint an analyst can set, checked on creation.

A scenario is a frozen dataclass, so it can key caches and be compared. It is written to and
read from TOML (see ``docs/scenario.md`` for every key and its default).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from estate.schema import ACCESS_RULES, ID_PATTERN
from optimiser.errors import ScenarioError

SOLVERS = ("highs", "cbc")

# TOML section of every Scenario field (the file groups keys; the dataclass is flat)
SECTIONS: dict[str, tuple[str, ...]] = {
    "appraisal": ("years", "discount_rate", "start_year"),
    "costs": (
        "move_cost_gbp_per_m2",
        "disposal_cost_share",
        "cat_discount",
        "cat_services",
        "lease_exit_share",
        "include_backlog",
    ),
    "moves": ("max_move_km", "allow_moves"),
    "outcomes": ("homes_per_ha", "housing_share", "jobs_per_ha"),
    "limits": ("capital_budget_gbp", "receipts_target_gbp", "max_disposals", "carbon_cap_tco2e"),
    "locks": ("keep", "dispose"),
    "solver": ("solver", "time_limit_s", "mip_gap", "warm_start", "threads"),
}


def pct(share: float | None) -> str:
    """0.95 -> '95%', 0.999 -> '99.9%'."""
    value = 100 * (share or 0.0)
    return f"{value:.0f}%" if abs(value - round(value)) < 1e-9 else f"{value:.1f}%"


@dataclass(frozen=True)
class AccessStandard:
    """The access a public-facing service must keep.

    Parameters
    ----------
    service
        Service name, as in the occupiers table.
    reach_km
        Road km (straight line x detour factor) that counts as within reach.
    reach_min
        Minutes that count as within reach, instead of `reach_km`.
    rule
        ``keep_current``: no zone within reach today loses it. ``min_share``: at least
        `min_share` of the population within reach.
    min_share
        Share (0-1) for ``min_share``.
    protect_deprived_deciles
        Zones in IMD deciles 1..N that are within reach today never lose it (0 = off).
    enabled
        False switches the standard off.

    """

    service: str
    reach_km: float | None = None
    reach_min: float | None = None
    rule: str = "keep_current"
    min_share: float | None = None
    protect_deprived_deciles: int = 0
    enabled: bool = True

    def __post_init__(self) -> None:
        where = f"access standard for {self.service!r}"
        if self.rule not in ACCESS_RULES:
            msg = f"{where}: `rule` = {self.rule!r}; use one of {', '.join(ACCESS_RULES)}."
            raise ScenarioError(msg)
        if self.rule == "max_mean_increase":
            msg = (
                f"{where}: rule 'max_mean_increase' is not supported by the optimiser yet; "
                "use keep_current or min_share."
            )
            raise ScenarioError(msg)
        if (self.reach_km is None) == (self.reach_min is None):
            msg = f"{where}: give exactly one of `reach_km` or `reach_min`."
            raise ScenarioError(msg)
        reach = self.reach_km if self.reach_km is not None else self.reach_min
        if not (isinstance(reach, (int, float)) and reach > 0 and math.isfinite(reach)):
            msg = f"{where}: reach must be a positive number; got {reach!r}."
            raise ScenarioError(msg)
        if self.rule == "min_share" and not (self.min_share is not None and 0 <= self.min_share <= 1):
            msg = f"{where}: rule min_share needs `min_share` between 0 and 1; got {self.min_share!r}."
            raise ScenarioError(msg)
        if not 0 <= self.protect_deprived_deciles <= 10:
            msg = f"{where}: `protect_deprived_deciles` must be 0-10; got {self.protect_deprived_deciles!r}."
            raise ScenarioError(msg)

    @property
    def describe(self) -> str:
        """One line, e.g. 'library: keep_current within 3 km road'."""
        reach = f"{self.reach_km:g} km road" if self.reach_km is not None else f"{self.reach_min:g} min"
        share = f" ({pct(self.min_share)} of people)" if self.rule == "min_share" else ""
        deprived = (
            f"; IMD deciles 1-{self.protect_deprived_deciles} never lose reach"
            if self.protect_deprived_deciles
            else ""
        )
        return f"{self.service}: {self.rule}{share} within {reach}{deprived}"


@dataclass(frozen=True)
class Scenario:
    """Assumptions and constraints for one optimisation run. Money is in pounds here.

    Every field has a default; see ``docs/scenario.md``. Unknown building IDs in locks are
    reported when the model is built.
    """

    name: str = "default"
    # appraisal
    years: int = 10
    discount_rate: float = 0.035  # HM Treasury Green Book
    start_year: int = 2026
    # costs
    move_cost_gbp_per_m2: float = 400.0  # relocation + fit-out per m2 moved (modelled)
    disposal_cost_share: float = 0.02  # fees when a building's disposal_cost_gbp is unknown
    cat_discount: float = 1.0  # community asset transfer: share of value forgone (1 = nil)
    cat_services: tuple[str, ...] = ("library", "community")
    lease_exit_share: float = 1.0  # share of remaining rent to the break paid to exit a lease
    include_backlog: bool = True
    # moves
    max_move_km: float = 5.0  # road km, for occupiers without their own max_move_km
    allow_moves: bool = True
    # outcomes
    homes_per_ha: float = 40.0
    housing_share: float = 0.75
    jobs_per_ha: float = 100.0
    # limits (None = off)
    capital_budget_gbp: float | None = None
    receipts_target_gbp: float | None = None
    max_disposals: int | None = None
    carbon_cap_tco2e: float | None = None
    # locks
    keep: tuple[str, ...] = ()
    dispose: tuple[str, ...] = ()
    # access: overrides of the estate's standards, per service
    access: tuple[AccessStandard, ...] = ()
    access_enabled: bool = True
    protect_deprived_deciles: int | None = None  # overrides every standard's value when set
    # solver
    solver: str = "highs"
    time_limit_s: float = 120.0
    mip_gap: float = 1e-4
    warm_start: bool = True
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (isinstance(self.years, int) and 1 <= self.years <= 100, "`years` must be a whole number 1-100"),
            (0 <= self.discount_rate < 1, "`discount_rate` must be in [0, 1), e.g. 0.035"),
            (self.move_cost_gbp_per_m2 >= 0, "`move_cost_gbp_per_m2` must be 0 or more"),
            (0 <= self.disposal_cost_share <= 1, "`disposal_cost_share` must be in [0, 1]"),
            (0 <= self.cat_discount <= 1, "`cat_discount` must be in [0, 1]"),
            (self.lease_exit_share >= 0, "`lease_exit_share` must be 0 or more"),
            (self.max_move_km >= 0, "`max_move_km` must be 0 or more"),
            (self.homes_per_ha >= 0 and self.jobs_per_ha >= 0, "densities must be 0 or more"),
            (0 <= self.housing_share <= 1, "`housing_share` must be in [0, 1]"),
            (
                self.max_disposals is None
                or (isinstance(self.max_disposals, int) and self.max_disposals >= 0),
                "`max_disposals` must be a whole number, 0 or more",
            ),
            (self.solver in SOLVERS, f"`solver` must be one of {', '.join(SOLVERS)}"),
            (self.time_limit_s > 0, "`time_limit_s` must be positive"),
            (0 <= self.mip_gap < 1, "`mip_gap` must be in [0, 1)"),
        ]
        for ok, text in checks:
            if not ok:
                msg = f"Scenario {self.name!r}: {text}."
                raise ScenarioError(msg)
        for key in ("capital_budget_gbp", "receipts_target_gbp", "carbon_cap_tco2e"):
            value = getattr(self, key)
            if value is not None and not value >= 0:
                msg = f"Scenario {self.name!r}: `{key}` must be 0 or more, or absent; got {value!r}."
                raise ScenarioError(msg)
        both = sorted(set(self.keep) & set(self.dispose))
        if both:
            msg = f"Scenario {self.name!r}: building(s) locked both in and out: {', '.join(both)}."
            raise ScenarioError(msg)
        bad = [b for b in (*self.keep, *self.dispose) if not re.fullmatch(ID_PATTERN, str(b))]
        if bad:
            msg = f"Scenario {self.name!r}: lock IDs must match {ID_PATTERN}: {', '.join(map(repr, bad))}."
            raise ScenarioError(msg)
        services = [a.service for a in self.access]
        dupes = sorted({s for s in services if services.count(s) > 1})
        if dupes:
            msg = f"Scenario {self.name!r}: more than one access standard for {', '.join(dupes)}."
            raise ScenarioError(msg)

    @property
    def annuity_factor(self) -> float:
        """Present value of £1 a year for `years` years at `discount_rate` (paid in arrears)."""
        r, n = self.discount_rate, self.years
        return float(n) if r == 0 else (1 - (1 + r) ** -n) / r

    def with_changes(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ TOML
    def to_dict(self) -> dict[str, Any]:
        """Nested dict in the TOML file's layout (None values left out)."""
        flat = asdict(self)
        out: dict[str, Any] = {"name": flat.pop("name")}
        for section, keys in SECTIONS.items():
            values = {k: _plain(flat.pop(k)) for k in keys if flat.get(k) is not None}
            out[section] = values
        access: dict[str, Any] = {"enabled": flat.pop("access_enabled")}
        if flat.get("protect_deprived_deciles") is not None:
            access["protect_deprived_deciles"] = flat["protect_deprived_deciles"]
        flat.pop("protect_deprived_deciles")
        services = {}
        for standard in self.access:
            d = {k: v for k, v in asdict(standard).items() if v is not None and k != "service"}
            services[standard.service] = d
        if services:
            access["services"] = services
        out["access"] = access
        flat.pop("access")
        flat.pop("extra")
        return out

    def to_toml(self) -> str:
        """The scenario as TOML text that `from_toml` reads back."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "scenario") -> Scenario:
        """Build from the nested TOML layout; unknown keys are errors naming the key."""
        known_sections = {*SECTIONS, "access", "name", "description"}
        unknown = sorted(set(data) - known_sections)
        if unknown:
            msg = f"{source}: unknown key(s) {', '.join(unknown)}. Sections: {', '.join(sorted(known_sections))}."
            raise ScenarioError(msg)
        kwargs: dict[str, Any] = {}
        if "name" in data:
            kwargs["name"] = str(data["name"])
        for section, keys in SECTIONS.items():
            body = data.get(section, {})
            if not isinstance(body, dict):
                msg = f"{source}: [{section}] must be a table of keys."
                raise ScenarioError(msg)
            for key, value in body.items():
                if key not in keys:
                    msg = f"{source}: [{section}] has unknown key {key!r}; expected one of {', '.join(keys)}."
                    raise ScenarioError(msg)
                kwargs[key] = tuple(value) if isinstance(value, list) else value
        access = data.get("access", {})
        if not isinstance(access, dict):
            msg = f"{source}: [access] must be a table."
            raise ScenarioError(msg)
        for key in access:
            if key not in ("enabled", "protect_deprived_deciles", "services"):
                msg = f"{source}: [access] has unknown key {key!r}; use enabled, protect_deprived_deciles, services."
                raise ScenarioError(msg)
        if "enabled" in access:
            kwargs["access_enabled"] = bool(access["enabled"])
        if "protect_deprived_deciles" in access:
            kwargs["protect_deprived_deciles"] = access["protect_deprived_deciles"]
        standards = []
        for service, body in access.get("services", {}).items():
            allowed = {f.name for f in fields(AccessStandard)} - {"service"}
            bad = sorted(set(body) - allowed)
            if bad:
                msg = f"{source}: [access.services.{service}] unknown key(s) {', '.join(bad)}; use {', '.join(sorted(allowed))}."
                raise ScenarioError(msg)
            standards.append(AccessStandard(service=service, **body))
        kwargs["access"] = tuple(standards)
        try:
            return cls(**kwargs)
        except TypeError as err:
            msg = f"{source}: {err}."
            raise ScenarioError(msg) from err

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read a scenario file.

        Raises
        ------
        ScenarioError
            If the file is missing, not TOML, or has a bad or unknown key.

        """
        path = Path(path)
        return cls.from_dict(read_toml(path, what="Scenario file", error=ScenarioError), source=path.name)


def read_toml(path: Path, *, what: str, error: type[Exception]) -> dict[str, Any]:
    """A TOML file as a dict; `error` names the file when it is missing or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        msg = f"{what} {path} not found."
        raise error(msg) from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        msg = f"{what} {path.name}: not valid TOML ({err})."
        raise error(msg) from err


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value

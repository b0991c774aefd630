"""Scenario: every assumption and constraint an analyst can set, checked on creation.

A scenario is a frozen dataclass, so it can key caches and be compared. It is written to and
read from TOML (see ``docs/scenario.md`` for every key and its default).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from estate.limits import MAX_MONEY_GBP, cap_to_cores
from estate.schema import ACCESS_RULES, ID_PATTERN
from estate.settings import Key, check_keys, table
from estate.settings import read_toml as _read_toml
from optimiser.errors import ScenarioError

SOLVERS = ("highs", "cbc")
SHARING_RULES = ("owner", "pooled")  # who gets what of a plan: see optimiser.partners
POOLED_KEYS = ("floor_area", "running_cost", "equal")
NO_WORSE_OFF = ("off", "zero", "standalone")
ID_WORDS = "an ID of letters A-Z a-z, digits 0-9 and _ only"


def _money(name: str, off: str) -> Key:
    return Key(name, "float", 0, MAX_MONEY_GBP, optional=True, example=5_000_000, off=off)


# The schema of a scenario file: every key of every section, with its type and range.
# (docs/scenario.md documents each; Scenario and AccessStandard check every value against it.)
SCENARIO_KEYS: dict[str, dict[str, Key]] = {
    "appraisal": {
        "years": Key("years", "int", 1, 100, example=10),
        "discount_rate": Key("discount_rate", "float", 0, 1, high_open=True, example=0.035),
        "start_year": Key("start_year", "int", 1990, 2100, example=2026),
    },
    "costs": {
        "move_cost_gbp_per_m2": Key("move_cost_gbp_per_m2", "float", 0, 100_000, example=400.0),
        "disposal_cost_share": Key("disposal_cost_share", "float", 0, 1, example=0.02),
        "cat_discount": Key("cat_discount", "float", 0, 1, example=1.0),
        "cat_services": Key("cat_services", "texts", example=["library", "community"]),
        "lease_exit_share": Key("lease_exit_share", "float", 0, 10, example=1.0),
        "include_backlog": Key("include_backlog", "bool", example=True),
    },
    "moves": {
        "max_move_km": Key("max_move_km", "float", 0, 1000, example=5.0),
        "allow_moves": Key("allow_moves", "bool", example=True),
    },
    "outcomes": {
        "homes_per_ha": Key("homes_per_ha", "float", 0, 1000, example=40.0),
        "housing_share": Key("housing_share", "float", 0, 1, example=0.75),
        "jobs_per_ha": Key("jobs_per_ha", "float", 0, 10_000, example=100.0),
    },
    "limits": {
        "capital_budget_gbp": _money("capital_budget_gbp", "no budget"),
        "receipts_target_gbp": _money("receipts_target_gbp", "no target"),
        "max_disposals": Key("max_disposals", "int", 0, 1_000_000, optional=True, example=10, off="no limit"),
        "carbon_cap_tco2e": Key(
            "carbon_cap_tco2e", "float", 0, 1e9, optional=True, example=20_000, off="no cap"
        ),
    },
    "locks": {
        "keep": Key("keep", "texts", pattern=ID_PATTERN, pattern_words=ID_WORDS, example=["B001"]),
        "dispose": Key("dispose", "texts", pattern=ID_PATTERN, pattern_words=ID_WORDS, example=["B002"]),
    },
    "solver": {
        "solver": Key("solver", "choice", choices=SOLVERS, example="highs"),
        "time_limit_s": Key("time_limit_s", "float", 0, 1_000_000, low_open=True, example=120.0),
        "mip_gap": Key("mip_gap", "float", 0, 1, high_open=True, example=1e-4),
        "warm_start": Key("warm_start", "bool", example=True),
        "threads": Key(
            "threads", "int", 1, optional=True, example=2, off="the solver's own choice"
        ),  # more than the machine's cores is lowered to them when solving (estate.limits)
    },
    # the programme over time (optimiser.model_phased; docs/scenario.md, [phasing])
    "phasing": {
        "phased": Key("phased", "bool", example=True),
        "receipt_lag_years": Key("receipt_lag_years", "int", 0, 100, example=1),
        "allow_early_lease_exit": Key("allow_early_lease_exit", "bool", example=False),
        "fit_out_lead_years": Key("fit_out_lead_years", "int", 0, 100, example=1),
        "capital_budget_per_year_gbp": _money("capital_budget_per_year_gbp", "no budget a year"),
        "cash_flow_rule": Key("cash_flow_rule", "bool", example=True),
        "upfront_investment_gbp": Key("upfront_investment_gbp", "float", 0, MAX_MONEY_GBP, example=5_000_000),
        "max_disposals_per_year": Key(
            "max_disposals_per_year", "int", 0, 1_000_000, optional=True, example=5, off="no limit"
        ),
        "max_moves_per_year": Key(
            "max_moves_per_year", "int", 0, 1_000_000, optional=True, example=10, off="no limit"
        ),
    },
    "uncertainty": {  # spreads of `run --uncertainty` (optimiser.robustness): +/- share, uniform
        f"{figure}_spread": Key(f"{figure}_spread", "float", 0, 1, high_open=True, example=0.2)
        for figure in ("running_cost", "market_value", "backlog", "disposal_cost", "rent")
    },
    "partners": {
        "sharing_rule": Key("sharing_rule", "choice", choices=SHARING_RULES, example="owner"),
        "pooled_key": Key("pooled_key", "choice", choices=POOLED_KEYS, example="floor_area"),
        "occupancy_charge_gbp_per_m2": Key(
            "occupancy_charge_gbp_per_m2",
            "float",
            0,
            100_000,
            optional=True,
            example=150.0,
            off="the host building's running cost per m2",
        ),
        "no_partner_worse_off": Key("no_partner_worse_off", "choice", choices=NO_WORSE_OFF, example="zero"),
        "standalone_plans": Key("standalone_plans", "bool", example=True),
    },
}
TOP_KEYS = {
    "name": Key("name", "text", example="default"),
    "description": Key("description", "text", example="what this scenario tests"),
}
ACCESS_KEYS = {
    "enabled": Key("enabled", "bool", example=True),
    "protect_deprived_deciles": Key(
        "protect_deprived_deciles", "int", 0, 10, optional=True, example=2, off="each standard's own"
    ),
}
ACCESS_TABLES = ("services",)
STANDARD_KEYS = {
    "reach_km": Key(
        "reach_km", "float", 0, 1000, low_open=True, optional=True, example=3.0, off="use reach_min"
    ),
    "reach_min": Key(
        "reach_min", "float", 0, 1440, low_open=True, optional=True, example=20.0, off="use reach_km"
    ),
    "rule": Key("rule", "choice", choices=ACCESS_RULES, example="keep_current"),
    "min_share": Key("min_share", "float", 0, 1, optional=True, example=0.95, off="rule keep_current"),
    "protect_deprived_deciles": Key("protect_deprived_deciles", "int", 0, 10, example=0),
    "enabled": Key("enabled", "bool", example=True),
}
# TOML section of every Scenario field (the file groups keys; the dataclass is flat)
SECTIONS: dict[str, tuple[str, ...]] = {section: tuple(keys) for section, keys in SCENARIO_KEYS.items()}
# Scenario field -> (where it is in the file, its key)
FIELD_KEYS: dict[str, tuple[str, Key]] = {
    "name": ("", TOP_KEYS["name"]),
    **{name: (section, key) for section, keys in SCENARIO_KEYS.items() for name, key in keys.items()},
    "access_enabled": ("access", ACCESS_KEYS["enabled"]),
    "protect_deprived_deciles": ("access", ACCESS_KEYS["protect_deprived_deciles"]),
}


def annuity_factor(years: float, rate: float) -> float:
    """Present value of 1 a year for `years` years at `rate`, paid at each year end.

    The one annuity formula: `Scenario.annuity_factor` and `optimiser.costs` both use it.
    """
    if years <= 0:
        return 0.0
    return float(years) if rate == 0 else (1 - (1 + rate) ** -years) / rate


def check_option(flag: str, name: str, value: Any) -> Any:
    """A command-line option that sets the Scenario field `name`, checked like the file's key.

    Raises
    ------
    ScenarioError
        ``command line: --time-limit nan is not a finite number. Allowed: ...``

    """
    key = replace(FIELD_KEYS[name][1], name=flag, optional=False, sep=" ")
    return key.check(value, source="command line", where="", error=ScenarioError)


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
        if not isinstance(self.service, str) or not self.service.strip():
            msg = f"access standard: the service name {self.service!r} must be text (the service, e.g. library)."
            raise ScenarioError(msg)
        where = f"access.services.{self.service}"
        for name, key in STANDARD_KEYS.items():
            value = key.check(getattr(self, name), source="", where=where, error=ScenarioError)
            object.__setattr__(self, name, value)
        if self.rule == "max_mean_increase":
            msg = (
                f'{where}.rule = "max_mean_increase" is not supported by the optimiser yet. '
                'Fix: use rule = "keep_current" or rule = "min_share".'
            )
            raise ScenarioError(msg)
        if (self.reach_km is None) == (self.reach_min is None):
            found = (
                "neither" if self.reach_km is None else f"both ({self.reach_km:g} km, {self.reach_min:g} min)"
            )
            msg = f"{where}: give exactly one of reach_km or reach_min; found {found}. Fix: e.g. reach_km = 3.0."
            raise ScenarioError(msg)
        if self.rule == "min_share" and self.min_share is None:
            msg = (
                f'{where}.min_share is missing, and rule = "min_share" needs it. Allowed: a number '
                'from 0 to 1. Fix: e.g. min_share = 0.95, or rule = "keep_current".'
            )
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
    # uncertainty: the +/- spread of each modelled money figure in `run --uncertainty`
    running_cost_spread: float = 0.2
    market_value_spread: float = 0.2
    backlog_spread: float = 0.2
    disposal_cost_spread: float = 0.2
    rent_spread: float = 0.2
    # partners (optimiser.partners): who pays, who benefits
    sharing_rule: str = "owner"
    pooled_key: str = "floor_area"
    occupancy_charge_gbp_per_m2: float | None = None  # a year; None = the host's running cost per m2
    no_partner_worse_off: str = "off"
    standalone_plans: bool = False  # solve each partner's stand-alone plan too (partnership value)
    # solver
    solver: str = "highs"
    time_limit_s: float = 120.0
    mip_gap: float = 1e-4
    warm_start: bool = True
    threads: int | None = None
    # phasing: the programme over time (off: the static model)
    phased: bool = False
    receipt_lag_years: int = 0
    allow_early_lease_exit: bool = True
    fit_out_lead_years: int = 0
    capital_budget_per_year_gbp: float | None = None
    cash_flow_rule: bool = False
    upfront_investment_gbp: float = 0.0
    max_disposals_per_year: int | None = None
    max_moves_per_year: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        source = f"Scenario {self.name!r}" if isinstance(self.name, str) else "Scenario"
        for name, (section, key) in FIELD_KEYS.items():
            value = key.check(getattr(self, name), source=source, where=section, error=ScenarioError)
            object.__setattr__(self, name, value)
        if not isinstance(self.access, tuple | list) or not all(
            isinstance(a, AccessStandard) for a in self.access
        ):
            msg = f"{source}: `access` must be a list of AccessStandard; got {self.access!r}."
            raise ScenarioError(msg)
        object.__setattr__(self, "access", tuple(self.access))
        both = sorted(set(self.keep) & set(self.dispose))
        if both:
            msg = (
                f"{source}: locks.keep and locks.dispose both name {', '.join(both)}; a building "
                "cannot be both kept and disposed of. Fix: remove it from one of the two lists."
            )
            raise ScenarioError(msg)
        services = [a.service for a in self.access]
        dupes = sorted({s for s in services if services.count(s) > 1})
        if dupes:
            msg = (
                f"{source}: more than one access standard for {', '.join(dupes)}. Fix: keep one per service."
            )
            raise ScenarioError(msg)

    @property
    def annuity_factor(self) -> float:
        """Present value of £1 a year for `years` years at `discount_rate` (paid in arrears)."""
        return annuity_factor(self.years, self.discount_rate)

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
        return tomli_w.dumps(self.to_dict())

    def capped_to_machine(self, *, what: str = "") -> tuple[Scenario, str | None]:
        """This scenario with `threads` no more than the machine's cores, and a message if lowered.

        `what` names the setting in the message (default ``threads = N``); the CLI and the app
        both call this, so both cap alike (see ``docs/limits.md``).
        """
        threads, note = cap_to_cores(self.threads, what=what or f"threads = {self.threads}")
        return (self if note is None else self.with_changes(threads=threads)), note

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "scenario") -> Scenario:
        """Build from the nested TOML layout, checking every key and value against `SCENARIO_KEYS`.

        Raises
        ------
        ScenarioError
            An unknown section or key (the nearest known one suggested), a value of the wrong
            type, not finite or out of range: the message names `source`, ``section.key``, the
            value, what is allowed and the fix.

        """

        def check(key: Key, value: Any, where: str) -> Any:
            return key.check(value, source=source, where=where, error=ScenarioError)

        def body(value: Any, where: str, allowed: Any) -> dict[str, Any]:
            found = table(value, source=source, where=where, error=ScenarioError)
            check_keys(found, allowed, source=source, where=where, error=ScenarioError)
            return found

        data = body(data, "", [*TOP_KEYS, *SCENARIO_KEYS, "access"])
        kwargs: dict[str, Any] = {}
        for name, key in TOP_KEYS.items():
            if name in data:
                kwargs[name] = check(key, data[name], "")
        kwargs.pop("description", None)
        for section, keys in SCENARIO_KEYS.items():
            if section in data:
                for name, value in body(data[section], f"[{section}]", keys).items():
                    kwargs[name] = check(keys[name], value, section)
        access = body(data.get("access", {}), "[access]", [*ACCESS_KEYS, *ACCESS_TABLES])
        if "enabled" in access:
            kwargs["access_enabled"] = check(ACCESS_KEYS["enabled"], access["enabled"], "access")
        if "protect_deprived_deciles" in access:
            kwargs["protect_deprived_deciles"] = check(
                ACCESS_KEYS["protect_deprived_deciles"], access["protect_deprived_deciles"], "access"
            )
        services = table(
            access.get("services", {}), source=source, where="[access.services]", error=ScenarioError
        )
        try:
            standards = []
            for service, values in services.items():
                where = f"access.services.{service}"
                checked = {
                    k: check(STANDARD_KEYS[k], v, where)
                    for k, v in body(values, f"[{where}]", STANDARD_KEYS).items()
                }
                standards.append(AccessStandard(service=service, **checked))
            return cls(**kwargs, access=tuple(standards))
        except ScenarioError as err:
            if str(err).startswith(source):
                raise
            msg = f"{source}: {err}"
            raise ScenarioError(msg) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read a scenario file.

        Raises
        ------
        ScenarioError
            If the file is missing, a folder, unreadable, not UTF-8 or not TOML, or has a bad
            or unknown key (see `from_dict`).

        """
        path = Path(path)
        return cls.from_dict(_read_toml(path, what="Scenario file", error=ScenarioError), source=path.name)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value

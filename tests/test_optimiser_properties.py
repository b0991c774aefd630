"""Random small estates: whatever the data, the written plan obeys every rule when rechecked."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.pipeline import optimise
from optimiser.report.files import write_plan
from optimiser.scenario import AccessStandard, Scenario
from tests.conftest import make_estate
from tests.recompute import check_written_plan

SERVICES = {
    "library": "library",
    "gp_practice": "clinical",
    "customer_service": "public_counter",
    "council_office": "office",
}


def random_estate(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    buildings, occupiers = [], []
    for i in range(n):
        types = rng.choice(list(SERVICES.values()), size=int(rng.integers(1, 4)), replace=False)
        cap = float(rng.integers(200, 1200))
        buildings.append(
            {
                "building_id": f"B{i}",
                "owner": str(rng.choice(["Council", "NHS", "DWP"])),
                "x": 380000 + float(rng.uniform(0, 6000)),
                "y": 400000 + float(rng.uniform(0, 6000)),
                "capacity_m2": cap,
                "gia_m2": cap,
                "running_cost_gbp": float(rng.integers(20, 200)) * 1000,
                "market_value_gbp": float(rng.integers(0, 2000)) * 1000,
                "site_area_ha": float(rng.uniform(0, 1)),
                "tenure": str(rng.choice(["freehold", "leasehold"], p=[0.8, 0.2])),
                "lease_end_year": 2030,
                "space_types": ";".join(types),
                "protected": bool(rng.random() < 0.1),
            }
        )
        used = 0.0
        for j in range(int(rng.integers(1, 3))):
            service = str(rng.choice(list(SERVICES)))
            space = float(rng.integers(30, 300))
            if used + space > cap:
                continue
            used += space
            occupiers.append(
                {
                    "occupier_id": f"O{i}_{j}",
                    "partner": "P",
                    "service": service,
                    "building_id": f"B{i}",
                    "space_m2": space,
                    "space_type": SERVICES[service],
                    "public_facing": service != "council_office",
                    "splittable": bool(rng.random() < 0.3),
                    "movable": bool(rng.random() < 0.9),
                }
            )
    zones = [
        {
            "zone_id": f"Z{k}",
            "x": 380000 + float(rng.uniform(0, 6000)),
            "y": 400000 + float(rng.uniform(0, 6000)),
            "population": int(rng.integers(500, 2500)),
            "imd_decile": int(rng.integers(1, 11)),
        }
        for k in range(12)
    ]
    access = [
        {"service": "library", "reach_km": 2.5, "rule": "keep_current"},
        {
            "service": "gp_practice",
            "reach_km": 3.0,
            "rule": "min_share",
            "min_share": 0.5,
            "protect_deprived_deciles": 2,
        },
    ]
    compatibility = [{"service": s, "host_service": t} for s in SERVICES for t in SERVICES if s < t]
    return make_estate(
        buildings, occupiers, zones=zones, access=access, compatibility=compatibility, name=f"random {seed}"
    )


def today_share(estate, service: str, reach_km: float) -> float:
    """Share of people within reach of the service today (so a min_share below it is feasible)."""
    occ = estate.occupiers
    sites = estate.buildings.loc[sorted(set(occ.loc[occ["service"] == service, "building_id"]))]
    if sites.empty:
        return 0.0
    z = estate.zones
    d = (
        np.hypot(
            z["easting"].to_numpy()[:, None] - sites["easting"].to_numpy()[None, :],
            z["northing"].to_numpy()[:, None] - sites["northing"].to_numpy()[None, :],
        )
        / 1000
        * 1.3
    )
    covered = (d <= reach_km).any(axis=1)
    return float(z["population"].to_numpy()[covered].sum() / z["population"].sum())


@pytest.mark.solver
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), cat=st.sampled_from([0.0, 0.5, 1.0]))
def test_written_plan_of_a_random_estate_passes_an_independent_check(tmp_path_factory, seed, cat):
    estate = random_estate(seed)
    today = today_share(estate, "gp_practice", 3.0)
    scenario = Scenario(
        max_move_km=6,
        cat_discount=cat,
        time_limit_s=20,
        access=(
            AccessStandard(
                "gp_practice",
                reach_km=3.0,
                rule="min_share",
                min_share=0.8 * today,
                protect_deprived_deciles=2,
            ),
        ),
    )
    plan = optimise(estate, scenario)
    out = tmp_path_factory.mktemp(f"plan{seed}")
    write_plan(estate, plan, out)
    check_written_plan(out, cat_discount=cat)
    # saving = baseline - net cost, in £k
    k = plan.kpis
    baseline_k = (
        scenario.annuity_factor * k["running_cost_before_gbp"] / 1000
        + float(estate.buildings["backlog_gbp"].fillna(0).sum()) / 1000
    )
    assert k["npv_gbp"] / 1000 == pytest.approx(baseline_k - plan.info.objective, rel=1e-6, abs=1e-3)
    assert plan.proven_optimal

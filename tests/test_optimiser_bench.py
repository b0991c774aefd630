"""Published benchmark optima reproduced by the estate model (DESIGN.md §4).

Holmberg p1-p40 (single-source CFLP) and OR-Library cap41-cap134 (splittable CFLP) are loaded
into the same model as estates (optimiser.bench) and solved to proven optimality; the objective
must equal the published optimum. capb (100 x 1000) is in bench/capb.py, not here.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from optimiser.bench import (
    CFLPInstance,
    check_plan,
    holmberg_optima,
    instance_to_estate,
    orlib_cap_optima,
    read_bounds,
    read_holmberg,
    read_orlib_cap,
    solve_instance,
)
from optimiser.cli import main
from optimiser.errors import BenchError
from optimiser.model import build_model

from .conftest import DATA, REPO

BENCH = DATA / "benchmarks"
HOLMBERG = BENCH / "holmberg"
ORLIB = BENCH / "orlib_cap"
HOLMBERG_NAMES = [f"p{i}" for i in range(1, 41)]
CAP_NAMES = ["cap41", "cap42", "cap43", "cap44", "cap51"] + [
    f"cap{k}{i}" for k in (6, 7, 8, 9, 10, 11, 12, 13) for i in (1, 2, 3, 4)]
REL_TOL = 1e-6


def rel_error(value: float, target: float) -> float:
    return abs(value - target) / max(abs(target), 1e-9)


# ------------------------------------------------------------------------------------------
# reading instances (facts checked by hand against the files)
# ------------------------------------------------------------------------------------------
def test_read_holmberg_p1():
    inst = read_holmberg(HOLMBERG / "p1")
    assert (inst.name, inst.m, inst.n, inst.single_source) == ("p1", 10, 50, True)
    assert inst.costs.shape == (10, 50)
    assert (inst.capacities[0], inst.fixed_costs[0]) == (258, 366)
    assert (inst.capacities[-1], inst.fixed_costs[-1]) == (321, 316)
    assert (inst.demands[0], inst.demands[-1]) == (49, 49)
    assert inst.demands.sum() == 1456  # awk over tokens 23-72 of the file
    assert (inst.costs[0, 0], inst.costs[0, 1], inst.costs[-1, -1]) == (260, 239, 673)


def test_read_holmberg_with_nul_padding_and_bigger_sizes():
    assert b"\x00" in (HOLMBERG / "p10").read_bytes()
    p10 = read_holmberg(HOLMBERG / "p10")
    assert (p10.m, p10.n) == (10, 50)
    p13 = read_holmberg(HOLMBERG / "p13")
    assert (p13.m, p13.n) == (20, 50)
    p25 = read_holmberg(HOLMBERG / "p25")
    assert (p25.m, p25.n, p25.costs.shape) == (30, 150, (30, 150))


def test_read_orlib_cap41_from_zip_and_from_txt(tmp_path):
    inst = read_orlib_cap(ORLIB / "cap41.zip")
    assert (inst.name, inst.m, inst.n, inst.single_source) == ("cap41", 16, 50, False)
    assert np.all(inst.capacities == 5000)
    assert inst.fixed_costs[0] == 7500 and inst.fixed_costs[10] == 0
    assert (inst.demands[0], inst.demands[1]) == (146, 87)
    assert inst.costs[0, 0] == pytest.approx(6739.725)
    assert inst.costs[15, 0] == pytest.approx(6051.7)  # the line wraps after 7 costs
    assert inst.costs[0, 1] == pytest.approx(3204.8625)
    with zipfile.ZipFile(ORLIB / "cap41.zip") as archive:
        archive.extract("cap41.txt", tmp_path)
    txt = read_orlib_cap(tmp_path / "cap41.txt")
    assert txt.name == "cap41"
    assert np.array_equal(txt.costs, inst.costs) and np.array_equal(txt.demands, inst.demands)


def test_read_orlib_capb_needs_a_capacity():
    inst = read_orlib_cap(ORLIB / "capb.zip", capacity=5000)
    assert (inst.name, inst.m, inst.n) == ("capb_5000", 100, 1000)
    assert np.all(inst.capacities == 5000)
    assert inst.fixed_costs[0] == 627041
    assert inst.demands[0] == 94
    assert inst.costs[0, 0] == pytest.approx(92218.71966)
    with pytest.raises(BenchError, match=r"capb\.zip:capb\.txt line 2: .*'capacity'.*--capacity"):
        read_orlib_cap(ORLIB / "capb.zip")
    with pytest.raises(BenchError, match="states its capacities"):
        read_orlib_cap(ORLIB / "cap41.zip", capacity=5000)


def test_published_optima():
    optima = holmberg_optima(HOLMBERG / "os")
    assert len(optima) == 40
    assert (optima["p1"], optima["p25"], optima["p40"]) == (8848, 11630, 13024)
    cap = orlib_cap_optima(ORLIB / "bounds.txt")
    assert set(cap) == set(CAP_NAMES) | {"capb_5000", "capb_6000", "capb_7000", "capb_8000"}
    assert cap["cap41"] == 1040444.375
    assert cap["capb_5000"] == 13656379.578
    assert read_bounds(ORLIB / "bounds.txt")["pmed1"] == (5819, 5819)


# ------------------------------------------------------------------------------------------
# malformed files: clear errors naming file and line
# ------------------------------------------------------------------------------------------
P_HEADER = "2 3\n10 5\n10 6\n"


@pytest.mark.parametrize(("text", "pattern"), [
    ("2 3\n10 five\n", r"bad line 2: the fixed cost of facility 1 should be a number, found 'five'"),
    (P_HEADER + "1 2 3\n1 2 3\n4 5\n",
     r"bad line 6: the file ends before the cost of facility 2 for customer 3"),
    (P_HEADER + "1 2 3\n1 2 3\n4 5 6\n7\n", r"bad line 7: unexpected extra value '7'.*m=2.*n=3"),
    ("2.5 3\n", r"bad line 1: the number of facilities m should be a whole number"),
    ("2 3\n-10 5\n", r"bad line 2: the capacity of facility 1 should be at least 0"),
    ("", r"bad line 1: the file ends before the number of facilities m"),
    (P_HEADER + "1 2\x00 3\n", r"bad line 4: unexpected NUL byte"),
])
def test_malformed_holmberg(tmp_path, text, pattern):
    path = tmp_path / "bad"
    path.write_text(text)
    with pytest.raises(BenchError, match=pattern) as err:
        read_holmberg(path)
    assert err.value.exit_code == 2


def test_malformed_orlib(tmp_path):
    path = tmp_path / "cap_bad.txt"
    path.write_text("2 2\n10 5\n10 6\n3\n1 2\n4 x\n")
    expected = r"cap_bad\.txt line 6: the cost of facility 1 for customer 2 should be a number, found 'x'"
    with pytest.raises(BenchError, match=expected):
        read_orlib_cap(path)
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.txt", "1 1\n1 1\n1\n1\n")
        archive.writestr("b.txt", "1 1\n1 1\n1\n1\n")
    with pytest.raises(BenchError, match="expected one instance file in the zip, found 2"):
        read_orlib_cap(two)
    notzip = tmp_path / "broken.zip"
    notzip.write_bytes(b"not a zip")
    with pytest.raises(BenchError, match=r"broken\.zip: cannot be read"):
        read_orlib_cap(notzip)
    with pytest.raises(BenchError, match="not found"):
        read_orlib_cap(tmp_path / "missing.zip")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"2 2\n\xff\n")
    with pytest.raises(BenchError, match=r"bin\.txt: not a plain-text instance file"):
        read_orlib_cap(binary)


def test_malformed_optima(tmp_path):
    bad = tmp_path / "os"
    bad.write_text("8848\nabc\n")
    with pytest.raises(BenchError, match=r"os line 2: expected an optimal value, found 'abc'"):
        holmberg_optima(bad)
    bounds = tmp_path / "bounds.txt"
    bounds.write_text("cap41\t1\t2\ncap42 1\n")
    with pytest.raises(BenchError, match=r"bounds\.txt line 2: expected 'name lower_bound upper_bound'"):
        read_bounds(bounds)


# ------------------------------------------------------------------------------------------
# the instance as an estate
# ------------------------------------------------------------------------------------------
def test_instance_to_estate_maps_every_figure():
    inst = read_holmberg(HOLMBERG / "p1")
    estate, table, scenario = instance_to_estate(inst)
    b, occ = estate.buildings, estate.occupiers
    assert list(b.index) == [f"F{i}" for i in range(1, 11)]
    assert list(occ.index) == [f"C{j}" for j in range(1, 51)]
    assert not b["fixed"].any()
    assert b.at["F1", "capacity_m2"] == 258 and b.at["F1", "running_cost_gbp"] == 366_000
    assert (b["market_value_gbp"] == 0).all() and (b["disposal_cost_gbp"] == 0).all()
    assert occ.at["C1", "space_m2"] == 49 and not occ["splittable"].any()
    assert len(table) == 500
    row = table[(table["occupier_id"] == "C2") & (table["building_id"] == "F1")]
    assert row["cost_gbp_k"].item() == 239
    assert scenario.annuity_factor == 1 and not scenario.access_enabled
    model = build_model(estate, scenario, cost_table=table)
    assert model.stats["pairs"] == 500 and len(model.keep) == 10
    assert all(v.cat == "Integer" for v in model.move.values())
    cap = read_orlib_cap(ORLIB / "cap41.zip")
    estate, _, _ = instance_to_estate(cap)
    assert estate.occupiers["splittable"].all()


@pytest.mark.solver
def test_tiny_split_instance_by_hand():
    """One customer of 10 between two facilities of 5: it must split, half at cost 1, half at 3.

    Optimum = fixed 10 + 20 + 0.5 x 1 + 0.5 x 3 = 32.
    """
    inst = CFLPInstance("tiny", np.array([5.0, 5.0]), np.array([10.0, 20.0]), np.array([10.0]),
                        np.array([[1.0], [3.0]]), single_source=False)
    plan = solve_instance(inst, time_limit_s=20)
    assert plan.info.objective == pytest.approx(32.0, abs=1e-9)
    assert plan.proven_optimal
    assert check_plan(inst, plan) == pytest.approx(32.0, abs=1e-9)
    assert sorted(plan.occupiers["share"]) == pytest.approx([0.5, 0.5])


@pytest.mark.solver
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_single_source_matches_brute_force(seed):
    """3 facilities x 6 customers: every one of the 3^6 assignments enumerated."""
    rng = np.random.default_rng(seed)
    demands = rng.integers(5, 20, 6).astype(float)
    capacities = np.full(3, np.ceil(demands.sum() / 2))
    fixed = rng.integers(10, 60, 3).astype(float)
    costs = rng.integers(1, 40, (3, 6)).astype(float)
    best = np.inf
    for assign in itertools.product(range(3), repeat=6):
        a = np.array(assign)
        load = np.bincount(a, weights=demands, minlength=3)
        if np.all(load <= capacities):
            best = min(best, fixed[np.unique(a)].sum() + costs[a, np.arange(6)].sum())
    inst = CFLPInstance(f"brute{seed}", capacities, fixed, demands, costs, single_source=True)
    plan = solve_instance(inst, time_limit_s=20)
    assert plan.proven_optimal
    assert plan.info.objective == pytest.approx(best, abs=1e-9)
    assert check_plan(inst, plan) == pytest.approx(best, abs=1e-9)


# ------------------------------------------------------------------------------------------
# published optima, every instance
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def holmberg_os() -> dict[str, float]:
    return holmberg_optima(HOLMBERG / "os")


@pytest.fixture(scope="module")
def cap_opt() -> dict[str, float]:
    return orlib_cap_optima(ORLIB / "bounds.txt")


@pytest.mark.solver
@pytest.mark.parametrize("name", HOLMBERG_NAMES)
def test_holmberg_published_optimum(name, holmberg_os):
    inst = read_holmberg(HOLMBERG / name)
    plan = solve_instance(inst, time_limit_s=3600)
    assert plan.proven_optimal, plan.info
    assert rel_error(plan.info.objective, holmberg_os[name]) <= REL_TOL, (plan.info.objective, name)
    assert rel_error(check_plan(inst, plan), holmberg_os[name]) <= REL_TOL


@pytest.mark.solver
@pytest.mark.parametrize("name", CAP_NAMES)
def test_orlib_cap_published_optimum(name, cap_opt):
    inst = read_orlib_cap(ORLIB / f"{name}.zip")
    plan = solve_instance(inst, time_limit_s=3600)
    assert plan.proven_optimal, plan.info
    assert rel_error(plan.info.objective, cap_opt[name]) <= REL_TOL, (plan.info.objective, cap_opt[name])
    assert rel_error(check_plan(inst, plan), cap_opt[name]) <= REL_TOL


@pytest.mark.solver
@pytest.mark.parametrize(("family", "name", "optimum"), [
    ("holmberg", "p1", 8848.0),
    ("orlib", "cap41", 1040444.375),
])
def test_cbc_agrees(family, name, optimum):
    inst = read_holmberg(HOLMBERG / name) if family == "holmberg" else read_orlib_cap(ORLIB / f"{name}.zip")
    plan = solve_instance(inst, solver="cbc", time_limit_s=1800)
    assert plan.info.solver == "CBC"
    assert plan.proven_optimal
    assert rel_error(plan.info.objective, optimum) <= REL_TOL


# ------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------
@pytest.mark.solver
def test_cli_holmberg_p1():
    done = subprocess.run(
        [sys.executable, "-m", "optimiser", "bench", "holmberg", str(HOLMBERG / "p1")],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "objective=8848.000000" in done.stdout
    assert "p1: " in done.stdout and "proven_optimal=True" in done.stdout and "solver=HiGHS" in done.stdout
    assert "published=8848.000000 rel_error=0.00e+00" in done.stdout


def test_cli_malformed_file_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "p_bad"
    bad.write_text("10 50\n258 366\n128 oops\n")
    done = subprocess.run(
        [sys.executable, "-m", "optimiser", "bench", "holmberg", str(bad)],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "p_bad line 3: the fixed cost of facility 2 should be a number, found 'oops'" in done.stderr


@pytest.mark.solver
def test_cli_orlib_cap_in_process(capsys):
    assert main(["bench", "orlib-cap", str(ORLIB / "cap41.zip"), "--time-limit", "600"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cap41: objective=1040444.375000 status=optimal proven_optimal=True")


def test_cli_errors_in_process(capsys, tmp_path):
    assert main(["bench", "orlib-cap", str(ORLIB / "capb.zip")]) == 2
    assert "--capacity" in capsys.readouterr().err
    assert main(["bench", "holmberg", str(tmp_path / "nope")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["bench", "holmberg", str(HOLMBERG / "p1"), "--time-limit", "0"]) == 2
    assert "--time-limit must be positive" in capsys.readouterr().err


@pytest.mark.solver
def test_cli_no_solution_exits_3(tmp_path, capsys):
    """Total demand above total capacity: the model's own pre-solve check says by how much."""
    bad = tmp_path / "p_short"
    bad.write_text("1 2\n10 5\n6 6\n1 1\n")
    assert main(["bench", "holmberg", str(bad)]) == 3
    assert "short by 2 m2" in capsys.readouterr().err
    # enough capacity in total, but one customer fits in no single facility: the solver says so
    unsplittable = tmp_path / "p_unsplittable"
    unsplittable.write_text("2 1\n5 1\n5 1\n6\n1\n1\n")
    assert main(["bench", "holmberg", str(unsplittable)]) == 3
    assert "cannot be met" in capsys.readouterr().err

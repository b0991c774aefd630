"""Progress and Stop before the solver starts: model building and the phased warm start.

Every test waits on events, never on the clock: a stop is set from the progress callback (or
from another thread once building has been seen) and the build must end with `StoppedByUser`
before the step after it is reported. No plan is returned by a stopped build.
"""

from __future__ import annotations

import threading

import pytest

from estate import load_place
from optimiser.background import SolveJob, progress_text
from optimiser.model import build_model
from optimiser.pipeline import optimise
from optimiser.progress import Progress
from optimiser.scenario import Scenario
from optimiser.stages import BUILDING, WARM_START, Steps, StoppedByUser
from tests.conftest import REPO

WAIT_S = 300.0  # a safety net only: every wait below is on an event


@pytest.fixture(scope="module")
def trafford():
    return load_place("trafford")


def test_steps_report_the_stage_and_rows_and_stop_only_when_asked() -> None:
    seen: list[str] = []
    cancel = threading.Event()
    steps = Steps(seen.append, cancel)
    steps.step("capacity rows", 12_345)
    steps.part(WARM_START).step("solving")
    assert seen == [f"{BUILDING}: capacity rows (12,345 rows so far)", f"{WARM_START}: solving"]
    cancel.set()
    with pytest.raises(StoppedByUser, match="Stopped by the user while building the model"):
        steps.step("conflict rows")
    assert len(seen) == 2  # the stopped step is not reported
    Steps().step("anything")  # no news, no cancel event: never stops


def test_a_stop_during_building_ends_the_build_at_the_next_step(trafford) -> None:
    seen: list[str] = []
    cancel = threading.Event()

    def news(stage: str) -> None:
        seen.append(stage)
        if "capacity rows" in stage:
            cancel.set()

    with pytest.raises(StoppedByUser, match="no plan was made"):
        build_model(trafford, Scenario(), steps=Steps(news, cancel))
    assert "capacity rows" in seen[-1]  # nothing after the stop was built or reported
    assert not any("access rows" in s for s in seen)


def test_without_a_stop_every_step_is_reported_with_its_rows(trafford) -> None:
    seen: list[str] = []
    model = build_model(trafford, Scenario(), steps=Steps(seen.append, threading.Event()))
    assert seen[0] == f"{BUILDING}: the allowed moves"
    assert any(s.startswith(f"{BUILDING}: access rows for ") for s in seen)
    assert seen[-1].startswith(f"{BUILDING}: the starting plan")
    assert seen[-1].endswith(f"({model.problem.numConstraints():,} rows so far)")


def test_a_stop_from_another_thread_while_building_stops_optimise(trafford) -> None:
    """Stop pressed while the first step is reported: optimise raises, with no plan."""
    building, cancel = threading.Event(), threading.Event()
    stages: list[str] = []

    def progress(p: Progress) -> None:
        stages.append(p.stage)
        if p.stage.startswith(BUILDING) and not building.is_set():
            building.set()
            assert cancel.wait(WAIT_S)  # the build waits here until Stop is pressed

    def press_stop() -> None:
        assert building.wait(WAIT_S)
        cancel.set()

    presser = threading.Thread(target=press_stop)
    presser.start()
    with pytest.raises(StoppedByUser):
        optimise(trafford, Scenario(time_limit_s=60), progress=progress, cancel=cancel)
    presser.join()
    assert "solving" not in stages


def test_a_stop_during_the_phased_warm_start_stops_before_the_joint_solve(trafford) -> None:
    cancel = threading.Event()
    stages: list[str] = []

    def progress(p: Progress) -> None:
        stages.append(p.stage)
        if p.stage.startswith(f"{WARM_START}: solving"):
            cancel.set()

    scenario = Scenario.from_toml(REPO / "data" / "scenarios" / "phased.toml")
    with pytest.raises(StoppedByUser, match=f"while {WARM_START}"):
        optimise(trafford, scenario, progress=progress, cancel=cancel)
    assert any(s.startswith(f"{WARM_START}: ") for s in stages)
    assert "solving" not in stages


def test_progress_runs_from_the_first_step_to_the_solve_on_one_clock(trafford) -> None:
    seen: list[Progress] = []
    plan = optimise(trafford, Scenario(time_limit_s=60), progress=seen.append)
    assert plan.info.status in {"optimal", "time_limit", "feasible"}
    assert seen[0].stage.startswith(BUILDING)
    first_solving = next(i for i, p in enumerate(seen) if p.stage == "solving")
    assert all(p.stage.startswith(BUILDING) for p in seen[:first_solving])
    building_elapsed = max(p.elapsed_s for p in seen[:first_solving])
    assert seen[first_solving].elapsed_s >= building_elapsed  # elapsed counts from Run, not restarted


def test_the_app_line_names_the_building_step_and_a_stop_there_leaves_no_plan(trafford) -> None:
    job = SolveJob(
        place="trafford", place_name="Trafford", estate_key="k", scenario=Scenario(time_limit_s=60)
    )
    lines: list[str] = []
    report = job._report

    def watch(p: Progress) -> None:
        report(p)
        lines.append(progress_text(job))
        if "housing rows" in p.stage:
            job.cancel.set()

    job._report = watch  # type: ignore[method-assign]
    job.run(trafford)
    assert job.done and job.record is None
    assert isinstance(job.error, StoppedByUser)
    assert lines[0].startswith("Building the model: the allowed moves… ")
    assert "of the 60 s time limit" in lines[0]
    assert any("housing rows (" in line for line in lines)


def test_a_stop_once_the_solver_runs_reads_as_stopped_by_the_user_never_as_a_time_limit(trafford) -> None:
    cancel = threading.Event()

    def news(p: Progress) -> None:
        if p.stage == "solving":
            cancel.set()  # Stop pressed as the solve starts: HiGHS stops inside its first LP

    try:
        plan = optimise(trafford, Scenario(time_limit_s=600), progress=news, cancel=cancel)
    except StoppedByUser:
        return  # stopped before a plan existed: no plan, and said so
    assert cancel.is_set()
    assert plan.info.status == "interrupted"
    assert plan.summary_dict()["status"] == "interrupted"

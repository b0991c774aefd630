"""A solve in a background thread, so that a front end (the app's pages) never freezes.

`SolveJob.start` builds, solves and summarises in a daemon thread, exactly as the CLI's
``run`` does; the page polls `SolveJob.done` and shows `progress_text`. No Streamlit here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from estate import Estate
from optimiser.partnership import partnership_plan
from optimiser.pipeline import optimise
from optimiser.progress import Progress
from optimiser.scenario import Scenario
from optimiser.store import SavedRun, run_from_plan


@dataclass(eq=False)
class SolveJob:
    """A solve running in a background thread, so the page never freezes."""

    place: str
    place_name: str
    estate_key: str
    scenario: Scenario
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)
    stage: str = "building the model and a starting plan"
    progress: Progress | None = None
    ran_by: str = ""
    record: SavedRun | None = None
    error: BaseException | None = None
    finished: float | None = None

    @property
    def done(self) -> bool:
        """True once the solve has finished, failed or been stopped."""
        return self.finished is not None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the run started (until it finished)."""
        return (self.finished or time.perf_counter()) - self.started

    def start(self, estate: Estate) -> None:
        """Run `run` on `estate` in a daemon thread (it stops with the process)."""
        threading.Thread(
            target=self.run, args=(estate,), name=f"solve-{self.scenario.name}", daemon=True
        ).start()

    def run(self, estate: Estate) -> None:
        """Build, solve and summarise (in the worker thread), exactly as the CLI's ``run`` does."""
        try:
            if self.scenario.standalone_plans or self.scenario.no_partner_worse_off == "standalone":
                plan = partnership_plan(estate, self.scenario, progress=self._report, cancel=self.cancel)
            else:
                plan = optimise(estate, self.scenario, progress=self._report, cancel=self.cancel)
            self.stage = "summarising"
            self.record = run_from_plan(
                estate, plan, place=self.place, estate_key=self.estate_key, ran_by=self.ran_by
            )
        except BaseException as err:  # reported on the page
            self.error = err
        finally:
            self.finished = time.perf_counter()

    def _report(self, progress: Progress) -> None:
        self.stage = progress.stage  # building (which step), the starting plan, or solving
        self.progress = progress


def progress_text(job: SolveJob) -> str:
    """One line on a running solve: stage, elapsed time against the time limit (from the first
    second, whatever the stage), the best plan's NPV, the bound and the gap as a share of NPV
    when known (`optimiser.progress.Progress.figures`)."""
    text = (
        f"{job.stage.capitalize()}… {job.elapsed_s:.1f} s of the {job.scenario.time_limit_s:g} s time limit"
    )
    p = job.progress
    if p is not None and job.stage != "summarising":  # the figures, from whichever stage
        text = " · ".join([text, *p.figures()])
    return text


__all__ = ["SolveJob", "progress_text"]

"""Progress and Stop before the solver starts: model building and the warm start.

`optimiser.model.build_model`, `optimiser.model_phased.build_phased_model` and the phased warm
start (`optimiser.programme.sequenced_start`) take an optional `Steps`. At every step (a family
of rows, one access standard, the starting plan) they call `Steps.step`, which first checks the
cancel event and raises `StoppedByUser` when it is set, then reports the stage, e.g.
"building the model: capacity rows (12,345 rows so far)", to a
`optimiser.progress.Ticker` (which repeats it every second). A stop during building or the warm
start therefore acts at the next step, and no partial model or plan is ever solved or read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from optimiser.errors import OptimiserError

BUILDING = "building the model"
WARM_START = "finding a starting plan"


class StoppedByUser(OptimiserError):
    """Stop was pressed before the solver started: there is no plan, and none is pretended."""

    exit_code = 3


def stopped_message(what: str) -> str:
    """The words for a run stopped while `what` (e.g. "building the model") was under way."""
    return (
        f"Stopped by the user while {what}, before the solver started: no plan was made, "
        "so there is nothing to show or save. Press Run to start again."
    )


@dataclass(frozen=True)
class Steps:
    """Where model building or the warm start has got to, and whether to stop.

    ``news`` receives each stage's words (None: report nothing); ``cancel`` is the run's
    cancel event (None: never stop). ``what`` is the part under way, named in each stage.
    """

    news: Callable[[str], None] | None = None
    cancel: threading.Event | None = None
    what: str = BUILDING

    def check(self) -> None:
        """Raise `StoppedByUser` when the cancel event is set."""
        if self.cancel is not None and self.cancel.is_set():
            raise StoppedByUser(stopped_message(self.what))

    def step(self, name: str, rows: int | None = None) -> None:
        """Stop here when asked; otherwise report that `name` is next (with the rows so far)."""
        self.check()
        if self.news is not None:
            text = f"{self.what}: {name}"
            if rows is not None:
                text += f" ({rows:,} rows so far)"
            self.news(text)

    def part(self, what: str) -> Steps:
        """The same news and cancel event for another part (e.g. the warm start)."""
        return Steps(self.news, self.cancel, what)


NO_STEPS = Steps()  # reports nothing and never stops


__all__ = ["BUILDING", "NO_STEPS", "WARM_START", "Steps", "StoppedByUser", "stopped_message"]

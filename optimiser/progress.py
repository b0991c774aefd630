"""Solve progress a user can read: elapsed time, the best plan's NPV, the bound, the gap.

Every part of the solve pipeline (the primal search, the exact solve) reports what it knows
to one `Ticker`, which passes each news item on at once and repeats the latest state at a
fixed interval (1 s), so a display is never more than that out of date, whichever part is
running. Money is in £k, as inside the model.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TextIO

TICK_S = 1.0  # the latest state is repeated at least this often while a solve runs
PRINT_EVERY_S = 2.0  # the CLI prints a progress line this often


@dataclass(frozen=True)
class Progress:
    """One progress report during a solve (money in £k).

    ``incumbent`` is the best plan's net present cost and ``bound`` a true lower bound on it
    (nan while unknown). ``today`` is the net present cost of keeping the estate as it is
    (nan when the model has no "today", e.g. a benchmark with an explicit cost table), so
    ``npv_k = today - incumbent`` is the plan's net present value against today.
    """

    elapsed_s: float
    incumbent: float  # best objective found so far (nan when none)
    bound: float
    gap: float  # relative to the incumbent, as HiGHS reports it
    stage: str = "solving"
    today: float = math.nan

    @property
    def npv_k(self) -> float:
        """The best plan's NPV against today's estate (nan when either is unknown)."""
        return self.today - self.incumbent

    @property
    def gap_k(self) -> float:
        """How much better a plan could still be: incumbent - bound (nan when unknown)."""
        return self.incumbent - self.bound

    @property
    def gap_share_of_npv(self) -> float:
        """`gap_k` as a share of the plan's NPV (inf when the NPV is not positive, nan unknown)."""
        npv, gap = self.npv_k, self.gap_k
        if math.isnan(npv) or math.isnan(gap):
            return math.nan
        return gap / npv if npv > 0 else math.inf

    def text(self) -> str:
        """One line, e.g. ``12 s · solving · plan NPV £227.6m · bound £2,964.6m · gap £26.3m (11.5% of NPV)``."""
        return " · ".join([f"{self.elapsed_s:.0f} s", self.stage, *self.figures()])

    def figures(self) -> list[str]:
        """The money parts of `text`: the best plan, the bound and the gap, as far as known."""
        parts: list[str] = []
        if math.isfinite(self.npv_k):
            parts.append(f"plan NPV {_money(self.npv_k)}")
        elif math.isfinite(self.incumbent):
            parts.append(f"plan net present cost {_money(self.incumbent)}")
        if math.isfinite(self.bound):
            parts.append(f"bound {_money(self.bound)}")
        if math.isfinite(self.gap_k):
            share = self.gap_share_of_npv
            gap = f"gap {_money(max(self.gap_k, 0.0))}"
            if math.isfinite(share):
                gap += f" ({max(share, 0.0):.1%} of NPV)"
            elif math.isfinite(self.gap):
                gap += f" ({self.gap:.2%} of the net present cost)"
            parts.append(gap)
        return parts


ProgressCallback = Callable[[Progress], None]


def _money(k: float) -> str:
    """£k as £m with one decimal (or £k below £1m)."""
    if abs(k) >= 1000:
        return f"£{k / 1000:,.1f}m"
    return f"£{k:,.0f}k"


class Printer:
    """Prints progress lines to a stream, at most one per `every_s` (the last one always).

    On a terminal the line is rewritten in place; elsewhere (a log) each report is a new line.
    Call `close` at the end to finish the line.
    """

    def __init__(self, stream: TextIO, *, every_s: float = PRINT_EVERY_S) -> None:
        self.stream = stream
        self.every_s = every_s
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = -math.inf
        self._width = 0
        self._lock = threading.Lock()

    def __call__(self, progress: Progress) -> None:
        with self._lock:
            if progress.elapsed_s - self._last < self.every_s:
                return
            self._last = progress.elapsed_s
            line = progress.text()
            if self.tty:
                self.stream.write("\r" + line.ljust(self._width))
                self._width = len(line)
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self.tty and self._width:
                self.stream.write("\n")
                self.stream.flush()
            self._width = 0


class Ticker:
    """Collects news from every part of a solve and reports it, repeated every `interval_s`.

    `news` takes what a part knows (any of incumbent, bound, stage); the best incumbent and
    the highest bound are kept, since each part's figures are true for the whole model. Use
    as a context manager: the repeating thread runs inside the ``with`` block only.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        *,
        today: float = math.nan,
        interval_s: float = TICK_S,
        clock: Callable[[], float] = time.perf_counter,
        since: float | None = None,
    ) -> None:
        self.callback = callback
        self.interval_s = interval_s
        self._clock = clock
        self._started = clock() if since is None else since  # `since`: elapsed counts from then
        self._lock = threading.Lock()
        self._state = Progress(0.0, math.nan, math.nan, math.nan, stage="building", today=today)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def latest(self) -> Progress:
        with self._lock:
            return replace(self._state, elapsed_s=self._clock() - self._started)

    def news(self, *, incumbent: float = math.nan, bound: float = math.nan, stage: str | None = None) -> None:
        """Record what one part knows now, and report at once."""
        with self._lock:
            state = self._state
            best = state.incumbent
            if math.isfinite(incumbent) and not incumbent >= best:
                best = incumbent
            high = state.bound
            if math.isfinite(bound) and not bound <= high:
                high = bound
            if math.isfinite(best) and math.isfinite(high):
                gap = abs(best - high) / max(abs(best), 1e-9)
            else:
                gap = math.nan
            self._state = replace(state, incumbent=best, bound=high, gap=gap, stage=stage or state.stage)
        self._emit()

    def _emit(self) -> None:
        if self.callback is not None:
            self.callback(self.latest)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._emit()

    def __enter__(self) -> Ticker:
        if self.callback is not None:
            self._thread = threading.Thread(target=self._run, name="solve-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

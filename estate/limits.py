"""Resource limits: one place for every bound on what an input may ask of the machine.

Each limit is documented in ``docs/limits.md`` (value, where enforced, message); the CLI and
the app import the same constants and the same checks, so they enforce them identically.
"""

from __future__ import annotations

import os

MAX_SETTINGS_FILE_BYTES = 5_000_000  # a scenario, mapping or sweep grid file
MAX_GRID_SCENARIOS = 10_000  # scenario rows of one sweep grid: [grid] combinations + [[scenarios]]
MAX_SWEEP_JOBS = 100_000  # places x scenario rows of one sweep
MAX_SWEEP_RETRIES = 10  # retries of a sweep job that raises
MAX_MONEY_GBP = 1e12  # any money figure in a scenario (a budget or target), in pounds


class LimitWarning(UserWarning):
    """A setting was lowered to a limit (e.g. threads to the machine's cores); the run goes on."""


def machine_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def cap_to_cores(count: int | None, *, what: str) -> tuple[int | None, str | None]:
    """`count` (threads or worker processes) no larger than the machine's cores.

    Returns the count to use and, when it was lowered, a message saying so (`what` names the
    setting, e.g. ``"threads = 100000"`` or ``"--workers 64"``). None stays None.
    """
    cores = machine_cores()
    if count is None or count <= cores:
        return count, None
    return (
        cores,
        f"{what} is more than this machine's {cores} CPU core(s); using {cores} (see docs/limits.md).",
    )

"""What a result depends on: digests of an estate's input tables and of the optimiser's code.

`estate_digest` names the data of a run (``run.json``'s ``estate_sha256``) and of a sweep's
place; `code_version` the code and solver versions (``optimiser_code``; part of every sweep
job key, so a change of code reruns the jobs it could change).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from estate import Estate

# optimiser files whose code a job's result depends on (part of every job key); front ends
# (CLI, app, maps, reports) do not change results and are left out
CODE_FILES = (
    "access.py",
    "costs.py",
    "errors.py",
    "model.py",
    "model_partners.py",
    "outcomes.py",
    "partners.py",
    "partnership.py",
    "pipeline.py",
    "plan.py",
    "scenario.py",
    "solver.py",
    "sweep/jobs.py",
    "sweep/places.py",
)
_CODE_VERSION: list[str] = []


def estate_digest(estate: Estate, *, extra: str = "") -> str:
    """sha256 of an estate's input tables and travel model: what a plan on it depends on."""
    digest = hashlib.sha256()
    e = estate
    for frame in (e.buildings, e.occupiers, e.zones, e.access, e.compatibility):
        table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        table = table.drop(columns="source_row", errors="ignore").sort_index(axis=1)
        digest.update(table.to_csv(float_format="%.17g").encode())
    digest.update(f"{extra}|{e.travel}".encode())  # `extra` first, as job keys have always been made
    return digest.hexdigest()


def code_version() -> str:
    """sha256 (16 hex) of the code a job's result depends on, and the solver versions.

    That is every ``estate`` module and the ``optimiser`` files in `CODE_FILES` (a file that
    does not exist counts as empty).
    """
    if not _CODE_VERSION:
        # the solver stack, imported on first use: a digest of data needs no solver
        import highspy
        import pulp

        root = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256()
        paths = sorted((root / "estate").rglob("*.py")) + [root / "optimiser" / name for name in CODE_FILES]
        for path in paths:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes() if path.exists() else b"")
        digest.update(f"pulp {pulp.__version__} highspy {getattr(highspy, '__version__', '')}".encode())
        _CODE_VERSION.append(digest.hexdigest()[:16])
    return _CODE_VERSION[0]


__all__ = ["CODE_FILES", "code_version", "estate_digest"]

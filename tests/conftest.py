"""Shared fixtures: tiny hand-built estates and paths to small real files."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data."""
    return DATA

"""Public estate data: read partners' registers, validate them, and hold them as an Estate."""

from __future__ import annotations

from estate.errors import EstateDataWarning, EstateError, EstateValidationError, Issue
from estate.geometry import TravelModel
from estate.io import PLACES, load_estate, load_place, read_table
from estate.mapping import Mapping, builtin_mappings, load_mapping
from estate.model import Estate

__all__ = [
    "PLACES",
    "Estate",
    "EstateDataWarning",
    "EstateError",
    "EstateValidationError",
    "Issue",
    "Mapping",
    "TravelModel",
    "builtin_mappings",
    "load_estate",
    "load_mapping",
    "load_place",
    "read_table",
]

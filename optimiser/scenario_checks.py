"""Scenario values checked one at a time, for a form: the scenario file's own rules and messages.

The rules live in `optimiser.scenario` (`FIELD_KEYS`, `STANDARD_KEYS`, `AccessStandard`); this
module only asks them about one value, or one access standard, so that the app can show the
reason beside the widget that holds it, in the same words a scenario file gets. It adds one
rule that needs the estate: an access standard must name a service the estate has.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any

from optimiser.errors import ScenarioError
from optimiser.scenario import FIELD_KEYS, AccessStandard


def field_problem(name: str, value: Any) -> str | None:
    """Why `value` is refused for the Scenario field `name`, in the scenario file's words, or None.

    ``field_problem("years", 0)`` -> ``"appraisal.years = 0 is out of range. Allowed: a whole
    number from 1 to 100. Fix: e.g. years = 10."``
    """
    section, key = FIELD_KEYS[name]
    try:
        key.check(value, source="", where=section, error=ScenarioError)
    except ScenarioError as err:
        return str(err)
    return None


def standard_problem(values: Mapping[str, Any], services: Collection[str] = ()) -> str | None:
    """Why one access standard (the `AccessStandard` fields as a mapping) is refused, or None.

    `services` are the estate's services; when given, a standard for any other service is
    refused too (it would constrain nothing, or make a ``min_share`` impossible).
    """
    try:
        standard = AccessStandard(**dict(values))
    except ScenarioError as err:
        return str(err)
    except TypeError as err:  # a field the standard does not have
        return f"access standard: {err}."
    if services and standard.service not in services:
        return unknown_service(standard.service, services)
    return None


def unknown_service(service: str, services: Collection[str]) -> str:
    """The message for an access standard naming a service the estate does not have."""
    known = sorted(str(s) for s in services)
    near = difflib.get_close_matches(service, known, n=1)
    fix = f"did you mean {near[0]}? Pick" if near else "Pick"
    return (
        f"access.services.{service}: this estate has no service called {service!r}, so the standard "
        f"would constrain nothing. Allowed: one of {', '.join(known)}. Fix: {fix} a service from the "
        "list, or delete the row."
    )


__all__ = ["field_problem", "standard_problem", "unknown_service"]

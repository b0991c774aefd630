"""Compare, the top part: options of the same place by default, and where the chosen ones differ.

Called from pages/compare.py. The differences are worked out by `optimiser.report.differences`
(decisions: kept in one, disposed of in another, moves; constraints: scenario values); this
module only draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from optimiser.report.differences import (
    Option,
    constraint_differences,
    decision_differences,
    same_place_defaults,
)
from optimiser.store import RunInfo
from pages import common


def default_choice(runs: Sequence[RunInfo]) -> list[int]:
    """The two newest saves of the newest run's place (this session's place if it ran, else the
    newest save's place)."""
    place = st.session_state.get("place")
    ran_here = isinstance(place, str) and common.latest(place) is not None
    return [int(r) for r in same_place_defaults(runs, place if ran_here else None)]


def differences(records: Sequence[Any], names: Sequence[str]) -> None:
    """Where the chosen options differ, in plain words: decisions, then constraints."""
    options = [
        Option(name, r.scenario, r.tables["buildings"], r.tables.get("occupiers"))
        for name, r in zip(names, records, strict=True)
    ]
    places = {r.place_name for r in records}
    st.subheader("Where these options differ")
    if len(places) > 1:
        st.warning(
            f"These options are of different places ({', '.join(sorted(places))}): their buildings "
            "differ, so only their constraints are compared."
        )
        decisions: list[str] = []
    else:
        decisions = decision_differences(options)
    constraints = constraint_differences(options)
    d, c = st.columns(2)
    with d:
        st.markdown("**Decisions**")
        if decisions:
            st.markdown("\n".join(f"- {line}" for line in decisions))
        elif len(places) == 1:
            st.caption("The same buildings are kept and disposed of, with the same moves.")
    with c:
        st.markdown("**Constraints** (scenario values)")
        if constraints:
            st.markdown("\n".join(f"- {line}" for line in constraints))
        else:
            st.caption("The same scenario values.")


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()

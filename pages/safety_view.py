"""Safe by design: deleting with a confirmation, and a word when there is nothing to optimise.

Called from pages/scenario.py. Deleting takes two presses: Delete names the saved scenario and
asks; only "Yes, delete it" deletes, and the message after says what was deleted. A scenario
just saved becomes the selector's choice, so Delete never acts on an older one still held there.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from estate import Estate
from optimiser.store import RunInfo
from pages import common

CHOICE_KEY = "delete_choice"
PENDING_KEY = "delete_pending"
DONE_KEY = "delete_done"


def choose_after_save(run_id: int) -> None:
    """Make the scenario just saved the one the Delete selector holds."""
    st.session_state[CHOICE_KEY] = int(run_id)
    st.session_state.pop(PENDING_KEY, None)


def delete_box(saved_all: Sequence[RunInfo]) -> None:
    """The selector of saved scenarios, Delete, and its confirmation."""
    if (done := st.session_state.pop(DONE_KEY, None)) is not None:
        st.success(done)
    labels = {i.run_id: i.label + (" (cannot be read)" if i.problem else "") for i in saved_all}
    if not labels:
        return
    if st.session_state.get(CHOICE_KEY) not in labels:
        st.session_state[CHOICE_KEY] = next(iter(labels))
    d1, d2 = st.columns([3, 1])
    chosen = d1.selectbox("Saved scenario", list(labels), format_func=labels.get, key=CHOICE_KEY)
    can_delete = common.allowed("delete")
    if d2.button(
        "Delete",
        key="delete_go",
        disabled=not can_delete,
        help=None if can_delete else "Needs the admin role.",
    ):
        st.session_state[PENDING_KEY] = int(chosen)
    pending = st.session_state.get(PENDING_KEY)
    if pending is None:
        return
    if pending not in labels or pending != chosen:  # deleted elsewhere, or another one chosen
        st.session_state.pop(PENDING_KEY, None)
        return
    st.warning(
        f"Delete the saved scenario “{labels[pending]}”? Its plan and figures go; this cannot be undone."
    )
    y, n, _ = st.columns([1, 1, 2])
    if y.button("Yes, delete it", key="delete_confirm", type="primary", disabled=not can_delete):
        st.session_state.pop(PENDING_KEY, None)
        if common.delete_run(int(pending)):
            st.session_state[DONE_KEY] = f"Deleted the saved scenario “{labels[pending]}”."
            st.session_state.pop(CHOICE_KEY, None)
            st.rerun()
    if n.button("Cancel", key="delete_cancel"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()


def nothing_to_optimise(estate: Estate) -> str | None:
    """Why no plan can differ from today's estate, or None when there is something to decide."""
    b = estate.buildings
    total = len(b)
    fixed = int(b["fixed"].astype(bool).sum()) if "fixed" in b else 0
    if total == 0 or fixed < total:
        return None
    reasons = b["fixed_reason"].astype(str).value_counts() if "fixed_reason" in b else None
    common_reason = f" (most often: {reasons.index[0]})" if reasons is not None and len(reasons) else ""
    return (
        f"Nothing to optimise: every one of the {total:,} buildings is fixed (kept as it is) because "
        f"figures the model needs are missing{common_reason}, so every plan keeps them all and "
        "changes nothing. Fill in the missing figures (the Estate page's Data issues list them "
        "per building), then load the register again."
    )


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()

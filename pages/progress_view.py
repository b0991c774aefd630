"""The progress line of a running solve, kept in view next to Run (issue 14).

`show` draws, in the place the Scenario page keeps just above its form's Run button, a
fragment that re-runs every half second: the stage (which step of building, the starting
plan, or solving), the elapsed time against the time limit and, as soon as they exist, the
best plan's NPV, the bound and the gap in £ and as a share of NPV
(`optimiser.background.progress_text`), with the Stop button beside it. The box sticks to
the top of the window while the form scrolls, so the line stays in view from either Run.
"""

from __future__ import annotations

import streamlit as st

from optimiser import background
from pages import common

STICKY_CSS = """
<style>
div[data-testid="stVerticalBlock"]:has(> div .estate-progress) {
  position: sticky; top: 3.5rem; z-index: 990; background: var(--background-color, white);
}
</style>
"""


@st.fragment(run_every=0.5)
def _line() -> None:
    job = st.session_state.get("job")
    if job is None:
        return
    if job.done:
        common.finish_job(job)
        st.rerun()
    st.markdown('<span class="estate-progress"></span>', unsafe_allow_html=True)
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(background.progress_text(job))
    right.button(
        "Stop, and keep the best plan so far",
        on_click=common.stop_solve,
        args=(job,),
        key="stop_run",
        width="stretch",
        disabled=job.cancel.is_set() or not common.allowed("run"),
    )


def show(place: str) -> None:
    """The progress line of the session's solve on `place` (nothing when none runs)."""
    job = st.session_state.get("job")
    if job is None:
        return
    if job.place != place:
        st.info(f"A run on {job.place_name} is in progress; switch back to it to follow it.")
        return
    st.markdown(STICKY_CSS, unsafe_allow_html=True)
    _line()


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()

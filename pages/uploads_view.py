"""Saved uploads: registers uploaded before (this session or an earlier run of the app), offered again.

Called from pages/estate.py. An upload that loads is kept in the app's data directory
(`optimiser.saved_uploads`: a copy, the files as sent); this box lists them, loads one again
(with the same checks) and deletes one after a confirmation, like a saved scenario.
"""

from __future__ import annotations

import streamlit as st

from estate.upload import UploadResult
from optimiser import saved_uploads
from pages import common

CHOICE_KEY = "saved_upload_choice"
PENDING_KEY = "saved_upload_pending"
DONE_KEY = "saved_upload_done"
ERROR_KEY = "saved_upload_error"


def keep(result: UploadResult, files: dict[str, tuple[str, bytes]], mapping_text: str) -> None:
    """Keep a copy of an upload that loaded, so it is offered again after a restart."""
    if result.estate is None:
        return
    try:
        saved_uploads.save(result.key, result.name, files, mapping_text)
    except (OSError, ValueError) as err:
        st.warning(f"The upload could not be kept for next time ({err}); it is loaded for this session.")


def _load_again(key: str) -> None:
    """Button callback (before the sidebar is drawn, so the place can change): load a kept upload."""
    if not common.permit("upload"):
        return
    files, mapping = saved_uploads.read(key)
    result = common.load_uploads(files, mapping)
    if result.estate is None:
        st.session_state[ERROR_KEY] = result
    else:
        common.use_upload(result)


def saved_box() -> None:
    """The selector of kept uploads: work on one again, or delete it (asks first)."""
    if (done := st.session_state.pop(DONE_KEY, None)) is not None:
        st.success(done)
    kept = {s.key: s for s in saved_uploads.saved()}
    st.markdown("**Registers uploaded before** (kept in the app's data directory)")
    if not kept:
        st.caption("None yet: a register that loads is kept here, and offered again after a restart.")
        return
    if st.session_state.get(CHOICE_KEY) not in kept:
        st.session_state[CHOICE_KEY] = next(iter(kept))
    c1, c2, c3 = st.columns([3, 1, 1])
    chosen = c1.selectbox("Saved upload", list(kept), format_func=lambda k: kept[k].label, key=CHOICE_KEY)
    c2.button("Load again", key="saved_upload_load", on_click=_load_again, args=(chosen,))
    if (result := st.session_state.pop(ERROR_KEY, None)) is not None:
        for reason in result.refused:
            st.error(reason)
        if result.error is not None:
            common.show_error(result.error, what="The saved upload could not be loaded")
    if c3.button("Delete", key="saved_upload_delete"):
        st.session_state[PENDING_KEY] = chosen
    pending = st.session_state.get(PENDING_KEY)
    if pending is None or pending != chosen:
        st.session_state.pop(PENDING_KEY, None)
        return
    st.warning(f"Delete the saved upload “{kept[pending].label}”? Its kept copy goes; this cannot be undone.")
    y, n, _ = st.columns([1, 1, 2])
    if y.button("Yes, delete it", key="saved_upload_confirm", type="primary") and common.permit("upload"):
        st.session_state.pop(PENDING_KEY, None)
        if saved_uploads.delete(pending):
            st.session_state[DONE_KEY] = f"Deleted the saved upload “{kept[pending].label}”."
            st.session_state.pop(CHOICE_KEY, None)
        st.rerun()
    if n.button("Cancel", key="saved_upload_cancel"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()

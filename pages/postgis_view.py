"""Load registers from a PostGIS database on the Estate page (`estate.postgis`).

The password is typed in its own box and only joined to the URL in memory for the connection;
the source names kept with the estate (and so in provenance and saved scenarios) never hold it.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import streamlit as st

from estate import load_estate
from estate.postgis import is_database, masked_url
from estate.upload import UploadResult

RESULT_KEY = "upload_result"  # the Estate page shows this result as it shows an upload's


def with_password(url: str, password: str) -> str:
    """`url` with `password` put in (percent-encoded), unless it is blank or the URL has one."""
    url = url.strip()
    if not password:
        return url
    scheme, sep, rest = url.partition("://")
    user, at, host = rest.partition("@")
    if not sep or not at or ":" in user:
        return url
    return f"{scheme}://{user}:{quote(password, safe='')}@{host}"


def read(url: str, password: str) -> UploadResult:
    """Read the estate a ``postgresql://...#schema.buildings`` URL names; a result, never a raise."""
    head, _, fragment = url.strip().partition("#")
    key = "upload:" + hashlib.sha256(f"{masked_url(head)}#{fragment}".encode()).hexdigest()[:12]
    name = fragment.rpartition(".")[0] or masked_url(head).rpartition("/")[2] or "database"
    if not is_database(url):
        return UploadResult(key, name, refused=("Give a URL that starts with postgresql://",))
    try:
        estate = load_estate(with_password(url, password), name=name)
    except Exception as err:  # EstateError with a plain message; the password is never in it
        return UploadResult(key, name, error=err)
    return UploadResult(key, name, estate=estate)


def form() -> None:
    """URL, password and a button; the result appears where an upload's does."""
    with st.expander("…or read them from a PostGIS database", expanded=False):
        st.caption(
            "postgresql://user@host:5432/database#schema.buildings reads that table, and the schema's "
            "occupiers, zones, access and compatibility tables when it has them. The password is used "
            "to connect and is never shown or saved."
        )
        url = st.text_input(
            "Database URL", key="pg_url", placeholder="postgresql://user@host/db#schema.buildings"
        )
        password = st.text_input("Password", key="pg_password", type="password")
        if st.button("Read from the database", key="pg_go", disabled=not url.strip()):
            with st.spinner("Reading and checking the registers…"):
                st.session_state[RESULT_KEY] = read(url, password)


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    from pages import common

    common.page_guard()

"""Lock pickers that cope with any number of buildings.

Up to `LIST_MAX` buildings the Scenario form's pickers list every building (a multiselect the
browser searches). Above that, a list of every building is too much for the browser (250,000
options gave "Maximum call stack size exceeded"), so the form takes the locked buildings' IDs as
text, and a search box above the form looks buildings up on the server: an index of
``ID name partner borough`` built once per estate, showing at most `SHOWN` matches.
"""

from __future__ import annotations

import os
import re

import pandas as pd
import streamlit as st

from estate import Estate

LIST_MAX = 2_000  # more buildings than this: search on the server instead of listing them all
LIST_MAX_ENV = "ESTATE_LOCK_LIST_MAX"  # sets LIST_MAX (for tests and very slow browsers)
SHOWN = 50  # most matches shown for one search
SPLIT = re.compile(r"[\s,;]+")


def list_max() -> int:
    """The most buildings a picker lists (`LIST_MAX`, or the ``ESTATE_LOCK_LIST_MAX`` setting)."""
    given = os.environ.get(LIST_MAX_ENV, "").strip()
    return int(given) if given.isdigit() else LIST_MAX


def is_large(estate: Estate) -> bool:
    """Whether the estate is too large for a picker that lists every building."""
    return len(estate.buildings) > list_max()


@st.cache_data(max_entries=4, show_spinner=False)
def _index(estate_key: str, _estate: Estate) -> pd.Series:
    """Lower-case ``ID name partner borough`` per building ID: the search index."""
    b = _estate.buildings
    parts = [pd.Series(b.index.astype(str), index=b.index)]
    parts += [b[c].astype(str) for c in ("name", "owner", "borough") if c in b]
    text = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
    return text.str.lower()


def search(estate: Estate, estate_key: str, query: str, *, most: int = SHOWN) -> tuple[pd.DataFrame, int]:
    """Buildings whose ID, name, partner or borough hold every word of `query`; (first `most`, how many)."""
    words = [w for w in query.lower().split() if w]
    if not words:
        return pd.DataFrame(columns=["building_id", "name", "partner", "borough"]), 0
    index = _index(estate_key, estate)
    hit = pd.Series(True, index=index.index)
    for word in words:
        hit &= index.str.contains(word, regex=False)
    ids = index.index[hit.to_numpy()]
    b = estate.buildings.loc[ids[:most]]
    shown = pd.DataFrame(
        {
            "building_id": b.index.astype(str),
            "name": b["name"].astype(str) if "name" in b else "",
            "partner": b["owner"].astype(str) if "owner" in b else "",
            "borough": b["borough"].astype(str) if "borough" in b else "",
        }
    )
    return shown, len(ids)


def search_box(estate: Estate, estate_key: str, *, key: str) -> None:
    """Above the form, for a large estate: find buildings and their IDs to lock."""
    if not is_large(estate):
        return
    st.markdown(
        f"**Find buildings to lock** ({len(estate.buildings):,} buildings: search, then copy the IDs)"
    )
    query = st.text_input(
        "Search by ID, name, partner or borough (every word must match)",
        key=key + "lock_search",
        placeholder="e.g. library stockport",
    )
    if not query.strip():
        return
    shown, found = search(estate, estate_key, query)
    if not found:
        st.caption(f"No building matches “{query}”.")
        return
    more = f" (the first {SHOWN} shown; add words to narrow it)" if found > SHOWN else ""
    st.caption(f"{found:,} building(s) match{more}.")
    st.dataframe(shown, hide_index=True, width="stretch", height=min(36 * (len(shown) + 1), 320))


def ids_box(
    column: st.delta_generator.DeltaGenerator, label: str, default: tuple[str, ...], *, key: str
) -> tuple[str, ...]:
    """Inside the form, for a large estate: the locked buildings' IDs as text."""
    text = column.text_area(
        f"{label} (building IDs, separated by commas or new lines)",
        value="\n".join(default),
        key=key,
        height=100,
        help="Find IDs with the search above the form. An ID not in the estate is refused when you press Run.",
    )
    return tuple(dict.fromkeys(i for i in SPLIT.split(text) if i))


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    from pages import common

    common.page_guard()

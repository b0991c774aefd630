"""The board pack's download buttons (PDF and HTML), for Results, Compare and Export, and
tables shown in the words a person uses (`show_table`).

Only Streamlit glue: the pack is written by `optimiser.report.boardpack` (from the run's summary,
tables and scenario), its PDF by `optimiser.report.pdf`. Both are made when a button is pressed
(a deferred download), so drawing a page costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

from estate.io import DATA_DIR
from pages import common

if TYPE_CHECKING:
    from optimiser.report.boardpack import PackOption
    from optimiser.store import SavedRun


def show_table(frame: Any, **kwargs: Any) -> None:
    """A table with the words a person uses: display-name headings, codes as names
    (`optimiser.report.words.readable_table`) and figures with thousands separators."""
    import pandas as pd

    from optimiser.report.words import readable_table

    table = readable_table(pd.DataFrame(frame))
    numbers = {
        c: st.column_config.NumberColumn(format="localized")
        for c in table.columns
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
    }
    config = {**numbers, **kwargs.pop("column_config", {})}
    st.dataframe(table, hide_index=True, width="stretch", column_config=config, **kwargs)


def pack_option(record: SavedRun, *, label: str = "") -> PackOption:
    """A saved or fresh run as a board-pack option, with the bundled estate's borough boundaries."""
    from optimiser.report.boardpack import PackOption
    from optimiser.report.staticmap import boundaries_for

    zones = record.tables.get("zones")
    gpkg = DATA_DIR / f"{record.place}.gpkg" if not str(record.place).startswith("upload:") else None
    return PackOption(
        record.summary,
        record.tables,
        record.scenario,
        boundaries_for(zones, gpkg),
        label=label or record.name,
    )


def pack_html(records: Sequence[SavedRun], *, plan_map: Any = None) -> str:
    """The pack of one run (with `plan_map` for the screen, if given), or of 2-4 side by side."""
    from optimiser.report.boardpack import board_pack_html, options_pack_html

    if len(records) == 1:
        option = pack_option(records[0])
        return board_pack_html(
            summary=option.summary,
            tables=option.tables,
            scenario=option.scenario,
            boundaries=option.boundaries,
            plan_map=plan_map,
        )
    places = {r.place_name for r in records}
    return options_pack_html(
        [pack_option(r, label=r.name if len(places) == 1 else f"{r.name} ({r.place_name})") for r in records]
    )


def pack_pdf(records: Sequence[SavedRun]) -> bytes:
    """The pack as an A4 PDF."""
    from optimiser.report.pdf import pdf_bytes

    return pdf_bytes(pack_html(records))


def file_stem(records: Sequence[SavedRun]) -> str:
    """A file name for the pack: place and option names, safe on every system."""
    text = "_".join(f"{r.place_name}_{r.name}" for r in records[:4])
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:120] or "board_pack"


def pack_buttons(
    records: Sequence[SavedRun], *, key: str, html_maker: Callable[[], str] | None = None, where: Any = None
) -> None:
    """The board pack's PDF and HTML download buttons, side by side."""
    stem = file_stem(records)
    box = where or st
    c1, c2 = box.columns(2)
    common.download_button(
        "Board pack (PDF, A4)",
        lambda: pack_pdf(records),
        action="download_pack",
        where=c1,
        file_name=f"{stem}_board_pack.pdf",
        mime="application/pdf",
        key=f"{key}_pack_pdf",
    )
    common.download_button(
        "Board pack (HTML)",
        html_maker or (lambda: pack_html(records)),
        action="download_pack",
        where=c2,
        file_name=f"{stem}_board_pack.html",
        mime="text/html",
        key=f"{key}_pack_html",
    )


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    common.page_guard()

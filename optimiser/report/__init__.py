"""Every output of a plan: KPI formatting, files, maps and the board pack. No Streamlit.

- `kpis`: the KPI keys, cards, number formats and readable tables every page shares;
- `files`: every export (the run folder, Excel, GeoJSON, GeoPackage, the CSV zip);
- `maps`: folium maps that work offline;
- `boardpack`: the printable, self-contained board pack;
- `inert`: text cells a spreadsheet will not run (the one escaping rule for every file);
- `rundir`: run folders written whole or not at all, with a manifest readers check.

It formats a `Plan`; it never builds or solves a model. Only the light modules are re-exported
here; import `files` (it needs the plan, and so PuLP), `maps` and `boardpack` (folium) by name,
so that a page or a sweep worker that only formats figures loads neither.
"""

from __future__ import annotations

from optimiser.report.inert import csv_text, excel_bytes, inert_frame, inert_text, original_text
from optimiser.report.kpis import (
    KPI_KEYS,
    MODELLED_FILE_NOTE,
    MODELLED_FOOTNOTE,
    MODELLED_NOTE,
    KpiCard,
    access_table,
    disposals_table,
    format_money,
    format_number,
    format_value,
    is_blank,
    kpi_cards,
    kpi_table,
    modelled_set,
    partner_savings,
    savings_breakdown,
)
from optimiser.report.rundir import RunDirError, check_run_target, verify_run_dir, write_run_dir

__all__ = [
    "KPI_KEYS",
    "MODELLED_FILE_NOTE",
    "MODELLED_FOOTNOTE",
    "MODELLED_NOTE",
    "KpiCard",
    "RunDirError",
    "access_table",
    "check_run_target",
    "csv_text",
    "disposals_table",
    "excel_bytes",
    "format_money",
    "format_number",
    "format_value",
    "inert_frame",
    "inert_text",
    "is_blank",
    "kpi_cards",
    "kpi_table",
    "modelled_set",
    "original_text",
    "partner_savings",
    "savings_breakdown",
    "verify_run_dir",
    "write_run_dir",
]

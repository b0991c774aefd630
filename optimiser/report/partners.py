"""The partner figures as the app and the board pack show them: who gains, who pays, stand-alone.

Reads a saved plan's ``partners`` table and ``summary.json`` only (no model, no solve).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from optimiser.report.inert import inert_text, original_text
from optimiser.report.kpis import format_money
from optimiser.report.words import display_name

SHARE = "share under the rule"
STANDALONE = "stand-alone plan"


def partnership_headline(summary: Mapping[str, Any]) -> str | None:
    """'£4,378,828': the partnership value, or None when stand-alone plans were not solved."""
    value = summary.get("partnership_value_gbp")
    return None if value is None else format_money(value)


def partner_chart(partners: pd.DataFrame) -> pd.DataFrame:
    """Long table for diverging bars: per partner its NPV under the sharing rule and, when
    solved, its stand-alone NPV, each with its label (``£1,644,874``, ``-£803,243``).

    Partners with nothing either way are left out; largest share first.
    """
    columns = ["partner", "measure", "gbp", "label"]
    if partners.empty or "npv_gbp" not in partners:
        return pd.DataFrame(columns=columns)
    table = partners.copy()
    standalone = (
        table["standalone_npv_gbp"] if "standalone_npv_gbp" in table else pd.Series(float("nan"), table.index)
    )
    table = table.assign(standalone=pd.to_numeric(standalone, errors="coerce"))
    table = table[(table["npv_gbp"].abs() > 0.5) | (table["standalone"].fillna(0).abs() > 0.5)]
    table = table.sort_values("npv_gbp", ascending=False)
    rows = []
    for _, r in table.iterrows():
        rows.append((str(r["partner"]), SHARE, float(r["npv_gbp"]), format_money(r["npv_gbp"])))
        if pd.notna(r["standalone"]):
            rows.append(
                (str(r["partner"]), STANDALONE, float(r["standalone"]), format_money(r["standalone"]))
            )
    return pd.DataFrame(rows, columns=columns)


def partner_table(partners: pd.DataFrame) -> pd.DataFrame:
    """The ledger, readable: who gains and who pays, in pounds as shown everywhere."""
    names = {
        "partner": "partner",
        "group": "group",
        "npv_gbp": "NPV under the rule",
        "standalone_npv_gbp": "stand-alone NPV",
        "capital_receipts_gbp": "receipts",
        "annual_revenue_saving_gbp": "saving a year",
        "move_cost_gbp": "moves",
        "occupancy_charges_paid_gbp": "occupancy charges paid",
        "occupancy_charges_received_gbp": "occupancy charges received",
        "buildings_before": "buildings before",
        "buildings_after": "after",
    }
    table = partners[[c for c in names if c in partners]].copy()
    for column in table.columns:
        if column.endswith("_gbp"):
            table[column] = table[column].map(format_money)
    return table.rename(columns=names)


def partnership_range_words(f: Mapping[str, Any]) -> str:
    """The partnership value's range from the bounds, and whether it is proven, in words.

    `f` holds the figures of `optimiser.partnership.partnership_plan` (a plan's ``partnership``
    or its ``summary.json``): the true value lies between the joint incumbent less each
    stand-alone bound and the joint bound less the stand-alone incumbents.
    """
    low, high = f.get("partnership_value_low_gbp"), f.get("partnership_value_high_gbp")
    if low is None:
        return ""
    low = float(low)
    high = math.inf if high is None else float(high)
    span = (
        f"between {format_money(low)} and {format_money(high)}"
        if math.isfinite(high)
        else f"at least {format_money(low)}"
    )
    if f.get("partnership_value_proven"):
        words = f"proven (every solve optimal within its gap): the true value is {span}"
    else:
        unproven = (
            [] if f.get("joint_proven_optimal") else [f"the joint solve stopped ({f.get('joint_status')})"]
        )
        if not f.get("standalone_proven_optimal"):
            unproven.append("some stand-alone solves stopped before proving optimal")
        words = f"not proven ({'; '.join(unproven) or 'a solve stopped early'}): the true value is {span}"
    start = str(f.get("joint_start") or "")
    if start == "used":
        words += (
            "; the joint solve started from the union of the stand-alone plans, so it is never below them"
        )
    elif start.startswith("used after"):
        given_up = format_money(f.get("joint_start_given_up_gbp") or 0.0)
        words += (
            f"; the joint solve started from the union of the stand-alone plans {start[5:]}, "
            f"{given_up} below the plain union, which breaks a joint row"
        )
    elif start and start != "not tried":
        words += f"; the union of the stand-alone plans was not a start ({start})"
    return words


PACK_COLUMNS = (  # board pack: heading, ledger column
    ("Partner", "partner"),
    ("Type", "group"),
    ("NPV under the rule", "npv_gbp"),
    ("Stand-alone NPV", "standalone_npv_gbp"),
    ("Gain from working together", "gain_gbp"),
    ("Receipts", "capital_receipts_gbp"),
    ("Saving a year", "annual_revenue_saving_gbp"),
    ("Moves and fit-out", "move_cost_gbp"),
    ("Occupancy charges paid", "occupancy_charges_paid_gbp"),
    ("Occupancy charges received", "occupancy_charges_received_gbp"),
)


def _pack_money(value: Any) -> str:
    """Pounds to the pound (`format_money`), a negative with the true minus sign (U+2212),
    which no spreadsheet reads as a formula."""
    text = format_money(value)
    return "\u2212" + text[1:] if text.startswith("-") else text


def partner_pack_section(
    summary: Mapping[str, Any], partners: pd.DataFrame | None, *, heading: str = ""
) -> str:
    """The board pack's partnership section (HTML): the partnership value with its range and
    whether it is proven, the price of fairness, and per partner its NPV under the sharing
    rule beside its stand-alone NPV and the gain, its receipts, saving, moves and occupancy
    charges, to the pound as in partners.csv. "" for a plan without a ledger."""
    if partners is None or partners.empty or "npv_gbp" not in partners:
        return ""
    esc = html.escape
    rule = str(summary.get("sharing_rule") or "owner")
    table = partners.copy()
    table["partner"] = table["partner"].map(lambda p: original_text(str(p)))
    if "standalone_npv_gbp" in table:
        table["gain_gbp"] = table["npv_gbp"] - pd.to_numeric(table["standalone_npv_gbp"], errors="coerce")
    solved = "standalone_npv_gbp" in table and table["standalone_npv_gbp"].notna().any()
    columns = [
        (h, c)
        for h, c in PACK_COLUMNS
        if c in table and (solved or c not in ("standalone_npv_gbp", "gain_gbp"))
    ]
    table = table.sort_values("npv_gbp", ascending=False, kind="stable")
    head = "".join(
        f'<th class="{"" if c in ("partner", "group") else "num"}">{esc(h)}</th>' for h, c in columns
    )

    def cell(column: str, value: Any) -> str:
        if column == "partner":
            return f"<td>{esc(inert_text(str(value)))}</td>"
        if column == "group":
            return f"<td>{esc(display_name('partner_type', value))}</td>"
        return f'<td class="num">{esc(_pack_money(value))}</td>'

    rows = "".join("<tr>" + "".join(cell(c, r[c]) for _, c in columns) + "</tr>" for _, r in table.iterrows())
    lines = []
    headline = partnership_headline(summary)
    if headline is not None:
        lines.append(
            f"<p><b>Partnership value {esc(_pack_money(summary['partnership_value_gbp']))}</b>: the joint plan's NPV "
            f"{esc(_pack_money(summary.get('joint_npv_gbp')))} less {esc(_pack_money(summary.get('standalone_npv_total_gbp')))} "
            f"from each partner rearranging only its own buildings and teams.</p>"
        )
        words = partnership_range_words(summary)
        if words:
            lines.append(f'<div class="note">{esc(words[:1].upper() + words[1:])}.</div>')
    else:
        lines.append(
            '<div class="note">Stand-alone plans were not solved for this option: no partnership value.</div>'
        )
    if summary.get("price_of_fairness_gbp") is not None:
        lines.append(
            f"<p>Price of fairness (no partner worse off than {esc(str(summary.get('no_partner_worse_off')))}): "
            f"{esc(_pack_money(summary['price_of_fairness_gbp']))} of NPV given up.</p>"
        )
    return f"""
<h2>{esc(heading)}The partnership: each partner under the {esc(rule)} rule and on its own</h2>
{"".join(lines)}
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<div class="note">NPV under the {esc(rule)} sharing rule (docs/scenario.md, [partners]); the stand-alone NPV is the
partner's best plan rearranging only its own buildings and teams. Occupancy charges: what a partner pays a host for
the space its teams move into, over the appraisal period. Figures rest on modelled building data where marked
elsewhere in this pack.</div>"""


def partner_compare_table(
    options: Sequence[tuple[str, Mapping[str, Any], pd.DataFrame | None]],
) -> pd.DataFrame:
    """Compare: one row per partner, per option its NPV under the sharing rule and (when
    solved) its stand-alone NPV, in pounds as shown everywhere; a first row gives each
    option's partnership value. Empty when no option has a ledger."""
    frames = []
    value_row: dict[str, str] = {}
    for name, summary, partners in options:
        if partners is None or partners.empty or "npv_gbp" not in partners:
            continue
        ledger = partners.assign(partner=partners["partner"].map(lambda p: original_text(str(p))))
        ledger = ledger.set_index("partner")
        rule = str(summary.get("sharing_rule") or "owner")
        column = f"{name}: NPV ({rule} rule)"
        frame = pd.DataFrame({column: ledger["npv_gbp"].map(format_money)})
        value_row[column] = partnership_headline(summary) or "–"
        if "standalone_npv_gbp" in ledger and ledger["standalone_npv_gbp"].notna().any():
            frame[f"{name}: stand-alone"] = ledger["standalone_npv_gbp"].map(format_money)
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, axis=1).fillna("–")
    first = pd.DataFrame([{c: value_row.get(c, "") for c in table.columns}], index=["Partnership value"])
    return pd.concat([first, table]).rename_axis("Partner")


__all__ = [
    "PACK_COLUMNS",
    "SHARE",
    "STANDALONE",
    "partner_chart",
    "partner_compare_table",
    "partner_pack_section",
    "partner_table",
    "partnership_headline",
    "partnership_range_words",
]

"""Results, partners: the partnership value first, then who gains and who pays (diverging bars,
every bar labelled), each partner's stand-alone figure beside its share, and the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from optimiser.report.partners import (
    SHARE,
    STANDALONE,
    partner_chart,
    partner_compare_table,
    partnership_headline,
    partnership_range_words,
)


def show_partners(summary: dict[str, Any], partners: pd.DataFrame) -> None:
    """The partner section of the Results page."""
    headline = partnership_headline(summary)
    rule = summary.get("sharing_rule", "owner")
    if headline is None:
        st.caption(
            "Partnership value: not worked out for this option. Tick “Work out each partner's stand-alone "
            "plan” under Partners on the Scenario page and run again."
        )
    else:
        c1, c2 = st.columns([1, 2])
        c1.metric(
            "Partnership value", headline, border=True, help="Joint NPV less the sum of stand-alone NPVs"
        )
        c2.markdown(
            f"Working together is worth **{headline}** more than each partner rearranging only its own "
            f"buildings and teams (joint NPV {_money(summary.get('joint_npv_gbp'))}, stand-alone plans "
            f"{_money(summary.get('standalone_npv_total_gbp'))})."
        )
        if words := partnership_range_words(summary):
            c2.caption(words[:1].upper() + words[1:] + ".")
        if summary.get("price_of_fairness_gbp") is not None:
            c2.markdown(
                f"Price of fairness (no partner worse off than {summary.get('no_partner_worse_off')}): "
                f"**{_money(summary['price_of_fairness_gbp'])}** of NPV given up."
            )
    data = partner_chart(partners)
    st.markdown(
        f"**Who gains and who pays**: each partner's NPV under the {rule} rule, beside its stand-alone plan (£)"
    )
    if data.empty:
        st.caption("No partner gains or pays anything in this option.")
        return
    order = list(dict.fromkeys(data["partner"]))
    base = alt.Chart(data).encode(
        y=alt.Y("partner:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("measure:N", sort=[SHARE, STANDALONE]),
        x=alt.X("gbp:Q", title="£"),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "measure:N", sort=[SHARE, STANDALONE], title=None, legend=alt.Legend(orient="bottom")
        ),
        tooltip=["partner", "measure", "label"],
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="label:N")
    chart = (bars + labels).properties(
        height=max(160, 44 * len(order)), usermeta={"embedOptions": {"renderer": "svg"}}
    )
    st.altair_chart(chart, use_container_width=True)
    lines = []
    for partner in order:
        rows = data[data["partner"] == partner].set_index("measure")["label"]
        beside = f" · stand-alone {rows[STANDALONE]}" if STANDALONE in rows else ""
        lines.append(f"- {partner}: {rows.get(SHARE, '–')}{beside}")
    st.markdown("\n".join(lines), help="The figures of the chart, as in partners.csv")


def compare_table(records: Sequence[Any]) -> None:
    """Compare: the per-partner table of the chosen options (`partner_compare_table`): each
    partner's NPV under the sharing rule and, where solved, its stand-alone NPV, with each
    option's partnership value first. `records` are `optimiser.store.SavedRun`s."""
    table = partner_compare_table(
        [(f"{r.name} ({r.place_name})", r.summary, r.tables.get("partners")) for r in records]
    )
    st.markdown("**Per partner**: NPV under the sharing rule and, where worked out, on its own (£)")
    if table.empty:
        st.caption("None of these options has a partner ledger.")
        return
    st.table(table)
    for r in records:
        words = partnership_range_words(r.summary)
        if words:
            st.caption(f"{r.name}: the partnership value is {words}.")


def _money(value: Any) -> str:
    return partnership_headline({"partnership_value_gbp": value}) or "–"


if __name__ == "__main__":  # Streamlit's pages-folder mode may run this module as a page: see page_guard
    from pages import common

    common.page_guard()

"""The programme of a phased plan as people read it: the estate as at a year, the timeline, the
cash flow, and the board pack's section. No Streamlit.

Everything here works from a run's tables alone (``programme``, ``cashflow`` and
``partners_by_year``, as `optimiser.programme.Programme` holds them, the run folder's CSVs hold
them and the scenario store keeps them, beside the plan's ``buildings`` and ``occupiers``), so a
saved run or a run folder is shown without solving again:

- `estate_as_at` gives the plan's building and occupier tables as they stand at the end of a
  calendar year (every event dated that year or earlier done; see docs/outputs.md: an event in
  year ``Y`` takes effect from ``Y + 1``), for `optimiser.report.maps.plan_map`;
- `timeline_table` is the programme with names, partners and words, one row per event, for the
  app's timeline chart; `cash_chart_table` the cash flow by year in long form for its chart;
- `cashflow_table` is ``cashflow.csv`` with headings and money formatted (figure for figure);
- `programme_section` is the board pack's section (`optimiser.report.boardpack` calls it):
  what the programme does in words, a static cash-flow chart (`cashflow_png`, matplotlib),
  the cash flow, the cash per partner and the events.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from optimiser.report.inert import inert_text
from optimiser.report.kpis import format_money, is_blank
from optimiser.report.words import column_name, count_words, display_name, money_words, share_words

PROGRAMME_TABLES = ("programme", "cashflow", "partners_by_year")
"""A phased plan's tables, by the names the store, the exports and the pack use (file ``<name>.csv``)."""
LEAVING = ("dispose", "lease_exit", "lease_end")
"""The events by which a building leaves the estate; the other event is ``move``."""
CASH_COLUMNS = (
    "receipts_gbp",
    "one_off_cost_gbp",
    "running_cost_gbp",
    "saving_gbp",
    "net_gbp",
    "cumulative_net_gbp",
    "cumulative_cash_gbp",
    "discount_factor",
    "discounted_net_gbp",
    "investment_outstanding_gbp",
)
"""The columns of ``cashflow.csv`` after ``year``, in order."""
CHART_SERIES = {"receipts_gbp": "Receipts", "one_off_cost_gbp": "One-off costs", "saving_gbp": "Savings"}
"""The cash-flow chart's bars: receipts and savings up, one-off costs down."""
EVENT_COLOURS = {"dispose": "#d73027", "lease_exit": "#fc8d59", "lease_end": "#fee08b", "move": "#4575b4"}
CASH_COLOURS = {"Receipts": "#1a9850", "One-off costs": "#d73027", "Savings": "#91cf60"}
LINE_COLOUR = "#1f1f1f"
_EPS = 1e-9


def has_programme(tables: Mapping[str, Any]) -> bool:
    """True when `tables` hold a phased plan's programme and cash flow."""
    cash, events = tables.get("cashflow"), tables.get("programme")
    return isinstance(cash, pd.DataFrame) and isinstance(events, pd.DataFrame) and len(cash) > 0


def clean_events(events: pd.DataFrame) -> pd.DataFrame:
    """``programme`` as read from anywhere (a Programme, a CSV, the store): text columns as text
    ("" for a blank), ``year`` whole, ``share`` and money as numbers."""
    out = events.copy()
    for column in ("event", "building_id", "route", "occupier_id", "from_building_id", "to_building_id"):
        if column not in out:
            out[column] = ""
        out[column] = out[column].map(lambda v: "" if is_blank(v) else str(v))
    out["year"] = pd.to_numeric(out["year"]).astype(int)
    for column in ("share", "cash_gbp", "one_off_cost_gbp", "receipt_gbp"):
        if column in out:
            out[column] = pd.to_numeric(out[column]).astype(float).fillna(0.0)
    if "share" not in out:
        out["share"] = 1.0
    return out.reset_index(drop=True)


def leave_years(events: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """Building ID -> (the year it leaves the estate, the event)."""
    e = clean_events(events)
    gone = e[e["event"].isin(LEAVING)]
    return {
        str(b): (int(y), str(k))
        for b, y, k in zip(gone["building_id"], gone["year"], gone["event"], strict=True)
    }


def period(cashflow: pd.DataFrame) -> tuple[int, int]:
    """The first and last calendar year of the cash flow (year 0 and year T)."""
    years = pd.to_numeric(cashflow["year"]).astype(int)
    return int(years.min()), int(years.max())


def payback_year(cashflow: pd.DataFrame) -> int | None:
    """The first year from which the cumulative net stays at or above zero (None when it ends
    below zero): the rule of `optimiser.programme.Programme.payback_year`, from the table."""
    cash = cashflow.sort_values("year")
    cum = pd.to_numeric(cash["cumulative_net_gbp"]).to_numpy(dtype=float)
    years = pd.to_numeric(cash["year"]).to_numpy(dtype=int)
    if cum[-1] < -1e-6:
        return None
    below = [i for i, c in enumerate(cum) if c < -1e-6]
    return int(years[below[-1] + 1]) if below else int(years[0])


def peak_investment(cashflow: pd.DataFrame) -> tuple[float, int | None]:
    """The largest investment outstanding (£) and the first year it is reached (None when nothing
    is ever outstanding)."""
    cash = cashflow.sort_values("year")
    out = pd.to_numeric(cash["investment_outstanding_gbp"]).to_numpy(dtype=float)
    if not len(out) or out.max() <= 0.5:
        return 0.0, None
    return float(out.max()), int(cash["year"].iloc[int(np.argmax(out))])


# ---------------------------------------------------------------------- the estate as at a year
@dataclass(frozen=True, eq=False)
class EstateAtYear:
    """The plan's tables as they stand at the end of `year`, and what has happened by then.

    ``buildings`` and ``occupiers`` have the columns of `Plan.buildings` and `Plan.occupiers`
    (so `optimiser.report.maps.plan_map` draws them): a building that has left by the end of the
    year is ``dispose``, every other ``keep``; an occupier's share that has moved by then goes to
    its new building, the rest stays where it was. The reasons say, in words, when each building
    goes.
    """

    year: int
    buildings: pd.DataFrame
    occupiers: pd.DataFrame
    gone: tuple[str, ...]  # buildings that have left by the end of the year
    to_go: tuple[str, ...]  # buildings still open that leave later
    moved: tuple[str, ...]  # occupiers with a share moved by the end of the year
    to_move: tuple[str, ...]  # occupiers with a share still to move
    events: pd.DataFrame  # the events dated this year

    @property
    def words(self) -> str:
        """One line: what stands at the end of the year."""
        open_now = len(self.buildings) - len(self.gone)
        return (
            f"At the end of {self.year}: {count_words(open_now)} buildings open, "
            f"{count_words(len(self.gone))} gone ({count_words(len(self.to_go))} still to go); "
            f"{count_words(len(self.moved))} occupiers moved ({count_words(len(self.to_move))} still to move); "
            f"{count_words(len(self.events))} events this year."
        )


def estate_as_at(
    buildings: pd.DataFrame, occupiers: pd.DataFrame, events: pd.DataFrame, year: int
) -> EstateAtYear:
    """The estate at the end of calendar `year` under the programme `events`.

    `buildings` and `occupiers` are the plan's tables (its end state); `events` is
    ``programme.csv``. A building leaves the estate in the year of its ``dispose``,
    ``lease_exit`` or ``lease_end`` event; an occupier's share moves in the year of its ``move``
    event (an occupier may move in steps). Before the first year the estate is today's; after
    the last event it is the plan's.

    Raises
    ------
    ValueError
        If a move in the programme has no part in `occupiers` to take it (the tables are not
        of one plan).

    """
    e = clean_events(events)
    leaving = leave_years(e)
    b = buildings.copy().reset_index(drop=True)
    ids = b["building_id"].astype(str)
    moves = e[e["event"] == "move"]
    moved_by: dict[tuple[str, str], float] = {}
    pending: set[str] = set()
    for a, h, y, share in zip(
        moves["occupier_id"], moves["to_building_id"], moves["year"], moves["share"], strict=True
    ):
        if int(y) <= year:
            moved_by[(a, h)] = moved_by.get((a, h), 0.0) + float(share)
        else:
            pending.add(str(a))
    rows = []
    occ = occupiers.reset_index(drop=True)
    parts = set()
    for _, part in occ.iterrows():
        a, frm, to = str(part["occupier_id"]), str(part["from_building_id"]), str(part["to_building_id"])
        share = float(part["share"])
        if frm == to:
            rows.append(part.to_dict())
            continue
        parts.add((a, to))
        done = min(share, moved_by.get((a, to), 0.0))
        if done > _EPS:
            rows.append(_scaled(part, done / share if share > 0 else 1.0) | {"share": done})
        if share - done > _EPS:
            stay = _scaled(part, (share - done) / share if share > 0 else 1.0)
            rows.append(
                stay | {"to_building_id": frm, "share": share - done, "move_km": 0.0, "move_cost_gbp": 0.0}
            )
    orphans = sorted(
        f"{a} -> {h}"
        for a, h in moves[["occupier_id", "to_building_id"]].itertuples(index=False)
        if (a, h) not in parts
    )
    if orphans:
        msg = f"The programme moves {', '.join(orphans[:5])}, which the plan's occupier table does not hold."
        raise ValueError(msg)
    occ_y = pd.DataFrame(rows, columns=occ.columns)
    shifted = occ_y[occ_y["from_building_id"].astype(str) != occ_y["to_building_id"].astype(str)]
    n_in = shifted.groupby(shifted["to_building_id"].astype(str))["occupier_id"].nunique()
    n_out = shifted.groupby(shifted["from_building_id"].astype(str))["occupier_id"].nunique()
    gone = tuple(bid for bid in ids if bid in leaving and leaving[bid][0] <= year)
    to_go = tuple(bid for bid in ids if bid in leaving and leaving[bid][0] > year)
    b["decision"] = np.where(ids.isin(gone), "dispose", "keep")
    b["occupiers_in"] = ids.map(n_in).fillna(0).astype(int).to_numpy()
    b["occupiers_out"] = ids.map(n_out).fillna(0).astype(int).to_numpy()
    if "reason" in b:
        b["reason"] = [
            _reason_at(bid, leaving.get(bid), year, reason)
            for bid, reason in zip(ids, b["reason"], strict=True)
        ]
    moved = tuple(sorted({a for a, _ in moved_by}))
    return EstateAtYear(
        year=int(year),
        buildings=b,
        occupiers=occ_y.reset_index(drop=True),
        gone=gone,
        to_go=to_go,
        moved=moved,
        to_move=tuple(sorted(pending)),
        events=e[e["year"] == year].reset_index(drop=True),
    )


def _scaled(part: pd.Series, fraction: float) -> dict[str, Any]:
    row: dict[str, Any] = {str(k): v for k, v in part.items()}
    for column in ("space_m2", "move_cost_gbp"):
        if column in row and not is_blank(row[column]):
            row[column] = float(row[column]) * fraction
    return row


def _reason_at(bid: str, leaves: tuple[int, str] | None, year: int, reason: Any) -> str:
    plan = "" if is_blank(reason) else str(reason)
    if leaves is None:
        return plan
    when, event = leaves
    what = display_name("event", event).lower()
    head = f"{what} in {when}" if when <= year else f"still open at the end of {year}; {what} in {when}"
    return f"{head}; {plan}" if plan else head


# ---------------------------------------------------------------------- timeline and cash flow
def _names(table: pd.DataFrame | None, key: str) -> dict[str, str]:
    if table is None or not len(table) or key not in table:
        return {}
    names = table["name"] if "name" in table else table[key]
    return {
        str(i): str(n) if not is_blank(n) and str(n) else str(i)
        for i, n in zip(table[key], names, strict=True)
    }


def timeline_table(
    events: pd.DataFrame, buildings: pd.DataFrame, occupiers: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per event, with names and words: ``year``, ``event`` (code), ``event_name``,
    ``partner`` (the building's owner for a building's event, the occupier's partner for a
    move), ``item`` (building or occupier name), ``what`` (route, or from → to), ``share``,
    ``cash_gbp``, ``label`` ("Partner: item", the timeline's row). Sorted by partner, year, item."""
    e = clean_events(events)
    b_names = _names(buildings, "building_id")
    owners = dict(zip(buildings["building_id"].astype(str), buildings.get("owner", ""), strict=True))
    o_names = _names(occupiers, "occupier_id")
    o_partner: dict[str, str] = {}
    if occupiers is not None and len(occupiers) and "partner" in occupiers:
        o_partner = dict(
            zip(occupiers["occupier_id"].astype(str), occupiers["partner"].astype(str), strict=False)
        )
    rows = []
    for r in e.itertuples(index=False):
        if r.event == "move":
            partner = o_partner.get(r.occupier_id, "")
            item = o_names.get(r.occupier_id, r.occupier_id)
            what = f"{b_names.get(r.from_building_id, r.from_building_id)} → {b_names.get(r.to_building_id, r.to_building_id)}"
            if float(r.share) < 0.999:
                what += f" ({share_words(r.share, 0 if float(r.share) >= 0.1 else 1)} of it)"
        else:
            partner = "" if is_blank(owners.get(r.building_id)) else str(owners.get(r.building_id))
            item = b_names.get(r.building_id, r.building_id)
            what = display_name("route", r.route) if r.route else ""
        rows.append(
            {
                "year": int(r.year),
                "event": r.event,
                "event_name": display_name("event", r.event),
                "partner": partner or "–",
                "item": item,
                "what": what,
                "share": float(r.share),
                "cash_gbp": float(getattr(r, "cash_gbp", 0.0)),
                "label": f"{partner or '–'}: {item}",
            }
        )
    columns = ["year", "event", "event_name", "partner", "item", "what", "share", "cash_gbp", "label"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["partner", "year", "item"], kind="stable").reset_index(drop=True)


def timeline_cells(timeline: pd.DataFrame) -> pd.DataFrame:
    """`timeline_table` with one row per partner, item, year and event (an occupier moving to
    several buildings in one year is one cell): ``events`` counts them, ``what`` joins them,
    ``cash_gbp`` sums them. For the timeline chart."""
    keys = ["partner", "item", "label", "year", "event", "event_name"]
    columns = [*keys, "events", "what", "cash_gbp"]
    if timeline.empty:
        return pd.DataFrame(columns=columns)
    cells = timeline.groupby(keys, sort=False).agg(
        events=("what", "size"),
        what=("what", lambda w: "; ".join(x for x in w if x)),
        cash_gbp=("cash_gbp", "sum"),
    )
    return cells.reset_index()[columns]


EVENT_HEADINGS = {
    "year": "Year",
    "event_name": "Event",
    "partner": "Partner",
    "item": "Building or occupier",
    "what": "Route, or from → to",
    "cash_gbp": "Cash (£)",
}


def events_table(timeline: pd.DataFrame) -> pd.DataFrame:
    """`timeline_table` as people read it, in the order things happen: year, event, partner,
    building or occupier, route or from → to, and the event's own cash (£)."""
    ordered = timeline.sort_values(["year", "event", "partner", "item"], kind="stable")
    return ordered[list(EVENT_HEADINGS)].rename(columns=EVENT_HEADINGS).reset_index(drop=True)


def cash_chart_table(cashflow: pd.DataFrame) -> pd.DataFrame:
    """The cash flow in long form for a chart: ``year``, ``series`` (`CHART_SERIES`), ``gbp``
    (one-off costs negative), and ``cumulative_net_gbp`` beside each row."""
    cash = cashflow.sort_values("year")
    frames = []
    for column, series in CHART_SERIES.items():
        sign = -1.0 if column == "one_off_cost_gbp" else 1.0
        frames.append(
            pd.DataFrame(
                {
                    "year": pd.to_numeric(cash["year"]).astype(int).to_numpy(),
                    "series": series,
                    "gbp": sign * pd.to_numeric(cash[column]).to_numpy(dtype=float),
                    "cumulative_net_gbp": pd.to_numeric(cash["cumulative_net_gbp"]).to_numpy(dtype=float),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def cashflow_table(cashflow: pd.DataFrame, *, money: Callable[[Any], str] = format_money) -> pd.DataFrame:
    """``cashflow.csv`` as a person reads it: display-name headings, money formatted with `money`
    (by default exact to the pound, `optimiser.report.kpis.format_money`), the discount factor to
    four places. Row for row and figure for figure the file's."""
    cash = cashflow.sort_values("year").reset_index(drop=True)
    out = pd.DataFrame({column_name("year"): pd.to_numeric(cash["year"]).astype(int).astype(str)})
    for column in CASH_COLUMNS:
        if column not in cash:
            continue
        values = pd.to_numeric(cash[column])
        out[column_name(column)] = (
            values.map(lambda v: f"{float(v):.4f}")
            if column == "discount_factor"
            else values.map(lambda v: money(0.0 if abs(float(v)) < 0.5 else float(v)))  # never "£-0"
        )
    return out


def partner_totals(partners_by_year: pd.DataFrame | None) -> pd.DataFrame:
    """Per partner over the period: receipts, one-off costs, savings, net, discounted net and the
    year its own cumulative net turns and stays non-negative (``payback_year``, None if never)."""
    columns = [
        "partner",
        "receipts_gbp",
        "one_off_cost_gbp",
        "saving_gbp",
        "net_gbp",
        "discounted_net_gbp",
        "payback_year",
    ]
    if partners_by_year is None or not len(partners_by_year):
        return pd.DataFrame(columns=columns)
    rows = []
    for partner, group in partners_by_year.groupby(partners_by_year["partner"].astype(str), sort=True):
        sums = {c: float(pd.to_numeric(group[c]).sum()) for c in columns[1:6]}
        rows.append({"partner": partner, **sums, "payback_year": payback_year(group)})
    return pd.DataFrame(rows, columns=columns)


def phasing_words(phasing: Mapping[str, Any] | None) -> list[str]:
    """The `[phasing]` rules in force (``summary.json``'s ``phasing``), each a sentence."""
    if not phasing:
        return []
    p = dict(phasing)
    start, years = p.get("start_year"), p.get("years")
    lines = []
    if start is not None and years is not None:
        lines.append(f"Year by year from {int(start)} (year 0) to {int(start) + int(years)}.")
    lag = int(p.get("receipt_lag_years") or 0)
    lines.append(
        f"A sale's receipt arrives {count_words(lag)} year{'s' if lag != 1 else ''} after the sale."
        if lag
        else "A sale's receipt arrives in the year of the sale."
    )
    lines.append(
        "A leasehold may be left early, paying the rent still owed to its next break."
        if p.get("allow_early_lease_exit")
        else "A leasehold is left only at its break or its lease end."
    )
    lead = int(p.get("fit_out_lead_years") or 0)
    if lead:
        lines.append(
            f"A receiving building needs {count_words(lead)} year{'s' if lead != 1 else ''} of fit-out before a team moves in."
        )
    if p.get("cash_flow_rule"):
        lines.append(
            "Cumulative receipts less one-off costs never fall below the "
            f"{money_words(p.get('upfront_investment_gbp') or 0)} invested upfront."
        )
    if p.get("capital_budget_per_year_gbp") is not None:
        lines.append(f"One-off costs at most {money_words(p['capital_budget_per_year_gbp'])} in any year.")
    for key, what in (("max_disposals_per_year", "disposals"), ("max_moves_per_year", "moves")):
        if p.get(key) is not None:
            lines.append(f"At most {count_words(p[key])} {what} a year.")
    return lines


def programme_words(summary: Mapping[str, Any], tables: Mapping[str, pd.DataFrame]) -> str:
    """What the programme does and when it pays back, in a few sentences."""
    e = clean_events(tables["programme"])
    cash = tables["cashflow"]
    first, last = period(cash)
    counts = e["event"].value_counts()
    parts = [
        f"{count_words(counts.get(k, 0))} {display_name('event', k).lower()}{'s' if counts.get(k, 0) != 1 else ''}"
        for k in (*LEAVING, "move")
        if counts.get(k, 0)
    ]
    text = f"The programme runs from {first} to {last}"
    if len(e):
        text += f": {', '.join(parts)}, between {int(e['year'].min())} and {int(e['year'].max())}."
    else:
        text += ", with no events: the estate stays as it is."
    peak, peak_year = peak_investment(cash)
    if peak_year is not None:
        text += f" The most invested at any time is {money_words(peak)}, in {peak_year}."
    else:
        text += " The cumulative net never falls below zero."
    pays = payback_year(cash)
    text += f" It pays back in {pays}." if pays is not None else f" It has not paid back by {last}."
    npv = float(pd.to_numeric(cash["discounted_net_gbp"]).sum())
    text += f" Its NPV, the discounted sum of the yearly net, is {money_words(npv)}."
    return text


# ---------------------------------------------------------------------- the board pack's section
def cashflow_png(cashflow: pd.DataFrame, *, width_in: float = 7.0, dpi: int = 170) -> bytes:
    """The cash flow as a picture: bars by year (receipts and savings up, one-off costs down),
    the cumulative net as a line, the payback year marked. Matplotlib's object API, Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    long = cash_chart_table(cashflow)
    years = sorted(long["year"].unique())
    fig = Figure(figsize=(width_in, 3.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    up = np.zeros(len(years))
    down = np.zeros(len(years))
    for series, colour in CASH_COLOURS.items():
        values = long[long["series"] == series].set_index("year")["gbp"].reindex(years).fillna(0.0).to_numpy()
        base = np.where(values >= 0, up, down)
        ax.bar(years, values, bottom=base, color=colour, width=0.7, label=series)
        up += np.where(values >= 0, values, 0.0)
        down += np.where(values < 0, values, 0.0)
    cash = cashflow.sort_values("year")
    ax.plot(
        cash["year"],
        cash["cumulative_net_gbp"],
        color=LINE_COLOUR,
        marker="o",
        markersize=3,
        label="Cumulative net",
    )
    ax.axhline(0, color="#8c8c8c", linewidth=0.8)
    pays = payback_year(cashflow)
    if pays is not None:
        ax.axvline(pays, color="#1a7f37", linestyle="--", linewidth=1.2)
        ax.annotate(
            f"Payback {pays}",
            (pays, ax.get_ylim()[1]),
            xytext=(3, -10),
            textcoords="offset points",
            fontsize=7,
            color="#1a7f37",
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money_words(v)))
    ax.set_xticks(years)
    ax.set_xticklabels([str(y) for y in years], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("£ in the year (cumulative: line)", fontsize=7)
    fig.legend(fontsize=7, ncols=4, loc="outside lower center", frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _signed(text: str) -> str:
    """A negative figure with the true minus sign, as the pack writes it (no spreadsheet formula)."""
    return "\u2212" + text[1:] if len(text) > 1 and text[0] == "-" and text[1] in "£0123456789." else text


def _table(header: Sequence[tuple[str, float, bool]], rows: Sequence[Sequence[Any]]) -> str:
    """A fixed-layout table in the pack's markup: header (title, width %, numeric), rows of cells."""
    if not rows:
        return '<p class="note">None.</p>'
    cols = "".join(f'<col style="width:{w:.1f}%">' for _, w, _ in header)
    head = "".join(f'<th class="{"num" if n else ""}">{html.escape(t)}</th>' for t, _, n in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if n else ""}">{html.escape(inert_text(_signed(str(cell)) if n else str(cell)))}</td>'
            for cell, (_, _, n) in zip(row, header, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def programme_section(
    summary: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], *, heading: str = ""
) -> str:
    """The board pack's pages on the programme over time ("" for a plan without one).

    `summary` and `tables` are the pack option's (a run's ``summary.json`` and tables, with
    ``programme``, ``cashflow`` and ``partners_by_year``); `heading` is put before each title
    (an option's name in a side-by-side pack).
    """
    if not has_programme(tables):
        return ""
    esc = html.escape
    cash = tables["cashflow"].sort_values("year")
    buildings = tables.get("buildings", pd.DataFrame(columns=["building_id", "name", "owner"]))
    timeline = timeline_table(tables["programme"], buildings, tables.get("occupiers"))
    timeline = timeline.sort_values(["year", "event", "partner", "item"], kind="stable")
    png = base64.b64encode(cashflow_png(cash)).decode()
    rules = phasing_words(summary.get("phasing"))
    cash_header = [
        ("Year", 8, False),
        ("Receipts", 11.5, True),
        ("One-off costs", 11.5, True),
        ("Saving", 11.5, True),
        ("Net", 11.5, True),
        ("Cumulative net", 12, True),
        ("Discounted net", 12, True),
        ("Investment outstanding", 12, True),
        ("Discount factor", 10, True),
    ]
    cash_rows = [
        [
            int(r["year"]),
            *(money_words(r[c]) for c in ("receipts_gbp", "one_off_cost_gbp", "saving_gbp", "net_gbp")),
            money_words(r["cumulative_net_gbp"]),
            money_words(r["discounted_net_gbp"]),
            money_words(r["investment_outstanding_gbp"]),
            f"{float(r['discount_factor']):.3f}",
        ]
        for _, r in cash.iterrows()
    ]
    total = [
        "Total",
        *(
            money_words(pd.to_numeric(cash[c]).sum())
            for c in ("receipts_gbp", "one_off_cost_gbp", "saving_gbp", "net_gbp")
        ),
        "",
        money_words(pd.to_numeric(cash["discounted_net_gbp"]).sum()),
        "",
        "",
    ]
    partners = partner_totals(tables.get("partners_by_year"))
    partner_rows = [
        [
            r.partner,
            money_words(r.receipts_gbp),
            money_words(r.one_off_cost_gbp),
            money_words(r.saving_gbp),
            money_words(r.net_gbp),
            money_words(r.discounted_net_gbp),
            "never"
            if r.payback_year is None or (isinstance(r.payback_year, float) and math.isnan(r.payback_year))
            else int(r.payback_year),
        ]
        for r in partners.itertuples()
    ]
    event_rows = [
        [r.year, r.event_name, r.partner, r.item, r.what, money_words(r.cash_gbp)]
        for r in timeline.itertuples()
    ]
    rule_list = "".join(f"<li>{esc(line)}</li>" for line in rules)
    return f"""
<section class="page">
<h2>{esc(heading)}The programme over time</h2>
<p>{esc(programme_words(summary, tables))}</p>
{f"<ul>{rule_list}</ul>" if rule_list else ""}
<img class="map" alt="The cash flow by year" src="data:image/png;base64,{png}">
<div class="note">Bars: the year's receipts and savings (up) and one-off costs (down); line: the cumulative net;
dashed: the payback year. An event in a year takes effect from the next year. Money rests on the same modelled
building figures and scenario assumptions as the rest of the pack (†).</div>
<h2>{esc(heading)}Cash flow by year (£)</h2>
{_table(cash_header, [*cash_rows, total])}
<h2>{esc(heading)}Cash per partner over the period (£)</h2>
{_table([("Partner", 28, False), ("Receipts", 12, True), ("One-off costs", 12, True), ("Saving", 12, True), ("Net", 12, True), ("Discounted net", 12, True), ("Pays back", 12, True)], partner_rows)}
<div class="note">The owner of a building gets its receipts and savings and pays its disposal and exit costs; an
occupier's partner pays its moves.</div>
</section>
<section class="page">
<h2>{esc(heading)}The programme, event by event ({count_words(len(event_rows))} events)</h2>
{_table([("Year", 8, False), ("Event", 11, False), ("Partner", 17, False), ("Building or occupier", 24, False), ("Route, or from → to", 28, False), ("Cash", 12, True)], event_rows)}
</section>"""

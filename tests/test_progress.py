"""Solve progress: the figures a user reads, and the ticker that keeps them fresh."""

from __future__ import annotations

import io
import math
import threading

import pytest

from optimiser.progress import Printer, Progress, Ticker

WAIT_S = 120.0  # a safety net only: the tests wait on conditions


def test_npv_and_the_gap_as_a_share_of_it() -> None:
    p = Progress(12.0, incumbent=2_990_836.0, bound=2_964_559.0, gap=0.0088, today=3_218_481.0)
    assert p.npv_k == pytest.approx(227_645.0)
    assert p.gap_k == pytest.approx(26_277.0)
    assert p.gap_share_of_npv == pytest.approx(26_277.0 / 227_645.0)
    assert p.text() == "12 s · solving · plan NPV £227.6m · bound £2,964.6m · gap £26.3m (11.5% of NPV)"


def test_without_today_the_gap_is_shown_against_the_net_present_cost() -> None:
    p = Progress(3.0, incumbent=500.0, bound=495.0, gap=0.01)
    assert math.isnan(p.npv_k) and math.isnan(p.gap_share_of_npv)
    assert (
        p.text()
        == "3 s · solving · plan net present cost £500k · bound £495k · gap £5k (1.00% of the net present cost)"
    )


def test_a_plan_no_better_than_today_has_no_share() -> None:
    p = Progress(1.0, incumbent=100.0, bound=90.0, gap=0.1, today=100.0)
    assert p.gap_share_of_npv == math.inf
    assert "of NPV" not in p.text()


def test_before_any_plan_only_time_and_stage_show() -> None:
    p = Progress(0.4, math.nan, math.nan, math.nan, stage="building")
    assert p.text() == "0 s · building"


def test_the_ticker_keeps_the_best_plan_and_the_highest_bound_from_every_part() -> None:
    seen: list[Progress] = []
    ticker = Ticker(seen.append, today=1000.0)
    ticker.news(stage="searching", incumbent=900.0)
    ticker.news(stage="solving", bound=700.0)
    ticker.news(incumbent=950.0, bound=650.0)  # a worse plan and a weaker bound change nothing
    ticker.news(incumbent=880.0)
    last = seen[-1]
    assert (last.incumbent, last.bound, last.stage) == (880.0, 700.0, "solving")
    assert last.gap == pytest.approx(180.0 / 880.0)
    assert last.npv_k == pytest.approx(120.0)
    assert [p.incumbent for p in seen] == [900.0, 900.0, 900.0, 880.0]


def test_the_ticker_repeats_the_latest_state_while_nothing_happens() -> None:
    seen: list[Progress] = []
    enough = threading.Event()
    clock = iter(range(10_000))

    def record(p: Progress) -> None:
        seen.append(p)
        if len(seen) >= 4:
            enough.set()

    with Ticker(record, interval_s=0.01, clock=lambda: float(next(clock))) as ticker:
        ticker.news(stage="solving", incumbent=10.0)
        assert enough.wait(WAIT_S)
    assert all(p.incumbent == 10.0 for p in seen[:4])
    elapsed = [p.elapsed_s for p in seen]
    assert elapsed == sorted(elapsed) and len(set(elapsed)) == len(elapsed)  # fresh time each report


def test_no_callback_no_thread() -> None:
    with Ticker(None) as ticker:
        ticker.news(incumbent=1.0)
        assert ticker._thread is None
    assert ticker.latest.incumbent == 1.0


def _at(t: float, incumbent: float = 10.0) -> Progress:
    return Progress(t, incumbent, 8.0, 0.2, today=20.0)


def test_the_printer_writes_a_line_per_two_seconds_of_solve_time_in_a_log() -> None:
    out = io.StringIO()
    printer = Printer(out)
    for t in (0.0, 0.5, 1.9, 2.0, 3.0, 4.5):
        printer(_at(t))
    printer.close()
    assert out.getvalue().splitlines() == [
        "0 s · solving · plan NPV £10k · bound £8k · gap £2k (20.0% of NPV)",
        "2 s · solving · plan NPV £10k · bound £8k · gap £2k (20.0% of NPV)",
        "4 s · solving · plan NPV £10k · bound £8k · gap £2k (20.0% of NPV)",
    ]


def test_on_a_terminal_the_printer_rewrites_one_line() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    printer = Printer(out)
    printer(_at(0.0, incumbent=12.0))
    printer(_at(2.0))
    printer.close()
    assert out.getvalue() == (
        "\r0 s · solving · plan NPV £8k · bound £8k · gap £4k (50.0% of NPV)"
        "\r2 s · solving · plan NPV £10k · bound £8k · gap £2k (20.0% of NPV)\n"
    )

"""The sweep's gap as a share of each place's NPV (`optimiser.sweep.jobs.npv_gap`)."""

from __future__ import annotations

import math

from optimiser.sweep.jobs import npv_gap


def test_the_gap_in_pounds_is_objective_minus_bound_in_thousands():
    gap_gbp, share = npv_gap(1_000.0, 990.0, 200_000.0)  # objective and bound in £k, NPV in £
    assert gap_gbp == 10_000.0
    assert share == 0.05


def test_a_small_relative_gap_can_be_a_large_share_of_the_npv():
    # 0.01% of a £1bn net present cost is £100k: a fifth of a plan worth £500k
    gap_gbp, share = npv_gap(1_000_000.0, 999_900.0, 500_000.0)
    assert gap_gbp == 100_000.0
    assert share == 0.2


def test_no_gap_is_zero_even_when_the_plan_changes_nothing():
    assert npv_gap(500.0, 500.0, 0.0) == (0.0, 0.0)


def test_a_gap_with_nothing_saved_is_infinite_and_no_bound_is_unknown():
    assert npv_gap(500.0, 499.0, 0.0) == (1000.0, math.inf)
    gap_gbp, share = npv_gap(500.0, math.nan, 1.0)
    assert math.isnan(gap_gbp) and math.isnan(share)
    assert npv_gap(500.0, 499.0, -2_000.0) == (1000.0, 0.5)  # a negative NPV: the share of its size

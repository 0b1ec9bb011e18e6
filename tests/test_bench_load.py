"""The pure helpers of bench/remediation_under_load's figures (bench/load.py)."""

import math
import random

from bench.load import paced_rate, phases, spread


def test_spread_leaves_out_what_is_not_a_number_and_takes_one_value_as_its_own_p95():
    values = [float(n) for n in range(1, 21)] + [math.nan]
    median, high = spread(values)
    assert median == 10.5 and 19.9 < high <= 20.0
    assert spread([3.0, math.nan]) == (3.0, 3.0)
    assert all(math.isnan(v) for v in spread([math.nan]))


def test_phases_are_sorted_offsets_within_one_window_spread_over_it():
    offsets = phases(200, 300.0, random.Random(1))
    assert len(offsets) == 200 and offsets == sorted(offsets)
    assert 0.0 <= offsets[0] and offsets[-1] < 300.0
    assert offsets[0] < 30.0 and offsets[-1] > 270.0  # not bunched at one end
    assert phases(5, 300.0, random.Random(7)) == phases(5, 300.0, random.Random(7))


def test_the_rate_of_no_time_is_not_a_number():
    assert paced_rate(50, 2.0) == 25.0 and math.isnan(paced_rate(5, 0.0))

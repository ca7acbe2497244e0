"""Shares printed beside a target never read as a contradiction: a share below the target prints below it (never
as the target beside "misses the target"), and the target prints as given (99.037%, not 99.0%)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from scalematch.match.search import Sweep, Trial
from scalematch.presets import load_preset
from scalematch.report.positives_text import shares, sweep_table

TARGETS = [0.5, 0.9, 0.95, 0.99, 0.99037, 0.995, 0.999, 0.9999, 1.0]


@pytest.mark.parametrize("target", TARGETS)
def test_shares_of_every_count_print_on_the_right_side_of_the_target(target: float) -> None:
    """Every k of n objects (n up to 1200): the printed share is below the printed target exactly when the share
    is below the target, and the target's text is its exact value."""
    for n in (*range(1, 120), 829, 830, 1200):
        for k in range(n + 1):
            share = k / n
            a, b = shares(share, target)
            assert a.endswith("%") and b.endswith("%")
            x, y = Fraction(a[:-1]), Fraction(b[:-1])
            assert y == Fraction(str(round(100 * target, 6))).limit_denominator(10**6)
            assert (x < y) == (share < target), (k, n, a, b)


@pytest.mark.parametrize(
    ("share", "target", "expected"),
    [
        (822 / 830, 0.99037, ("99.036%", "99.037%")),
        (822 / 830, 0.9999, ("99.04%", "99.99%")),
        (829 / 830, 0.99, ("99.9%", "99.0%")),
        (0.9904, 0.99, ("99.0%", "99.0%")),
        (0.98996, 0.99, ("98.996%", "99.000%")),
        (0.99, 0.99, ("99.0%", "99.0%")),
        (0.75, 0.7500000001, ("75.00000000%", "75.00000001%")),  # below the target by less than 6 decimals show
        (11 / 12, 0.916666666666667, ("91.66666666666666%", "91.66666666666670%")),
    ],
)
def test_the_review_s_cases(share: float, target: float, expected: tuple[str, str]) -> None:
    assert shares(share, target) == expected


def test_the_sweep_table_says_how_too_small_images_are_counted() -> None:
    preset = load_preset("retinanet")
    sweep = Sweep(
        (("shortest-edge:800,1333", Trial(preset, 1, 1, 0, 6 / 7, 1000.0), 1),),
        0.99,
        (("shortest-edge:800,1333", 1),),
    )
    assert sweep_table(sweep).splitlines()[1:] == [
        "1     shortest-edge:800,1333    85.7%            1              1,000  missed",
        "meeting and no_positive count the objects of images too small an input for the network as without a "
        "positive (shortest-edge:800,1333: 1); the result below leaves them out (image_too_small).",
    ]

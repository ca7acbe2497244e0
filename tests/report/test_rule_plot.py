"""The rf-rule figure draws each level's accepted window, preferred size and RF from the profile's numbers."""

from __future__ import annotations

import numpy as np

from scalematch.match.levels import levels_from_profile
from scalematch.match.rules import RuleParams
from scalematch.profile import build, profile
from scalematch.report.rule_plot import rf_rule_figure


def test_bars_markers_and_strip() -> None:
    levels = levels_from_profile(profile(build("resnet50", "fpn")), neck=True)
    params = RuleParams(min_cells=2.0, erf_factor=3.0)
    ax = rf_rule_figure(levels, params).axes[0]
    lines = ax.lines
    assert len(lines) == 3 * len(levels)  # bar, preferred-size diamond, RF tick per level
    for k, lv in enumerate(levels):
        bar, diamond, tick = lines[3 * k : 3 * k + 3]
        assert list(bar.get_xdata()) == [2 * lv.stride, 6 * lv.erf_sigma]  # type: ignore[arg-type]
        assert list(diamond.get_xdata()) == [4 * lv.stride]  # type: ignore[arg-type]
        assert list(tick.get_xdata()) == [lv.rf]  # type: ignore[arg-type]
        assert np.all(np.asarray(bar.get_ydata()) == len(levels) - k)
    # the strip has one patch per assigned level plus the too-small/too-large background
    assert len(ax.collections) == len(levels) + 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["assigned", "P6", "P5", "P4", "P3", "P2"]
    assert ax.get_xscale() == "log"

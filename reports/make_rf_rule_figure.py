"""Regenerate reports/rules/rf_rule.png: the rf rule on ResNet-50 + FPN (P2-P6) and RetinaNet's P3-P7.

Run: ``python reports/make_rf_rule_figure.py``
"""

from __future__ import annotations

from pathlib import Path

from scalematch.match.levels import levels_from_profile
from scalematch.profile import build, profile
from scalematch.report.rule_plot import rf_rule_figure
from scalematch.report.save import save_figure

OUT = Path(__file__).with_name("rules")

for neck in ("fpn", "fpn-retinanet"):
    levels = levels_from_profile(profile(build("resnet50", neck)), neck=True)
    save_figure(rf_rule_figure(levels), OUT / f"rf_rule_resnet50_{neck}.png")
    print(f"wrote {OUT / f'rf_rule_resnet50_{neck}.png'}")

"""Detector presets (``configs/detectors/*.yaml``): a toolkit's input geometry, anchors or points and assigner."""

from scalematch.presets.load import DEFAULT_PRESET, builtin_presets, load_preset
from scalematch.presets.preset import Preset, override

__all__ = ["DEFAULT_PRESET", "Preset", "builtin_presets", "load_preset", "override"]

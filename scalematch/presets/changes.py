"""What a preset changes from the built-in preset of its name, in words: the words a verdict names a design by
(``retinanet with level P7``), so that no result credits the defaults with what the user's settings did."""

from __future__ import annotations

from dataclasses import replace

from scalematch.presets.load import builtin_presets, load_preset
from scalematch.presets.preset import DESCRIPTIVE, LetterboxInput, MMDetInput, Preset, TorchvisionInput


def changes(preset: Preset) -> tuple[str, ...] | None:
    """What ``preset`` changes from the built-in preset of its name (levels, backbone, neck, resize, padding, or
    settings changed), empty for that preset as it ships (or a copy of its file); None for a preset of another
    name (a preset file of its own). Names are as given (a caller shows them through its own escaping)."""
    if preset.name not in builtin_presets():
        return None
    shipped = load_preset(preset.name)
    changed = []
    if preset.levels != shipped.levels:
        changed.append(f"levels {preset.levels[0]}-{preset.levels[-1]}" if len(preset.levels) > 1 else
                       f"level {preset.levels[0]}")  # fmt: skip
    if preset.backbone != shipped.backbone:
        changed.append(f"backbone {preset.backbone}")
    if preset.neck != shipped.neck:
        changed.append(f"neck {preset.neck}" if preset.neck else "no neck")
    named = _input_changes(preset, shipped)
    changed += named
    # what the words above name is left out of the comparison below (the anchors follow the levels: one entry
    # per level), and so are the fields that only describe the preset, which change nothing it does
    said = ["levels", "backbone", "neck", *DESCRIPTIVE] + ["input"] * bool(named)
    said += ["anchors"] * (preset.levels != shipped.levels)
    if preset != replace(shipped, **{f: getattr(preset, f) for f in said}):
        changed.append("other settings changed" if changed else "settings changed")
    return tuple(changed)


def _input_changes(preset: Preset, shipped: Preset) -> list[str]:
    """How ``preset``'s input differs from ``shipped``'s, in words (its resize, its padding, a letterbox's style);
    empty when they are the same or differ otherwise (another kind of input with the same sizes)."""
    spec, was = preset.input, shipped.input
    if spec == was or type(spec) is not type(was):
        return []
    out = []
    if preset.resize_policy() != shipped.resize_policy():
        out.append(f"resize {preset.resize_policy()}")
    if isinstance(spec, LetterboxInput) and isinstance(was, LetterboxInput) and spec.style != was.style:
        out.append(f"letterbox style {spec.style}")
    pad, before = (
        s.size_divisor if isinstance(s, MMDetInput) else s.size_divisible if isinstance(s, TorchvisionInput) else 0
        for s in (spec, was)
    )
    if pad != before:
        out.append(f"padding to a multiple of {pad}")
    return out

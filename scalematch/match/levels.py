"""Candidate feature levels taken from a scale profile (named outputs such as C3 or P3)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalematch.errors import OptionError
from scalematch.profile.engine import Profile


@dataclass(frozen=True)
class Level:
    """One feature level. Per-axis profile values are combined as the geometric mean of y and x."""

    name: str
    stride: float
    rf: float
    erf_sigma: float
    spatial_scale: float


def _gm(a: float, b: float) -> float:
    return math.sqrt(a * b)


def levels_from_profile(profile: Profile, names: list[str] | None = None, neck: bool = False) -> tuple[Level, ...]:
    """The levels to match against, ordered fine to coarse.

    ``names`` picks named outputs explicitly; otherwise a neck's outputs (P2..P7) when ``neck`` is set, else the
    backbone's C2..C5 (C1, the stem, is left out: no detector head reads it).
    """
    taps = profile.taps
    if names:
        twice = [n for i, n in enumerate(names) if n in names[:i]]
        if twice:
            raise OptionError(f"levels: level '{twice[0]}' is named twice")
        unknown = [n for n in names if n not in taps]
        if unknown:
            raise OptionError(f"levels: unknown level '{unknown[0]}'; expected names from: {', '.join(taps)}")
        chosen = names
    elif neck:
        chosen = [t for t in taps if t.startswith("P")]
    else:
        chosen = [t for t in taps if t in ("C2", "C3", "C4", "C5")]
    if not chosen:
        raise OptionError(f"levels: {profile.name} has no default levels; expected names from: {', '.join(taps)}")
    levels = []
    for name in chosen:
        fm = taps[name]
        if fm.y is None or fm.x is None:
            raise OptionError(f"levels: level '{name}' depends on the whole input and cannot be matched")
        levels.append(
            Level(
                name,
                _gm(float(fm.y.stride), float(fm.x.stride)),
                _gm(fm.y.rf, fm.x.rf),
                _gm(fm.y.erf_sigma, fm.x.erf_sigma),
                _gm(fm.y.union, fm.x.union),
            )
        )
    return tuple(sorted(levels, key=lambda lv: lv.stride))

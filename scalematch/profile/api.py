"""Entry points used by the CLI and notebooks: build a graph from names, parse sizes, list built-ins."""

from __future__ import annotations

from typing import Any

from scalematch.errors import OptionError
from scalematch.profile.config import attach, builtin, load
from scalematch.profile.graph import Graph
from scalematch.profile.layers import Pair


def build(backbone: str, neck: str | None = None) -> Graph:
    """The graph of a backbone (built-in name or YAML path), with a neck attached if one is named."""
    config = load(backbone, "backbones")
    return attach(config, load(neck, "necks")) if neck else config.graph


def parse_input_size(text: str | None) -> Pair | None:
    """``"800"`` -> (800, 800); ``"800x1333"`` -> (800, 1333) as (h, w); None stays None."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise OptionError(f"--input-size: expected H or HxW in positive pixels (e.g. 800 or 800x1333), got '{text}'")
    h, w = (int(parts[0]), int(parts[-1]))
    return h, w


def catalogue() -> list[dict[str, Any]]:
    """Every built-in backbone and neck: name, kind, outputs, convention, file."""
    entries = []
    for kind in ("backbones", "necks"):
        for name in builtin(kind):
            config = load(name, kind)
            entries.append(
                {
                    "name": name,
                    "kind": config.kind,
                    "outputs": [tap for tap, _ in config.graph.taps],
                    "inputs": list(config.inputs),
                    "convention": config.graph.convention,
                }
            )
    return entries

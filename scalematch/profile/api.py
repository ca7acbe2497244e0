"""Entry points used by the CLI and notebooks: build a graph from names, parse sizes, list built-ins."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scalematch.errors import OptionError
from scalematch.profile.graph import Graph
from scalematch.profile.importers.config import Config, attach, builtin, load
from scalematch.profile.importers.emit import TapSpec
from scalematch.profile.layers import Pair

MAX_INPUT_SIDE = 16384  # --input-size bound per side (pixels): beyond every detector input, and exact math stays fast

_MODULE_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_imported(backbone: str) -> bool:
    """True when ``backbone`` names an ONNX file or a torch ``module:attribute`` rather than a config."""
    return backbone.lower().endswith(".onnx") or (
        _MODULE_SPEC.match(backbone) is not None and not Path(backbone).exists()
    )


def build(
    backbone: str,
    neck: str | None = None,
    *,
    taps: TapSpec = None,
    passthrough: Iterable[str] = (),
    input_size: Pair | None = None,
    channels: int | None = None,
) -> Graph:
    """The graph of a backbone, with a neck attached if one is named.

    ``backbone`` is a built-in name, a YAML path, an ``.onnx`` path or a torch ``package.module:attribute``.
    For the imported models, ``taps`` picks the named outputs (``a,b`` or ``C3=a``), ``passthrough`` declares
    unknown operators geometry-preserving and ``input_size`` is the example input (torch: default 224x224);
    ``channels`` is a torch model's input channels (default: found by running it).
    """
    if channels is not None and (backbone.lower().endswith(".onnx") or not is_imported(backbone)):
        raise OptionError(f"--channels applies to torch models, not to '{backbone}'")
    if backbone.lower().endswith(".onnx"):
        from scalematch.profile.importers.onnx import from_onnx

        config = Config(Path(backbone).stem, "backbone", from_onnx(backbone, taps, passthrough, input_size))
    elif is_imported(backbone):
        from scalematch.profile.importers.torch import from_torch

        graph = from_torch(backbone, input_size or (224, 224), taps, passthrough, channels=channels)
        config = Config(graph.name, "backbone", graph)
    else:
        if taps is not None or tuple(passthrough):
            raise OptionError(
                f"--taps and --passthrough apply to ONNX and torch models, not to the config '{backbone}'"
            )
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
    if max(h, w) > MAX_INPUT_SIDE:
        raise OptionError(f"--input-size: expected at most {MAX_INPUT_SIDE} pixels per side, got '{text}'")
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

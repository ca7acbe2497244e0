"""Annotations (COCO, Pascal VOC, YOLO) -> one box table in network-input pixels, and its statistics.

>>> from scalematch.dataset import load, sample_path, summarize
>>> result = load(sample_path())            # the bundled 100-image COCO val2014 sample
>>> stats = summarize(result)
"""

from __future__ import annotations

import importlib
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalematch.dataset.loader import FORMATS, LoadResult, detect_format, load
    from scalematch.dataset.resize import DEFAULT_POLICY, ResizePolicy, parse_policy
    from scalematch.dataset.shards import read_shards, summarize_files
    from scalematch.dataset.stats import summarize, summarize_file
    from scalematch.dataset.table import REASONS

_HOME = {
    "FORMATS": "loader", "LoadResult": "loader", "detect_format": "loader", "load": "loader",
    "DEFAULT_POLICY": "resize", "ResizePolicy": "resize", "parse_policy": "resize",
    "summarize": "stats", "summarize_file": "stats", "REASONS": "table",
    "read_shards": "shards", "summarize_files": "shards",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import the readers only when used, so that ``scalematch --help`` stays fast."""
    if name in _HOME:
        return getattr(importlib.import_module(f"scalematch.dataset.{_HOME[name]}"), name)
    raise AttributeError(f"module 'scalematch.dataset' has no attribute {name!r}")


__all__ = [
    "DEFAULT_POLICY",
    "FORMATS",
    "REASONS",
    "LoadResult",
    "ResizePolicy",
    "detect_format",
    "load",
    "parse_policy",
    "read_shards",
    "sample_path",
    "summarize",
    "summarize_file",
    "summarize_files",
]


def sample_path() -> Path:
    """The bundled sample: COCO val2014 instances, 100 images, 839 annotations (see data/NOTICE.md)."""
    with as_file(files("scalematch") / "data" / "coco_val2014_100.json") as path:
        return Path(path)

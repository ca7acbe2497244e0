"""Shards for the tests: a COCO file cut by image into several files, and exact comparison of summaries."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def split_coco(source: Path, folder: Path, shards: int, empty: bool = True) -> list[Path]:
    """Cut a COCO file into ``shards`` files by image (image k goes to shard k mod shards), each with every
    category and its images' annotations; with ``empty``, one more shard without images or annotations."""
    doc = json.loads(source.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(shards + (1 if empty else 0)):
        images = doc["images"][k::shards] if k < shards else []
        ids = {image["id"] for image in images}
        part = {
            "images": images,
            "annotations": [a for a in doc["annotations"] if a["image_id"] in ids],
            "categories": doc["categories"],
        }
        path = folder / f"part-{k:03d}.json"
        path.write_text(json.dumps(part), encoding="utf-8")
        paths.append(path)
    return paths


def without_source(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "source"}


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, float values compared exactly, types too (1 is not 1.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b

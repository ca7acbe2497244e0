"""A COCO file as the toolkits' loaders see it: every image in the file's order with its annotations in file order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def images_with_annotations(path: Path) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    data = json.loads(path.read_text())
    anns: dict[int, list[dict[str, Any]]] = {}
    for a in data["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    for img in data["images"]:
        yield img, anns.get(img["id"], [])

"""YAML loading with a bound on the size of the result: anchors and aliases can make a 1 kB file expand into
10**9 values (the "billion laughs"), which any later ``str()`` or traversal would try to build."""

from __future__ import annotations

from typing import Any

MAX_VALUES = 1_000_000  # values in a loaded document, counting each use of an alias


class TooLarge(ValueError):
    """The document expands to more than :data:`MAX_VALUES` values."""


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, or :class:`TooLarge` when the document holds more than :data:`MAX_VALUES`
    values once its aliases are expanded (checked without expanding them)."""
    import yaml

    data = yaml.safe_load(text)
    count, stack = 0, [data]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise TooLarge(f"the document expands to more than {MAX_VALUES} values (YAML aliases)")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return data

"""The choices shared by the library and the CLI (one place, so that both offer the same values).

Import-light on purpose: the CLI builds its options from these enums at start-up.
"""

from __future__ import annotations

from enum import Enum


class Rule(str, Enum):
    """The size rules of ``recommend --rule`` (scalematch's heuristics, not a detector's assigner)."""

    RF = "rf"
    FPN = "fpn"
    FCOS = "fcos"
    ANCHORS = "anchors"
    YOLO = "yolo"


class Toolkit(str, Enum):
    """The toolkits a recommendation is exported for (``--export``)."""

    MMDET = "mmdet"
    DETECTRON2 = "detectron2"
    ULTRALYTICS = "ultralytics"


class Format(str, Enum):
    """Annotation formats (``--format``)."""

    COCO = "coco"
    VOC = "voc"
    YOLO = "yolo"


class Weights(str, Enum):
    """Weights of the network an ERF is measured on (``erf --weights``)."""

    UNIFORM = "uniform"
    RANDOM = "random"
    MODEL = "model"


def values(choice: type[Enum]) -> str:
    """``'a, b or c'``: the values of a choice, for messages and help texts."""
    names = [str(member.value) for member in choice]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

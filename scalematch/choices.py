"""The choices shared by the library and the CLI (one place, so that both offer the same values).

Import-light on purpose: the CLI builds its options from these enums at start-up.
"""

from __future__ import annotations

from enum import Enum, EnumMeta
from typing import Any

from scalematch._text import converts, cut_name, safe_repr
from scalematch.errors import ChoiceError


class _Quoting(EnumMeta):
    """Enum's class, but a value that Enum's own error could not quote (``%r`` of an int of more digits than Python
    converts, or of a value whose ``__repr__`` fails, raised in the standard library before any ``_missing_`` was
    seen) goes to ``_missing_`` first, whose :class:`~scalematch.errors.ChoiceError` shows it as
    :func:`scalematch._args.shown` does."""

    def __call__(cls, value: Any, *args: Any, **kwargs: Any) -> Any:
        long = isinstance(value, int) and not converts(value)
        odd = not isinstance(value, str) and (long or safe_repr(value) is None)
        if odd and not args and not kwargs:
            return cls._missing_(value)  # type: ignore[attr-defined]
        return super().__call__(value, *args, **kwargs)


class _Choice(str, Enum, metaclass=_Quoting):
    """A choice whose members are lower-case names, taken in any case (``Format("COCO")`` is ``Format.COCO``, as
    ``format="COCO"`` and ``rule="RF"`` are taken); any other value is a :class:`~scalematch.errors.ChoiceError`,
    an :class:`~scalematch.errors.OptionError` (and a ValueError, as Enum's own error is) whose one line lists the
    valid values."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            for member in cls:
                if member.value == value.lower():
                    return member
        from scalematch import _args

        got = repr(cut_name(value)) if isinstance(value, str) else _args.shown(value)
        raise ChoiceError(f"{cls.__name__}: expected {values(cls)} (in any case), got {got}")


class Rule(_Choice):
    """The size rules of ``recommend --rule`` (scalematch's heuristics, not a detector's assigner)."""

    RF = "rf"
    FPN = "fpn"
    FCOS = "fcos"
    ANCHORS = "anchors"
    YOLO = "yolo"


class Toolkit(_Choice):
    """The toolkits a recommendation is exported for (``--export``)."""

    MMDET = "mmdet"
    DETECTRON2 = "detectron2"
    ULTRALYTICS = "ultralytics"


class Format(_Choice):
    """Annotation formats (``--format``)."""

    COCO = "coco"
    VOC = "voc"
    YOLO = "yolo"


class Weights(_Choice):
    """Weights of the network an ERF is measured on (``erf --weights``)."""

    UNIFORM = "uniform"
    RANDOM = "random"
    MODEL = "model"


def values(choice: type[Enum]) -> str:
    """``'a, b or c'``: the values of a choice, for messages and help texts."""
    names = [str(member.value) for member in choice]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

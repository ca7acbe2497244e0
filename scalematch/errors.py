"""The one error hierarchy of scalematch.

Every error a user can cause derives from :class:`ScalematchError`; its message says what was expected, what
arrived, and where (file, key, node or record). The CLI catches only this base class.
"""

from __future__ import annotations

from scalematch._text import NAME_LIMIT, cut_words


class ScalematchError(Exception):
    """Base class of every error caused by user input (configs, annotations, options).

    Its text is one short line: a control or other non-printing character that a message quotes from the input (a
    newline in a path or a name, an ANSI escape) is shown as its escape (``\\n``, ``\\x1b``), as the command line
    shows it (:func:`scalematch.report.style.printable`), in the API too; and a value or a name quoted at a length
    of more than 255 characters without a space is shown cut, as its first 40 and last 20 characters around
    ``...`` (:func:`scalematch._text.cut_words`), wherever it comes from."""

    def __str__(self) -> str:
        text = super().__str__()
        if not text.isprintable():
            text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
        return text if len(text) <= NAME_LIMIT else cut_words(text)


def raw_text(error: BaseException) -> str:
    """``error``'s message as it was raised, before :class:`ScalematchError` escapes it: for code that finds in it
    the names it quotes (a path holding a newline is escaped in ``str(error)``)."""
    return Exception.__str__(error)


class ConfigError(ScalematchError):
    """A backbone or neck config (YAML file, layer list or layer spec) is invalid."""


class GraphError(ScalematchError):
    """A layer graph cannot be profiled (cycle, missing input, misaligned multi-input node)."""


class OptionError(ScalematchError):
    """A command-line or API option has an invalid value."""


class ChoiceError(OptionError, ValueError):
    """A choice of :mod:`scalematch.choices` (``Rule``, ``Format``, ``Toolkit``, ``Weights``) was given a value
    that is none of its names. A ValueError too, as the error of a plain Enum is, so that ``except ValueError``
    still catches it."""


class DatasetError(ScalematchError):
    """Annotations cannot be read (a whole-file problem, or a bad record under ``--strict``)."""


class ModelError(ScalematchError):
    """A model (ONNX file or PyTorch module) cannot be imported: unknown op, untraceable module, bad tap."""


class MissingExtraError(ScalematchError):
    """An optional dependency (an extra such as ``onnx`` or ``torch``) is needed and not installed, or installed
    but failing to import (the message gives the cause)."""

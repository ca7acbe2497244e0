"""Optional dependencies (the extras of ``pip install 'scalematch[...]'``), checked with a one-line error."""

from __future__ import annotations

import importlib.util

from scalematch.errors import MissingExtraError


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` naming the extra to install when ``module`` cannot be imported.

    ``what`` says what needed it (a file, a model, a feature), as the start of the message.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{what}: needs the '{module}' package, which is not installed; install scalematch[{extra}] "
            f"(pip install 'scalematch[{extra}]')"
        ) from None

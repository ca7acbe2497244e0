"""Optional dependencies (the extras of ``pip install 'scalematch[...]'``), checked with a one-line error."""

from __future__ import annotations

import importlib

from scalematch.errors import MissingExtraError

_CAUSE_LIMIT = 200
"""The longest cause of a failing import a message shows (its first line)."""


def require(module: str, extra: str, what: str) -> None:
    """Raise :class:`MissingExtraError` when ``module`` cannot be imported: naming the extra to install when the
    package itself is missing (a :class:`ModuleNotFoundError` for ``module`` or one of its parent packages), or
    saying that it is installed but does not import, with the cause, when its import fails inside it (a missing
    shared library, an ABI mismatch, a missing dependency of its own, an address-space limit): reinstalling the
    extra would not help there.

    ``what`` says what needed it (a file, a model, a feature), as the start of the message.
    """
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        parts = module.split(".")
        if exc.name in {".".join(parts[: k + 1]) for k in range(len(parts))}:
            raise MissingExtraError(
                f"{what}: needs the '{module}' package, which is not installed; install scalematch[{extra}] "
                f"(pip install 'scalematch[{extra}]')"
            ) from None
        raise _broken(module, what, exc) from None
    except Exception as exc:  # an ImportError, OSError, RuntimeError... raised while the package imports
        raise _broken(module, what, exc) from None


def _broken(module: str, what: str, exc: Exception) -> MissingExtraError:
    """The error for a package that is installed but whose import raised ``exc``."""
    lines = str(exc).strip().splitlines()
    cause = lines[0] if lines else type(exc).__name__
    if len(cause) > _CAUSE_LIMIT:
        cause = cause[: _CAUSE_LIMIT - 3] + "..."
    return MissingExtraError(
        f"{what}: needs the '{module}' package, which is installed but does not import: {type(exc).__name__}: {cause}"
    )

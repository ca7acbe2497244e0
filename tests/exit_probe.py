"""Probes of what the console command leaves when it ends: it leaves with ``os._exit`` once its output is flushed
(exit handlers never run), so a probe runs there."""

from __future__ import annotations


def at_exit(statement: str) -> str:
    """Python source that makes the process run ``statement`` (one line) when it calls ``os._exit``, in that process
    only (its forked workers end with ``os._exit`` too)."""
    return (
        "import os as _os\n"
        "_leave, _me = _os._exit, _os.getpid()\n"
        "def _probe(code):\n"
        "    if _os.getpid() == _me:\n"
        f"        {statement}\n"
        "    _leave(code)\n"
        "_os._exit = _probe\n"
    )

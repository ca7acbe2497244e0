"""Progress on stderr, shown only when it is a terminal and the work proves long: a bar for long reads, a status
line for a long design search."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scalematch._text import counted

LONG_READ_BYTES = 32 << 20
LONG_SEARCH_SECONDS = 2.0


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback that shows a rich bar on stderr, started only once a read proves long."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
    task: list[Any] = []

    def update(done: int, total: int) -> None:
        if not task:
            if total < LONG_READ_BYTES:
                return
            bar.start()
            task.append(bar.add_task("reading", total=total))
        bar.update(task[0], completed=done)

    try:
        yield update
    finally:
        if task:
            bar.stop()


@contextmanager
def search_status(enabled: bool) -> Iterator[None]:
    """While the block runs, a status line on stderr counting a design search's simulations, started once the
    block has run :data:`LONG_SEARCH_SECONDS` (a search of absurd anchors can run for minutes; silence would look
    like a hang)."""
    if not enabled:
        yield
        return
    from rich.console import Console

    from scalematch.match.search import SIMULATED

    started = time.monotonic()
    status: list[Any] = []

    def simulated(runs: int) -> None:
        if not status:
            if time.monotonic() - started < LONG_SEARCH_SECONDS:
                return
            status.append(Console(stderr=True).status(""))
            status[0].start()
        status[0].update(f"design search: {counted(runs, 'design')} simulated")

    token = SIMULATED.set(simulated)
    try:
        yield
    finally:
        SIMULATED.reset(token)
        if status:
            status[0].stop()

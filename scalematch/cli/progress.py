"""A progress bar for long reads, on stderr, shown only when it is a terminal and the read proves long."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

LONG_READ_BYTES = 32 << 20


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

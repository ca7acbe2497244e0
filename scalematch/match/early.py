"""``recommend --detector`` on a large COCO file: the assigner simulation started on the reader's box columns, while
the box table is still being built.

After the read, one thread builds the table (names, resize columns, the rows the toolkit trains on) for most of a
second while the other core waits. The compiled max-IoU assigner runs without the GIL, so it can run meanwhile:
:class:`Early` receives the checked columns from the reader (:func:`~scalematch.dataset.table.columns_watched`),
takes the non-crowd rows, sets the simulation up and runs it in a thread. :meth:`Early.take` then compares the
rows :func:`~scalematch.match.detector.evaluate` simulates with those, column by column: the result is used only
when they are the same boxes of the same images in the same order, else it is dropped and the simulation runs as
before. Any error of the early start drops it too (the regular run meets it again and reports it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from scalematch.match.assign import Running, Simulation
from scalematch.match.result import Selected
from scalematch.presets.preset import MaxIoU, MMDetInput, Preset, SSDMatch, TorchvisionInput
from scalematch.profile.graph import Graph

SAME = ("image_id", "image_w", "image_h", "x", "y", "w", "h", "area", "ignore")
"""The columns the simulation of a torchvision or mmdetection preset reads (``geometry.objects``, the images'
sizes): the early run's and the final rows' must be equal."""


def suits(preset: Preset) -> bool:
    """Whether ``preset`` simulates with the max-IoU assigner (compiled: it runs without the GIL) on the rows
    :class:`Early` takes: a torchvision or mmdetection input (the YOLO presets read label columns the table
    gains later)."""
    return isinstance(preset.assigner, MaxIoU | SSDMatch) and isinstance(preset.input, TorchvisionInput | MMDetInput)


class Early:
    """A simulation of ``preset`` over the levels of the graph ``graph()`` gives (None: none built, no early run),
    started by :meth:`start` on the reader's columns."""

    def __init__(self, preset: Preset, graph: Callable[[], Graph | None], min_iou: float, workers: int | None) -> None:
        self.preset, self.graph, self.min_iou, self.workers = preset, graph, min_iou, workers
        self.rows: Selected | None = None
        self.running: Running | None = None
        self.thread: threading.Thread | None = None

    def start(self, columns: Mapping[str, Any]) -> None:
        """The reader's watcher: take the non-crowd rows of ``columns`` (by position: the arrays, made read only,
        are the table's) and, in a thread, set the simulation up on them (about a tenth of a second, mostly numpy
        work that leaves the GIL to the table's build meanwhile) and run it, when the compiled assigner is what
        runs it (loaded while the file was read); else nothing."""
        from scalematch.match.assign import _compiled
        from scalematch.pool import in_background, settle

        settle()  # the thread that builds the graph and loads the kernel while the file is read
        graph = self.graph()
        if graph is None or not _compiled.active():
            return
        import numpy as np
        import pandas as pd

        given = {name: np.asarray(columns[name]) for name in SAME}
        for values in given.values():
            values.flags.writeable = False  # the reader's arrays (the table's columns): from here on, read only
        keep = np.flatnonzero(np.asarray(columns["iscrowd"]) == 0)
        self.rows = Selected(pd.DataFrame(given, copy=False), keep)
        self.thread = in_background(lambda: self._run(graph), "scalematch-simulation")

    def _run(self, graph: Graph) -> None:
        assert self.rows is not None
        try:
            running = Running(self.preset, self.rows, graph, self.min_iou, self.workers)
            running.run()
        except BaseException:  # e.g. an image too small for the network: the regular run meets it and says so
            return
        self.running = running

    def take(self, preset: Preset, rows: Selected, min_iou: float, workers: int | None) -> Simulation | None:
        """The early run's :class:`Simulation` for ``rows`` when it is the one asked for: the same preset, quality
        floor and workers, and ``rows`` the rows it ran on (same columns :data:`SAME`, equal, in the same order,
        no VOC column); else None. It waits for the run to end."""
        if self.thread is None:
            return None
        self.thread.join()
        mine, running = self.rows, self.running
        self.rows = self.running = self.thread = None
        if mine is None or running is None:
            return None
        asked = (preset, min_iou, workers) == (self.preset, self.min_iou, self.workers)
        same = asked and len(rows) == len(mine) and "voc" not in rows.columns
        return running.result(rows) if same and all(_same_column(mine, rows, name) for name in SAME) else None


def _same_column(mine: Selected, theirs: Selected, name: str) -> bool:
    """Whether column ``name`` of two row selections of equal length holds the same values in the same order: the
    same array (address, layout, type; the table's column is the reader's array, which :meth:`Early.start` made
    read only) at the same positions, else compared value by value, bit for bit (NaN equals NaN; a 0.0 that was
    -0.0 drops the run, which is only slower)."""
    import numpy as np

    if name not in theirs.columns:
        return False
    ours = mine.table[name].to_numpy()
    given = theirs.table[name].to_numpy()
    face, other = ours.__array_interface__, given.__array_interface__
    same_array = not ours.flags.writeable and {**face, "data": face["data"][0]} == {**other, "data": other["data"][0]}
    shared = same_array and (
        mine.positions is theirs.positions
        or (mine.positions is not None and theirs.positions is not None
            and bool(np.array_equal(mine.positions, theirs.positions)))
    )  # fmt: skip
    if shared:
        return True
    a, b = mine.column(name), theirs.column(name).astype(ours.dtype, copy=False)
    bits = f"u{a.dtype.itemsize}"
    return bool(np.array_equal(a.view(bits), b.view(bits)))

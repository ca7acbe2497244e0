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
from typing import TYPE_CHECKING, Any

from scalematch.match.assign import Running, Simulation
from scalematch.presets.preset import MaxIoU, MMDetInput, Preset, SSDMatch, TorchvisionInput
from scalematch.profile.graph import Graph

if TYPE_CHECKING:
    import pandas as pd

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
        self.rows: dict[str, Any] | None = None
        self.running: Running | None = None
        self.thread: threading.Thread | None = None

    def start(self, columns: Mapping[str, Any]) -> None:
        """The reader's watcher: take the non-crowd rows of ``columns``, set the simulation up on them here (a tenth
        of a second; in a thread it took turns for the GIL with the table's build) and run it in a thread, when
        the compiled assigner is what runs it (loaded while the file was read); else nothing."""
        from scalematch.match.assign import _compiled
        from scalematch.pool import in_background, settle

        settle()  # the thread that builds the graph and loads the kernel while the file is read
        graph = self.graph()
        if graph is None or not _compiled.active():
            return
        import numpy as np
        import pandas as pd

        keep = np.asarray(columns["iscrowd"]) == 0
        rows = {name: np.asarray(columns[name])[keep] for name in SAME}
        try:
            running = Running(self.preset, pd.DataFrame(rows, copy=False), graph, self.min_iou, self.workers)
        except Exception:  # e.g. an image too small for the network: the regular run meets it and says so
            return
        self.rows = rows
        self.thread = in_background(lambda: self._run(running), "scalematch-simulation")

    def _run(self, running: Running) -> None:
        try:
            running.run()
        except BaseException:  # an error of a chunk: the regular run meets it and says so
            return
        self.running = running

    def take(self, preset: Preset, rows: pd.DataFrame, min_iou: float, workers: int | None) -> Simulation | None:
        """The early run's :class:`Simulation` for ``rows`` when it is the one asked for: the same preset, quality
        floor and workers, and ``rows`` the rows it ran on (same columns :data:`SAME`, equal, in the same order,
        no VOC column); else None. It waits for the run to end."""
        import numpy as np

        if self.thread is None:
            return None
        self.thread.join()
        mine, running = self.rows, self.running
        self.rows = self.running = self.thread = None
        if mine is None or running is None:
            return None
        asked = (preset, min_iou, workers) == (self.preset, self.min_iou, self.workers)
        same = asked and len(rows) == len(mine["x"]) and "voc" not in rows.columns
        for name in SAME:
            if not same:
                break
            ours = mine[name]
            theirs = rows[name].to_numpy(dtype=ours.dtype) if name in rows.columns else None
            # the same bits (NaN equals NaN; a 0.0 that was -0.0 drops the run, which is only slower)
            bits = f"u{ours.dtype.itemsize}"
            same = theirs is not None and bool(np.array_equal(ours.view(bits), theirs.view(bits)))
        return running.result(rows) if same else None

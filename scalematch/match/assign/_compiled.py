"""Which max-IoU assigner runs: the compiled one (``_kernel``, numba: ``pip install 'scalematch[fast]'``) or the
numpy one. Both give the same result, bit for bit; the compiled one takes 25-35% of the numpy one's CPU time on
large datasets.

Loading numba and the kernel costs a process about half a second (numba's import, and the kernel from numba's
on-disk cache: ``cache=True``, in the ``__pycache__`` folder beside ``_kernel.py``, or numba's per-user cache folder
when that one is not writable, or ``NUMBA_CACHE_DIR``; the first run on a machine compiles it, about 10 s), and
its exit about 0.2 s more, while the time it saves is spread over the workers (threads: the kernel runs without
the GIL). So :func:`prepare` loads it once the process's simulations have reached :data:`AUTO_OBJECTS` objects per
worker in all (one large dataset, or a design search's many simulations of a sample), or earlier while a large
file is read (``scalematch.match.api._preload``), or after a simulation of many more positives than objects
(:func:`after`), and from then on the process uses it for every simulation.
``SCALEMATCH_COMPILED=0`` in the environment forces the numpy assigner, ``=1`` the compiled one whatever the size
(an error when numba does not import).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalematch.match.assign._grid import AnchorLevel
    from scalematch.match.assign.maxiou import Assigned, Boxes

ENV = "SCALEMATCH_COMPILED"
"""0: always the numpy assigner; 1: always the compiled one; unset (or anything else): by size."""

AUTO_OBJECTS = 250_000
"""Objects simulated in a process, per worker, from which it loads the compiled assigner (when numba is
installed): about where the time it saves exceeds what loading it costs (about 2 microseconds of CPU saved per
object on a quiet machine, shared by the workers; about 0.5 s to load and 0.2 s at exit; measured on
train2017-sized data, benchmarks/RESULTS.md)."""

TYPICAL_POSITIVES = 32
"""Positives per object a max-IoU preset gives about (RetinaNet on COCO: 23; Faster R-CNN's RPN: fewer)."""

AUTO_EXCESS_POSITIVES = 500_000
"""Positives beyond :data:`TYPICAL_POSITIVES` per object, in one simulation, from which the process loads the
compiled assigner for its later ones (see :func:`after`): the numpy assigner's time grows with the (object, anchor)
pairs it resolves, about 3 microseconds of CPU each against under 1 in the kernel, so this much excess already costs
it more than loading the kernel does."""

_loaded: list[Callable[..., None] | None] = []
_simulated = [0]
"""Objects this process has asked :func:`prepare` about."""


def _setting() -> str:
    return os.environ.get(ENV, "").strip()


def kernel() -> Callable[..., None] | None:
    """The compiled assigner, importing numba now if needed; None when numba does not import."""
    if not _loaded:
        try:
            _without_blas_probe()
            from scalematch.match.assign import _kernel
        except Exception:  # not installed, or a numba that does not work beside this numpy
            _loaded.append(None)
        else:
            _loaded.append(_kernel.assign)
    return _loaded[0]


def _without_blas_probe() -> None:
    """In the console command's process (:func:`scalematch.pool.owns_process`), import numba's array functions
    with ``scipy.linalg`` refused: on their import they probe for BLAS by importing it when SciPy is installed
    (about 0.35 s, a third of numba's load), and the kernel calls no BLAS. numba then registers no BLAS-backed
    functions, in this process only. Elsewhere (a library call: the host may run numba code of its own that needs
    them) nothing changes."""
    import sys

    from scalematch.pool import owns_process

    if not owns_process() or "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # its import raises ImportError
    try:
        import numba.np.arraymath  # type: ignore[import-untyped, unused-ignore]  # noqa: F401
    finally:
        if "scipy.linalg" in sys.modules and sys.modules["scipy.linalg"] is None:
            del sys.modules["scipy.linalg"]


def active() -> bool:
    """Whether :func:`maxiou.assign` runs the compiled kernel now: loaded (by :func:`prepare`) or forced by
    ``SCALEMATCH_COMPILED=1``, and not turned off by ``SCALEMATCH_COMPILED=0``."""
    setting = _setting()
    if setting == "0":
        return False
    if setting == "1":
        if kernel() is None:
            from scalematch.errors import MissingExtraError

            raise MissingExtraError(
                f"{ENV}=1 asks for the compiled assigner, but numba does not import; install scalematch[fast] "
                "(pip install 'scalematch[fast]')"
            )
        return True
    return bool(_loaded) and _loaded[0] is not None


def numba_version() -> str | None:
    """The version of numba the compiled assigner runs on, or None when numba does not import."""
    if kernel() is None:
        return None
    import numba  # type: ignore[import-untyped, unused-ignore]

    return str(numba.__version__)


def prepare(objects: int | None = None, workers: int = 1) -> bool:
    """Load the compiled kernel now when a simulation of ``objects`` objects on ``workers`` threads should use it
    (None: whatever the size): numba installed, not turned off, and this process's simulations reaching
    :data:`AUTO_OBJECTS` objects per worker with this one (or forced). Returns whether the compiled assigner will
    run."""
    import numpy as np

    from scalematch.match.assign.maxiou import Boxes

    setting = _setting()
    if setting == "0":
        return False
    _simulated[0] += objects or 0
    if setting != "1" and objects is not None and _simulated[0] < AUTO_OBJECTS * max(workers, 1) and not active():
        return False
    if kernel() is None:
        return active()  # raises when forced
    none = np.zeros(0, np.float32)
    run(Boxes(np.zeros(0, np.int64), none, none, none, none), [], 0.5, True, True, 0.0)
    return True


def after(objects: int, positives: int) -> None:
    """Note a finished max-IoU simulation of ``objects`` objects that gave ``positives`` positives: anchors much
    larger than their objects (a preset's, or a design search's variation) tie at one IoU over much of the image,
    and every tied anchor is a positive; when the positives exceed :data:`TYPICAL_POSITIVES` per object by
    :data:`AUTO_EXCESS_POSITIVES` or more, the process loads the compiled assigner (numba installed and not turned
    off) for its later simulations, such as a design search's many."""
    if _setting() in ("0", "1") or active():
        return
    if positives - TYPICAL_POSITIVES * objects >= AUTO_EXCESS_POSITIVES:
        prepare(None)


ROOM = 4096
"""Slots (anchors an image's windows touch) and entries (pairs of one object) the compiled assigner's scratch
tables start with; they double when an image or an object needs more."""

DENSE_ANCHORS = 1 << 20
"""Images with at most this many anchors may get a slot per anchor (indexed by its key, about 60 bytes an anchor);
larger ones get a slot per anchor their objects' windows touch, through a hash table (see :data:`_dense`)."""

_dense = [False]
"""Whether the last call of the kernel in this process found most of its images packed (their objects touching one
in ``_kernel.DENSITY`` of their anchors or more: anchors far larger than the objects tie over much of the image).
The next call then gives images of up to :data:`DENSE_ANCHORS` anchors a slot per anchor (the fastest there: 35%
less time than the hash table); otherwise every image goes through the hash table, whose tables stay small enough
to stay in the processor's caches while the slots indexed by key spread an image's few hundred touched anchors over
megabytes (20-25% less time on COCO-like data, benchmarks/RESULTS.md). Either way the result is the same; the
first call of a process starts with the hash table."""


def run(
    boxes: Boxes,
    levels: list[AnchorLevel],
    high: float,
    low_quality: bool,
    forced: bool,
    floor: float,
    room: list[int] | None = None,
) -> Assigned:
    """maxiou.assign through the compiled kernel (which must be available: see :func:`kernel`). ``room``, when
    given, receives the sizes the kernel's scratch tables reached: slots (on images above :data:`DENSE_ANCHORS`
    anchors, the most anchors one image's windows touched, rounded up to a power of two times :data:`ROOM`; else
    at least the image's anchors) and entries (the most pairs of one object, likewise rounded up)."""
    import numpy as np

    from scalematch.match.assign.maxiou import RELAX, SLACK, Assigned

    fn = kernel()
    assert fn is not None
    image = np.asarray(boxes.image, np.int64)
    n = len(image)
    lo = int(image.min()) if n else 0
    hi = int(image.max()) + 1 if n else 0
    nl = len(levels)
    big = max([lv.shapes for lv in levels], default=0)

    def per_image(values: list[Any], dtype: Any) -> Any:
        out = np.zeros((nl, hi - lo), dtype)
        for li, v in enumerate(values):
            out[li] = np.asarray(v)[lo:hi]
        return out

    def per_shape(values: list[Any], dtype: Any) -> Any:
        out = np.zeros((nl, big), dtype)
        for li, v in enumerate(values):
            out[li, : len(v)] = v
        return out

    rows = per_image([lv.grid.rows for lv in levels], np.int64)
    cols = per_image([lv.grid.cols for lv in levels], np.int64)
    nshapes = np.array([lv.shapes for lv in levels], np.int64)
    level_start = np.zeros((nl + 1, hi - lo), np.int64)
    np.cumsum(rows * cols * nshapes[:, None], axis=0, out=level_start[1:])
    sw = per_image([lv.grid.stride_w for lv in levels], np.float64)
    sh = per_image([lv.grid.stride_h for lv in levels], np.float64)
    gi = np.stack([rows, cols, sw.astype(np.int64), sh.astype(np.int64)]).reshape(4, nl, hi - lo)
    gf = np.stack([sw, sh]).reshape(2, nl, hi - lo)
    sizes = np.zeros((2, hi - lo), np.float64)
    if levels:
        sizes[0], sizes[1] = levels[0].input_w[lo:hi], levels[0].input_h[lo:hi]
    nominal = [lv.nominal() for lv in levels]
    s32 = np.stack([per_shape([getattr(lv, f) for lv in levels], np.float32) for f in ("lo_w", "hi_w", "lo_h", "hi_h")])
    s64 = np.stack([per_shape([nm[i] for nm in nominal], np.float64) for i in range(4)])
    level_area = np.zeros((2, nl), np.float64)  # per level, the least and the largest nominal anchor area
    for li, nm in enumerate(nominal):
        level_area[:, li] = (nm[0] * nm[1]).min(), (nm[0] * nm[1]).max()
    ssd = np.array([lv.kind == "ssd" for lv in levels], np.bool_)
    step = np.array([lv.step for lv in levels], np.float64)
    box = np.stack([boxes.x1, boxes.y1, boxes.x2, boxes.y2]).astype(np.float32).reshape(4, n)
    positives = np.zeros((n, nl), np.int64)
    best = np.zeros(n, np.float32)
    lost = np.zeros(n, np.bool_)
    weak = np.zeros(n, np.int64)
    sizes_out = np.array([ROOM, ROOM, 0, 0], np.int64)  # slots, entries, the object to start at, packed
    dense = DENSE_ANCHORS if _dense[0] else 0
    while True:  # (at least once: prepare() loads the kernel by calling it on nothing)
        fn(
            image - lo, box, np.float32(high), bool(low_quality), bool(forced), np.float32(floor), gi, level_start,
            gf, sizes, nshapes, ssd, step, s32.reshape(4, nl, big), s64.reshape(4, nl, big), level_area,
            float(SLACK), float(RELAX), positives, best, lost, weak, sizes_out, dense,
        )  # fmt: skip
        if sizes_out[2] >= n:
            break  # else again from the image that needed larger tables, with them
    if n:
        _dense[0] = bool(sizes_out[3])
    if room is not None:
        room[:] = [int(v) for v in sizes_out[:2]]
    return Assigned(positives, best, lost, weak)

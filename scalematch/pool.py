"""Work spread over this machine's cores: forked worker processes, results in submission order."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor, ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    """The cores this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Whether worker processes can start as forks of this one (sharing its memory, nothing pickled)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
    wait: bool = True,
) -> Iterator[R]:
    """``fn`` over ``items`` in ``workers`` forked processes, yielding results in order; at most twice as many
    items in flight as workers, so memory stays bounded by the items, not their number. ``initializer`` runs
    once in each worker (under fork its arguments are inherited, not pickled). ``wait``: as
    :func:`worker_pool`'s. Call it only when :func:`can_fork`."""
    with worker_pool(workers, initializer, initargs, wait) as pool:
        yield from _in_order(pool, fn, items, workers)


def thread_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` in ``workers`` threads of this process, yielding results in order, as
    :func:`ordered_map` does: for a function that releases the GIL for most of its time (compiled code), which
    then shares this process's memory with nothing forked or pickled. An exception (Ctrl-C included) cancels
    the items not yet started and waits for those running."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix="scalematch-worker")
    try:
        yield from _in_order(pool, fn, items, workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _in_order(pool: Executor, fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """Results of ``fn`` over ``items`` in order, at most twice as many in flight as ``workers``."""
    from concurrent.futures import Future

    pending: list[Future[R]] = []
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) > 2 * workers:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


@contextmanager
def worker_pool(
    workers: int, initializer: Callable[..., Any] | None = None, initargs: tuple[Any, ...] = (), wait: bool = True,
    starts: bool = True,
) -> Iterator[ProcessPoolExecutor]:  # fmt: skip
    """A pool of ``workers`` forked processes that end with this one (see :func:`ordered_map`); call it only when
    :func:`can_fork`. The workers ignore SIGINT: a Ctrl-C in a terminal, sent to every process of the group,
    interrupts this process only (a worker stopped while it wrote a result to its pipe would leave the pool's
    result reader, and so the interpreter's exit, waiting forever). When the block raises, the tasks not yet
    started are cancelled and the workers end after their current one. When it ends, it waits for the workers to
    end, unless ``wait`` is False and this is the console command's process (:func:`own_process`): then they end
    while it goes on (a large reader's worker takes tens of milliseconds to give its memory back), and
    :func:`finish`, called when the command ends, waits for them. (Left to the interpreter's exit, Python 3.11's
    ``concurrent.futures`` can race its own pool thread there and print an ``OSError: Bad file descriptor``
    traceback after the run.) With ``starts`` False, the tasks of :func:`meanwhile` blocks waiting for a pool
    to fork are left for the caller to start (:func:`start_meanwhile`) once it only waits for its workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    settle()  # no thread of ours runs while this process forks
    while _background:
        _background.pop().join()
    if owns_process():
        import gc

        gc.freeze()  # see fewer_collections
    context = multiprocessing.get_context("fork")
    start = (initializer, initargs, os.getpid())
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=start)
    try:
        if _waiting and starts:
            pool.submit(int).result()  # the pool forks every worker at its first task
            start_meanwhile()
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    if wait or not owns_process():
        pool.shutdown(wait=True)
        return
    ending = threading.Thread(target=pool.shutdown, name="scalematch-pool-end")  # shutdown(wait=True) there
    ending.start()
    _ending.append(ending)


_waiting: list[Callable[[], object]] = []
"""Tasks of :func:`meanwhile` blocks, to start once a pool has forked its workers."""
_running: list[threading.Thread] = []


@contextmanager
def meanwhile(task: Callable[[], object]) -> Iterator[None]:
    """Run ``task`` in a thread of this process while the block's work waits on worker processes: it starts as
    soon as a pool opened in the block has forked its workers, and the block's end waits for it (nothing runs
    when no pool opens). For what the process needs after the block (a library's import, a compiled function's
    load), done while it would otherwise only wait for its workers' results. A pool opened later waits for the
    thread to end before it forks (a thread running during a fork can leave the child a lock it held).
    ``task``'s exceptions are dropped: the code that needs its work does it again and meets them there. When the
    block raises (Ctrl-C included), it does not wait: the thread, a daemon, ends on its own or with the process."""
    _waiting.append(task)
    try:
        yield
    finally:
        if task in _waiting:
            _waiting.remove(task)
    settle()


def start_meanwhile() -> None:
    """Start the tasks of :func:`meanwhile` blocks that wait for a pool to fork; call it only once the workers
    of an open pool have forked (see ``starts`` of :func:`worker_pool`)."""

    def quietly(task: Callable[[], object]) -> None:
        with suppress(Exception):  # see meanwhile
            task()

    while _waiting:
        thread = threading.Thread(target=quietly, args=(_waiting.pop(0),), name="scalematch-meanwhile", daemon=True)
        thread.start()
        _running.append(thread)


_background: list[threading.Thread] = []
"""Threads of :func:`in_background`: a pool waits for them before it forks."""


def in_background(task: Callable[[], object], name: str) -> threading.Thread:
    """Run ``task`` in a daemon thread started now (it must catch its own exceptions); a pool opened later waits for
    it to end before it forks (see :func:`meanwhile`). The caller joins it when it needs its work."""
    thread = threading.Thread(target=task, name=name, daemon=True)
    thread.start()
    _background.append(thread)
    return thread


def settle() -> None:
    """Wait for the threads :func:`meanwhile` started."""
    while _running:
        _running.pop().join()


_ending: list[threading.Thread] = []
"""Threads waiting for a pool's workers to end while the command goes on (:func:`worker_pool`, ``wait`` False)."""


def finish() -> None:
    """Wait for the pools whose workers were left to end while the command went on (:func:`worker_pool`): the
    console command calls it when it ends, before the interpreter's exit."""
    while _ending:
        _ending.pop().join()


def _worker_start(initializer: Callable[..., Any] | None, initargs: tuple[Any, ...], parent: int) -> None:
    """In a new worker: ignore SIGINT (see :func:`worker_pool`), end with the parent (Linux: a worker whose parent
    was stopped by SIGTERM would otherwise wait on its queue forever; a parent ``parent`` that ended before the
    worker asked for that, between the fork and here, is seen by the worker's new parent id), then the caller's
    ``initializer``."""
    import ctypes
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            pr_set_pdeathsig = 1
            ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:
            os._exit(1)
    if initializer is not None:
        initializer(*initargs)


_own: list[bool] = [False]


def own_process() -> None:
    """Called by the command line only: this process is scalematch's own, so settings a library must leave to
    its host may change (:func:`keep_freed_memory`, :func:`no_huge_pages`, :func:`fewer_collections`; the
    compiled assigner loads numba without its BLAS probe, see :func:`owns_process`)."""
    keep_freed_memory()
    no_huge_pages()
    fewer_collections()
    _own[0] = True


def fewer_collections() -> None:
    """Python's cycle collector, tuned for a short batch process: a young collection every 10,000 new container
    objects instead of 700, so that the importing of pandas and numba and the reading of a large file trigger a
    few dozen collections, and rarely a full one (which walks every object of the process: 0.04-0.07 s each once
    pandas and numba are imported); and :func:`worker_pool` freezes the objects that exist when it forks (they
    stay alive, never walked again), so its worker processes do not walk what they inherit. On a train2017-sized
    file the collector's time (the process and its two reading workers, measured with ``gc.callbacks``) went
    from 0.35-0.4 s to 0.15 s in ``recommend`` and from 0.15 s to 0.04 s in ``stats``. The cost: a cycle of
    objects that becomes garbage is freed a little later, and one that is garbage when a pool forks is never
    freed (the run is short). Called by the command line only: a library must leave its host's collector
    alone."""
    import gc

    gc.set_threshold(10_000, 10, 10)


def owns_process() -> bool:
    """Whether :func:`own_process` was called (the console command), not a library call in someone's process."""
    return _own[0]


def keep_freed_memory() -> None:
    """glibc only (a no-op elsewhere): keep freed memory in the process for reuse instead of returning it to
    the system after every large array. The simulation allocates and frees arrays of megabytes thousands of
    times; with glibc's defaults each one is a fresh mapping that the kernel zero-fills page by page, which
    costs a third as much time as the work itself. Peak memory is unchanged. Called by the command line only:
    a library must not change its host's allocator."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest: blocks up to 32 MiB come from the heap
    mallopt(m_trim_threshold, 1 << 30)  # give the heap back only when a GiB lies free at its top
    mallopt(m_top_pad, 64 << 20)


def no_huge_pages() -> None:
    """numpy asks Linux for transparent huge pages on every array of 4 MiB or more (``madvise``): a page of 2 MiB
    is zeroed whole on first touch, and again each time the allocator gives freed memory back. The simulation's
    threads allocate and free such arrays per chunk of images, and ``recommend`` spent 0.4-1.3 s of system time
    zeroing pages on train2017-sized data (0.4 s without; benchmarks/RESULTS.md); so the console command turns it
    off, before numpy is imported (``NUMPY_MADVISE_HUGEPAGE=0``, which its worker processes inherit), or through
    numpy's own switch once it is. Called by the command line only: a library must not change its host's numpy.
    A value the user set is kept."""
    import sys

    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    if "numpy" not in sys.modules:
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        switch = getattr(sys.modules.get(module), "_set_madvise_hugepage", None)
        if switch is not None:
            switch(False)
            return

"""Worker processes end with the command that started them, however it is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from exit_probe import at_exit

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "import time; from scalematch.pool import ordered_map; list(ordered_map(time.sleep, [60.0] * 4, 2))"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; the parent-death signal is Linux's")
def test_workers_end_when_their_parent_is_stopped_by_sigterm() -> None:
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = _children(parent.pid)
        assert len(workers) == 2
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
        assert alive == []
    finally:
        parent.kill()
        for w in workers:
            if Path(f"/proc/{w}").exists():
                os.kill(w, signal.SIGKILL)


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_ctrl_c_while_the_command_is_imported_ends_it_quietly() -> None:
    """A KeyboardInterrupt raised while the command line's modules are imported (a Ctrl-C in the first tens of
    milliseconds) ends the command with exit 130 and no traceback, as one afterwards does."""
    script = (
        "import builtins\n"
        "real = builtins.__import__\n"
        "def interrupted(name, *args, **kwargs):\n"
        "    if name == 'typer':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = interrupted\n"
        "from scalematch.__main__ import run\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (130, "")


def test_the_command_waits_for_workers_it_left_to_end(tmp_path: Path) -> None:
    """Shards read by worker processes that end while the command prints (worker_pool's wait=False): the
    command waits for them when it ends, so no pool thread is left to the interpreter's exit (where Python 3.11's
    concurrent.futures raced its own thread and printed an 'OSError: Bad file descriptor' traceback after about a
    third of the runs); a library call waits for them at once."""
    doc = (
        '{"images": [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"}], "annotations": [{"id": 1, '
        '"image_id": 1, "category_id": 1, "bbox": [1, 1, 20, 20], "area": 400, "iscrowd": 0}], '
        '"categories": [{"id": 1, "name": "%s"}]}'
    )
    for n, name in ((1, "c"), (2, "c"), (3, "other")):
        (tmp_path / f"s{n}.json").write_text(doc % name, encoding="utf-8")
    probe = (
        at_exit(  # the command ends with os._exit once its output is flushed: the threads left then
            "print('threads', [t.name for t in threading.enumerate() if t is not threading.main_thread()], "
            "file=sys.stderr, flush=True)"
        )
        + "import sys, threading\nfrom scalematch.cli.main import main\n"
        + "sys.argv = ['scalematch', 'stats', *sys.argv[1:]]\nmain()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for inputs, code in (
        (["s1.json", "s2.json"], 0),
        (["s1.json", "s2.json", "--json"], 0),
        (["s1.json", "s3.json"], 2),
    ):
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-c", probe, *inputs, "--workers", "2"], cwd=tmp_path, env=env, capture_output=True,
                text=True, timeout=120,
            )  # fmt: skip
            lines = done.stderr.splitlines()
            assert done.returncode == code and lines[-1] == "threads []", done.stderr
            assert len(lines) == 1 + (code == 2)  # the one Error: line, and nothing after the run
    from scalematch.dataset.shards import summarize_files

    summarize_files([tmp_path / "s1.json", tmp_path / "s2.json"], workers=2)
    assert [t.name for t in threading.enumerate() if t.name.startswith("scalematch")] == []


_done: list[str] = []


def _seen(_: object) -> list[str]:
    """In a worker: what the parent had in ``_done`` when the worker forked."""
    return list(_done)


def test_meanwhile_runs_its_task_once_the_pool_has_forked_and_before_the_next_fork() -> None:
    import multiprocessing

    from scalematch.pool import meanwhile, ordered_map, worker_pool

    children: list[int] = []
    counted = threading.Event()

    def task() -> None:
        children.append(len(multiprocessing.active_children()))
        counted.set()
        time.sleep(0.3)
        _done.append("task")
        raise RuntimeError("dropped: the code that needs the work does it again")

    _done.clear()
    with meanwhile(task):
        with worker_pool(2) as pool:
            assert pool.submit(_seen, None).result() == []  # forked before the task ran
            # the pool stays open until the task has counted its workers (on a busy machine the thread may
            # first run after the block has shut the pool down)
            assert counted.wait(60)
        assert list(ordered_map(_seen, [None], 1)) == [["task"]]  # this fork waited for the task's end
    assert children == [2]
    assert _done == ["task"]


def test_meanwhile_runs_nothing_when_no_pool_opens_and_waits_for_its_task_at_the_end() -> None:
    from scalematch.pool import meanwhile, worker_pool

    ran: list[int] = []
    with meanwhile(lambda: ran.append(1)):
        pass
    assert ran == []

    def slow() -> None:
        time.sleep(0.3)
        ran.append(2)

    with meanwhile(slow), worker_pool(1) as pool:
        pool.submit(int).result()
    assert ran == [2]
    with worker_pool(1) as pool:  # a task of a block that has ended never runs
        pool.submit(int).result()
    assert ran == [2]


def test_thread_map_gives_results_in_order_and_raises_the_first_error() -> None:
    from scalematch.pool import thread_map

    def slow_square(x: int) -> int:
        time.sleep(0.001 * (7 - x % 7))
        if x == 50:
            raise ValueError(x)
        return x * x

    assert list(thread_map(slow_square, range(40), 3)) == [x * x for x in range(40)]
    got: list[int] = []
    with pytest.raises(ValueError, match="50"):
        for value in thread_map(slow_square, range(100), 3):
            got.append(value)
    assert got == [x * x for x in range(50)]


def test_meanwhile_does_not_wait_for_its_task_when_the_block_raises() -> None:
    import threading

    from scalematch.pool import meanwhile, worker_pool

    release = threading.Event()
    ended: list[bool] = []

    def slow() -> None:
        release.wait(30)
        ended.append(True)

    with pytest.raises(KeyboardInterrupt), meanwhile(slow), worker_pool(1) as pool:
        pool.submit(int).result()
        raise KeyboardInterrupt
    assert ended == []  # the block's end did not wait for the task
    release.set()
    with worker_pool(1) as pool:  # a pool opened later waits for it before forking
        pool.submit(int).result()
    assert ended == [True]


def test_the_coco_reader_starts_a_meanwhile_task_once_its_workers_take_the_annotations(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """While the reader decodes the images itself, a meanwhile task would take turns with it for the GIL: the
    task starts when the annotations' pieces go to the workers, after the last piece of images (the sample with
    its images first, as train2017 has them), and the read's result is the one without it."""
    import json
    import threading

    import scalematch.dataset.formats.coco as coco
    from scalematch.dataset.loader import read_annotations
    from scalematch.pool import meanwhile

    given = json.loads(
        (Path(__file__).resolve().parents[1] / "scalematch" / "data" / "coco_val2014_100.json").read_text()
    )
    sample = tmp_path / "images_first.json"
    sample.write_text(json.dumps({key: given[key] for key in ("images", "annotations", "categories")}))
    plain = read_annotations(sample, workers=1)
    events: list[str] = []
    real = coco._images_fast

    def images_spy(*args: Any, **kwargs: Any) -> bool:
        events.append("images")
        return real(*args, **kwargs)

    started = threading.Event()

    def task() -> None:
        events.append("task")
        started.set()

    monkeypatch.setattr(coco, "_images_fast", images_spy)
    monkeypatch.setattr(coco, "PARALLEL_MIN", 1)
    with meanwhile(task):
        early = read_annotations(sample, workers=2)
    assert started.is_set() and "images" in events
    assert events.index("task") > max(k for k, e in enumerate(events) if e == "images")
    assert early.table.equals(plain.table) and early.excluded == plain.excluded


_BACKGROUND_DONE: list[int] = []
"""Written by the background thread of the test below; a forked worker reads its own copy (inherited)."""


def _background_done() -> int:
    return len(_BACKGROUND_DONE)


def test_a_pool_waits_for_the_background_threads_before_it_forks() -> None:
    """A thread of in_background (the early simulation's) still running when a pool is opened: the pool forks
    only once it has ended, and the workers it forks see its work done (in the memory they inherit: the call sent
    to the worker carries no data)."""
    from scalematch.pool import in_background, worker_pool

    _BACKGROUND_DONE.clear()

    def slow() -> None:
        time.sleep(0.4)
        _BACKGROUND_DONE.append(1)

    thread = in_background(slow, "test-background")
    with worker_pool(1) as pool:
        assert _BACKGROUND_DONE == [1] and not thread.is_alive()
        assert pool.submit(_background_done).result() == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_worker_whose_parent_ended_before_it_started_ends_at_once() -> None:
    """The parent may end (SIGTERM) between the fork and the worker's request to end with it: the worker sees
    another parent id than the one it was forked by and ends; with its parent there, it goes on."""
    from scalematch.pool import _worker_start

    for parent, code in ((os.getpid(), 0), (-1, 1)):
        child = os.fork()
        if child == 0:  # pragma: no cover (the child)
            try:
                _worker_start(None, (), parent)
            finally:
                os._exit(0)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == code


HUGE = (
    "import importlib, numpy; "
    "m = importlib.import_module('numpy._core.multiarray' if hasattr(numpy, '_core') else 'numpy.core.multiarray'); "
    "print(m._get_madvise_hugepage())"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="numpy asks for huge pages on Linux only")
@pytest.mark.parametrize(
    ("code", "env", "expected"),
    [
        ("from scalematch.pool import own_process; own_process(); ", None, "False"),  # before numpy's import
        ("import numpy; from scalematch.pool import own_process; own_process(); ", None, "False"),  # after it
        ("from scalematch.pool import own_process; own_process(); ", "1", "True"),  # the user's setting stays
        (
            "from scalematch.dataset import load, sample_path; load(sample_path()); ",
            None,
            "True",
        ),  # a library: as it was
    ],
)
def test_the_command_alone_turns_numpy_s_huge_pages_off(code: str, env: str | None, expected: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if env is not None:
        environ["NUMPY_MADVISE_HUGEPAGE"] = env
    done = subprocess.run([sys.executable, "-c", code + HUGE], env=environ, capture_output=True, text=True, check=True)
    assert done.stdout.split() == [expected]


COLLECTOR = (
    "import gc; from scalematch.pool import worker_pool; "
    "before = gc.get_freeze_count(); "
    "pool = worker_pool(2); p = pool.__enter__(); p.submit(int).result(); pool.__exit__(None, None, None); "
    "print(gc.get_threshold()[0] if gc.get_threshold() != start else 'unchanged', gc.get_freeze_count() > before)"
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("from scalematch.pool import own_process; own_process(); ", ["10000", "True"]),  # the command
        ("", ["unchanged", "False"]),  # a library: the host's collector as it was
    ],
)
def test_the_command_alone_tunes_the_cycle_collector(code: str, expected: list[str]) -> None:
    """The console command collects young objects every 10,000 new ones and freezes what exists when a pool forks
    (its workers never walk what they inherit); a library call leaves its host's collector alone."""
    script = "import gc; start = gc.get_threshold(); " + code + COLLECTOR
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == expected

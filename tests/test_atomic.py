"""Atomic outputs under faults: kills at every line of a report write (real child processes), SIGTERM/SIGINT,
concurrent writers, litter of killed runs, symbolic links, file modes, full disks, unwritable targets."""

from __future__ import annotations

import contextlib
import dis
import errno
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from scalematch import atomic
from scalematch.atomic import atomic_text, check_output, write_folder
from scalematch.errors import OptionError
from scalematch.report.bundle import REPORT_HTML, check_target, write_report

ROOT = Path(__file__).resolve().parents[1]
OLD = {REPORT_HTML: b'old <figure id="fig-overlay"> <figure id="fig-load">', "overlay.png": b"old a",
       "load.png": b"old b"}  # fmt: skip
NEW = {REPORT_HTML: b'new <figure id="fig-overlay"> <figure id="fig-shapes">', "overlay.png": b"new a",
       "shapes.png": b"new c" * 1000}  # fmt: skip
"""Reports whose pages name the figures they hold (a replacement removes only those)."""


def _content(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _litter(parent: Path, keep: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name != keep)


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _killed_at(step: int, out: Path, exchange: bool) -> int:
    """Fork a child that writes NEW over ``out`` (force) and SIGKILLs itself before its ``step``-th executed
    line of scalematch/atomic.py; returns the child's wait status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            if not exchange:
                atomic._exchange = lambda a, b: False
            count = [0]

            def local(frame, event, arg):  # type: ignore[no-untyped-def]
                if event == "line":
                    count[0] += 1
                    if count[0] == step:
                        os.kill(os.getpid(), signal.SIGKILL)
                return local

            def tracer(frame, event, arg):  # type: ignore[no-untyped-def]
                return local if frame.f_code.co_filename == atomic.__file__ else None

            sys.settrace(tracer)
            write_report(out, NEW, force=True)
            sys.settrace(None)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange-rename", "two-renames"])
def test_a_force_write_killed_at_any_line_leaves_a_complete_report(tmp_path: Path, exchange: bool) -> None:
    import ctypes  # noqa: F401 - imported before forking, as the child needs them
    import fcntl  # noqa: F401
    import glob  # noqa: F401

    kills = 0
    for step in range(1, 2000):
        out = tmp_path / f"run{step}" / "report"
        write_report(out, OLD)
        status = _killed_at(step, out, exchange)
        if os.WIFEXITED(status):
            assert os.WEXITSTATUS(status) == 0
            assert _content(out) == NEW
            break
        assert os.WTERMSIG(status) == signal.SIGKILL
        kills += 1
        if exchange:  # the target is a complete report at every instant
            assert _content(out) in (OLD, NEW), step
        check_target(out, force=True)  # the next run on the target: repairs, then checks
        assert _content(out) in (OLD, NEW), step
        write_report(out, {REPORT_HTML: b"third"}, force=True)
        assert _content(out) == {REPORT_HTML: b"third"}
        assert _litter(out.parent, "report") == [], step
    assert kills > 40  # every line of the write path was a kill point


def test_recovery_puts_back_a_report_set_aside_by_a_killed_run(tmp_path: Path) -> None:
    aside = tmp_path / ".r.old-1a2b3c4d"
    aside.mkdir()
    (aside / REPORT_HTML).write_bytes(b"old")
    (tmp_path / ".r.tmp-99999999").mkdir()
    (tmp_path / ".r.tmp-99999999" / REPORT_HTML).write_bytes(b"half")
    with pytest.raises(OptionError, match=r"a report is already there; pass --force"):
        check_target(tmp_path / "r", force=False)
    assert _content(tmp_path / "r") == {REPORT_HTML: b"old"}
    assert _litter(tmp_path, "r") == []


def test_litter_of_killed_runs_is_removed_by_the_next_write(tmp_path: Path) -> None:
    write_report(tmp_path / "r", OLD)
    for name in (".r.tmp-0badc0de", ".r.old-0badc0de"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "sweep.png").write_bytes(b"x")
    (tmp_path / ".r.lock").write_bytes(b"")
    (tmp_path / ".t.csv.tmp-0badc0de.csv").write_text("half")
    (tmp_path / ".rr.tmp-0badc0de").mkdir()  # another target's: not ours to remove
    write_report(tmp_path / "r", NEW, force=True)
    with atomic_text(tmp_path / "t.csv") as handle:
        handle.write("a,b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".rr.tmp-0badc0de", "r", "t.csv"]


def test_a_leftover_that_cannot_be_removed_is_one_warning_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The old report, swapped out by a --force write, cannot be removed (a busy mount, an I/O error): the new
    report stands, one warning line says what is left and why, and the next write tries again: it says so when it
    cannot either, and removes it when it can (review round 19, F14: it was left without a word)."""
    write_report(tmp_path / "r", OLD)

    def busy(path: Path, ignore_errors: bool = False) -> None:
        if ignore_errors:
            return
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))

    monkeypatch.setattr(shutil, "rmtree", busy)
    write_report(tmp_path / "r", NEW, force=True)
    left = _litter(tmp_path, "r")
    assert len(left) == 1 and left[0].startswith(".r.tmp-")
    assert _content(tmp_path / "r") == NEW and _content(tmp_path / left[0]) == OLD
    err = capsys.readouterr().err
    assert err == (
        f"warning: {tmp_path / 'r'}: could not remove the temporary folder {left[0]} beside it "
        f"({os.strerror(errno.EBUSY)}); the next write to it tries again\n"
    )
    atomic.recover_folder(tmp_path / "r")  # the next write, still refused: it says so (review round 27, F5)
    atomic.recover_folder(tmp_path / "r")  # once
    assert capsys.readouterr().err == (
        f"warning: {tmp_path / 'r'}: could not remove {left[0]} beside it, left by an earlier write "
        f"({os.strerror(errno.EBUSY)}); remove it by hand\n"
    )
    monkeypatch.undo()
    write_report(tmp_path / "r", OLD, force=True)
    assert _litter(tmp_path, "r") == [] and _content(tmp_path / "r") == OLD
    assert capsys.readouterr().err == ""


def test_a_live_writers_temporary_file_is_not_removed(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    with atomic_text(target) as first:
        first.write("first\n")
        with atomic_text(target) as second:  # its stale-file sweep must skip the file the first holds
            second.write("second\n")
        assert target.read_text() == "second\n"
    assert target.read_text() == "first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


BLOCK_IN_WRITE = """
    import sys
    from scalematch import atomic
    real = atomic._write_durably
    def blocking(path, content):
        real(path, content)
        print("ready", flush=True)
        sys.stdin.read()  # the barrier: blocks until the parent acts
    atomic._write_durably = blocking
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_sigterm_and_sigint_remove_the_temporary_folder(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "report"
    write_report(out, OLD)
    code = (
        BLOCK_IN_WRITE
        + """
    from pathlib import Path
    from scalematch.report.bundle import write_report
    write_report(Path(sys.argv[1]), {"report.html": b"new", "sweep.png": b"x"}, force=True)
    """
    )
    child = _child(code, str(out))
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    assert len(_litter(tmp_path, "report")) == 2  # the lock and the temporary folder exist now
    child.send_signal(sig)
    _, err = child.communicate()
    assert child.returncode in (128 + sig, -sig), err
    assert _content(out) == OLD
    assert _litter(tmp_path, "report") == []


def test_sigterm_removes_the_temporary_file_of_a_single_file_write(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    code = """
    import sys
    from pathlib import Path
    from scalematch.atomic import atomic_text
    with atomic_text(Path(sys.argv[1])) as handle:
        handle.write("x")
        print("ready", flush=True)
        sys.stdin.read()
    """
    child = _child(code, str(target))
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGTERM)
    child.communicate()
    assert child.returncode == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_two_writers_on_one_target_one_wins_the_other_gets_one_line(tmp_path: Path, app: object) -> None:
    out = tmp_path / "report"
    code = (
        BLOCK_IN_WRITE
        + """
    from scalematch.cli.main import app
    app(["recommend", "-q", "--out", sys.argv[1]])
    """
    )
    first = _child(code, str(out))
    assert first.stdout is not None and first.stdout.readline() == "ready\n"
    second = CliRunner().invoke(app, ["recommend", "-q", "--out", str(out)])  # type: ignore[arg-type]
    assert second.exit_code == 2
    assert second.stderr == (
        f"Error: --out {out}: another scalematch run is writing there; try again when it has finished\n"
    )
    stdout, stderr = first.communicate("go")
    assert first.returncode == 0, stderr
    assert f"wrote {out}/report.html" in stdout
    assert (out / REPORT_HTML).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert _litter(tmp_path, "report") == []


def test_a_symlinked_out_is_followed_not_moved(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write_report(real, OLD)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert write_report(link, NEW, force=True) == link / REPORT_HTML
    assert link.is_symlink() and _content(real) == NEW
    file_link = tmp_path / "t.csv"
    (tmp_path / "data.csv").write_text("old")
    file_link.symlink_to(tmp_path / "data.csv")
    with atomic_text(file_link) as handle:
        handle.write("new")
    assert file_link.is_symlink() and (tmp_path / "data.csv").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "link", "real", "t.csv"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_files_get_the_process_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        write_report(tmp_path / "r", NEW)
        with atomic_text(tmp_path / "t.csv") as handle:
            handle.write("x")
    finally:
        os.umask(old)
    paths = [tmp_path / "r", tmp_path / "t.csv", *(tmp_path / "r").iterdir()]
    modes = {p.name: p.stat().st_mode & 0o777 for p in paths}
    assert modes == {"r": 0o777 & ~mask, "t.csv": 0o666 & ~mask, **{n: 0o666 & ~mask for n in NEW}}


def test_a_full_disk_mid_write_is_one_error_without_litter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r"
    write_report(out, OLD)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OptionError, match=rf"^--out {out}: No space left on device$"):
        write_folder(out, NEW, lambda p: None)
    csv_error = rf"^--csv {tmp_path}/t.csv: No space left on device$"
    with pytest.raises(OptionError, match=csv_error), atomic_text(tmp_path / "t.csv", "--csv") as handle:
        handle.write("x")
    assert _content(out) == OLD
    assert _litter(tmp_path, "r") == []


@pytest.mark.parametrize(
    ("make", "target", "folder", "reason"),
    [
        (lambda d: (d / "f").write_text("x"), "f/out.csv", False, "{d}/f is a file, not a folder"),
        (lambda d: (d / "f").write_text("x"), "f/a/b/out.csv", False, "{d}/f is a file, not a folder"),
        # a parent that is a link to nowhere, or a loop, is named as such, not as a file (review round 47, F1)
        (
            lambda d: (d / "dl").symlink_to(d / "nowhere"),
            "dl/out.csv",
            False,
            "{d}/dl is a dangling symlink, not a folder",
        ),
        (
            lambda d: ((d / "l1").symlink_to(d / "l2"), (d / "l2").symlink_to(d / "l1")),
            "l1/out.csv",
            False,
            "{d}/l1 is a symlink loop, not a folder",
        ),
        (lambda d: (d / "sub").mkdir(), "sub", False, "is a folder; expected a file name"),
        (lambda d: (d / "f").write_text("x"), "f", True, "expected a folder, got a file"),
    ],
)
def test_outputs_are_checked_before_the_work(tmp_path: Path, make, target: str, folder: bool, reason: str) -> None:  # type: ignore[no-untyped-def]
    make(tmp_path)
    path = tmp_path / target
    with pytest.raises(OptionError) as info:
        check_output(path, "--x", folder)
    assert str(info.value) == f"--x {path}: " + reason.format(d=tmp_path)


def test_unwritable_and_full_places_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Full:
        f_bavail = 0
        f_blocks = 100
        f_flag = 0

    monkeypatch.setattr(os, "statvfs", lambda p: Full())
    with pytest.raises(OptionError, match=rf"^--csv {tmp_path}/new/t.csv: no space left on the device of {tmp_path}$"):
        check_output(tmp_path / "new" / "t.csv", "--csv")
    Full.f_bavail, Full.f_flag = 10, os.ST_RDONLY
    monkeypatch.setattr(os, "access", lambda p, m: False)
    with pytest.raises(OptionError, match=rf"^--csv {tmp_path}/t.csv: {tmp_path} is on a read-only file system$"):
        check_output(tmp_path / "t.csv", "--csv")


@pytest.mark.skipif(not Path("/proc/self/mounts").is_file(), reason="no /proc")
@pytest.mark.parametrize(("target", "kind"), [("/proc/x.csv", "proc"), ("/sys/rep", "sysfs")])
def test_the_kernels_file_systems_are_no_place_for_outputs(target: str, kind: str) -> None:
    """They have no storage (statvfs gives 0 blocks, so 0 free): not 'no space left', but what they are."""
    parent = Path(target).parent
    with pytest.raises(OptionError, match=rf"^--csv {target}: {parent} is on a virtual file system \({kind}\), "):
        check_output(Path(target), "--csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    with pytest.raises(OptionError, match=rf"^--out {ro}/r: {ro} is not writable$"):
        check_output(ro / "r", "--out", folder=True)


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(os.geteuid() == 0 and SETPRIV is None, reason="root writes any file; setpriv drops that right")
@pytest.mark.parametrize("option", ["--csv", "--export", "--plot"])
def test_a_write_protected_output_file_is_refused_and_kept(tmp_path: Path, option: str) -> None:
    """An existing output file this process may not write (0444) is refused before any work, as > and cp refuse
    it, and kept as it was (a rename over it would have replaced it, and given it 0644). As root, the run drops
    the capability that lets root write any file (what an ordinary user has)."""
    name = {"--csv": "t.csv", "--export": "e.py", "--plot": "p.png"}[option]
    target = tmp_path / name
    target.write_text("old", encoding="utf-8")
    target.chmod(0o444)
    argv = {
        "--csv": ["stats", "--csv", name],
        "--export": ["recommend", "--rule", "rf", "--export", "mmdet", name],
        "--plot": ["profile", "resnet18", "--plot", name],
    }
    command = [sys.executable, "-m", "scalematch", *argv[option]]
    if os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        command = [str(SETPRIV), f"--inh-caps={drop}", f"--bounding-set={drop}", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr
        == f"Error: {option} {name}: exists and is write-protected; make it writable or choose another file\n"
    )
    assert target.read_text(encoding="utf-8") == "old" and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


STRACE = shutil.which("strace")


def _under_strace(inject: str | None, code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child Python traced by strace, which tampers with one system call (``inject``; None:
    no strace)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}
    tamper = (
        []
        if inject is None
        else [
            str(STRACE),
            "-f",
            "-qq",
            "-o",
            os.devnull,
            "-e",
            f"trace={inject.split(':')[0]}",
            "-e",
            f"inject={inject}",
        ]
    )
    return subprocess.run(
        [*tamper, sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd, env=env, capture_output=True,
        text=True,
    )  # fmt: skip


WRITE_NEW = """
    import sys
    from pathlib import Path
    from scalematch.report.bundle import write_report
    write_report(Path(sys.argv[1]), {"report.html": b'<figure id="fig-sweep">', "sweep.png": b"x" * 100000},
                 force=True)
"""


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize(
    "inject",
    ["flock:signal=SIGKILL", "mkdir:signal=SIGKILL", "fsync:signal=SIGKILL:when=2", "renameat2:signal=SIGKILL",
     "write:signal=SIGKILL", "write:signal=SIGKILL:when=2", "unlink:signal=SIGKILL", "rmdir:signal=SIGKILL"],
)  # fmt: skip
def test_a_write_killed_at_a_system_call_leaves_a_report_and_the_next_run_cleans(tmp_path: Path, inject: str) -> None:
    out = tmp_path / "report"
    write_report(out, OLD)
    child = _under_strace(inject, WRITE_NEW, str(out), cwd=tmp_path)
    assert child.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), child.stderr  # the kill happened
    assert _content(out) in (OLD, {REPORT_HTML: b'<figure id="fig-sweep">', "sweep.png": b"x" * 100000})
    write_report(out, NEW, force=True)
    assert _content(out) == NEW
    assert _litter(tmp_path, "report") == []


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("when", [1, 2, 3])
def test_a_signal_while_the_old_report_is_removed_leaves_no_litter(tmp_path: Path, sig: str, when: int) -> None:
    """SIGTERM or SIGINT while the swapped-out old report is being removed: the new report stands, the old one is
    removed all the same and the run ends by the signal (review round 21, F3: half the old report stayed behind
    in .report.tmp-*)."""
    out = tmp_path / "report"
    write_report(out, OLD)
    child = _under_strace(f"unlinkat:signal={sig}:when={when}", WRITE_NEW, str(out), cwd=tmp_path)
    assert child.returncode == (128 + signal.SIGTERM if sig == "SIGTERM" else -signal.SIGINT), child.stderr
    assert _content(out) == {REPORT_HTML: b'<figure id="fig-sweep">', "sweep.png": b"x" * 100000}
    assert _litter(tmp_path, "report") == []


@pytest.mark.skipif(STRACE is None, reason="needs strace")
def test_the_cli_killed_at_the_swap_keeps_the_report_and_the_next_run_cleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = "import sys\nfrom scalematch.cli.main import app\napp(sys.argv[1:], prog_name='scalematch')\n"
    first = _under_strace(None, code, "recommend", "-q", "--out", "r", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    old = _content(tmp_path / "r")
    killed = _under_strace("renameat2:signal=SIGKILL", code, "recommend", "-q", "--out", "r", "--force",
                           "--rule", "rf", cwd=tmp_path)  # fmt: skip
    assert killed.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), killed.stderr
    assert _content(tmp_path / "r") == old
    assert any(p.name.startswith(".r.tmp-") for p in tmp_path.iterdir())  # the killed run's litter
    again = CliRunner().invoke(_app(), ["recommend", "-q", "--out", "r", "--force", "--rule", "rf"])
    assert again.exit_code == 0, again.output
    assert '"rule": "rf"' in (tmp_path / "r" / "recommendation.json").read_text()
    assert '"rule": "rf"' not in old["recommendation.json"].decode()  # the first was a detector report
    assert _litter(tmp_path, "r") == []


@pytest.mark.skipif(STRACE is None, reason="needs strace")
def test_a_disk_full_at_fsync_is_one_error_line_and_no_litter(tmp_path: Path) -> None:
    code = "import sys\nfrom scalematch.cli.main import app\napp(sys.argv[1:], prog_name='scalematch')\n"
    (tmp_path / "t.csv").write_text("old")
    child = _under_strace("fsync:error=ENOSPC", code, "stats", "-q", "--csv", "t.csv", cwd=tmp_path)
    assert child.returncode == 2
    assert child.stderr == "Error: --csv t.csv: No space left on device\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    assert (tmp_path / "t.csv").read_text() == "old"


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("error", ["EIO", "ENOSPC"])
@pytest.mark.parametrize("when", [3, 4], ids=["temporary-folder", "parent-after-swap"])
def test_an_io_error_on_a_folder_fsync_ends_the_write_and_keeps_the_old_report(
    tmp_path: Path, error: str, when: int
) -> None:
    """fsync #3 flushes the temporary folder (after its two files), #4 the parent after the swap: an I/O error
    or a full disk there ends the write with that error and the old report in place, without litter (review
    round 29, F5: every error of a folder's fsync was ignored, as if the file system had no folder fsync)."""
    out = tmp_path / "report"
    write_report(out, OLD)
    child = _under_strace(f"fsync:error={error}:when={when}", WRITE_NEW, str(out), cwd=tmp_path)
    assert child.returncode == 1
    assert child.stderr.strip().splitlines()[-1].endswith(os.strerror(getattr(errno, error)))
    assert _content(out) == OLD
    assert _litter(tmp_path, "report") == []


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("error", ["EIO", "ENOSPC"])
@pytest.mark.parametrize("old", [True, False], ids=["replacing", "new"])
def test_an_io_error_on_the_folder_fsync_after_a_file_is_one_error_line_and_the_old_file(
    tmp_path: Path, error: str, old: bool
) -> None:
    code = "import sys\nfrom scalematch.cli.main import app\napp(sys.argv[1:], prog_name='scalematch')\n"
    if old:
        (tmp_path / "t.csv").write_text("old")
    child = _under_strace(f"fsync:error={error}:when=2", code, "stats", "-q", "--csv", "t.csv", cwd=tmp_path)
    assert child.returncode == 2
    assert child.stderr == f"Error: --csv t.csv: {os.strerror(getattr(errno, error))}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["t.csv"] if old else [])
    if old:
        assert (tmp_path / "t.csv").read_text() == "old"


@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("error", ["EINVAL", "EOPNOTSUPP", "EROFS"])
def test_a_file_system_without_folder_fsync_still_gets_its_outputs(tmp_path: Path, error: str) -> None:
    """The errors by which a file system says it cannot flush folders are no failure."""
    code = "import sys\nfrom scalematch.cli.main import app\napp(sys.argv[1:], prog_name='scalematch')\n"
    (tmp_path / "t.csv").write_text("old")
    child = _under_strace(f"fsync:error={error}:when=2", code, "stats", "-q", "--csv", "t.csv", cwd=tmp_path)
    assert child.returncode == 0, child.stderr
    assert (tmp_path / "t.csv").read_text() != "old"
    out = tmp_path / "report"
    write_report(out, OLD)
    child = _under_strace(f"fsync:error={error}:when=3", WRITE_NEW, str(out), cwd=tmp_path)
    assert child.returncode == 0, child.stderr
    assert _content(out) == {REPORT_HTML: b'<figure id="fig-sweep">', "sweep.png": b"x" * 100000}
    assert _litter(tmp_path, "report") == ["t.csv"]


def _app() -> typer.Typer:
    from scalematch.cli.main import app

    return app


def test_force_never_replaces_a_folder_with_a_figure_of_the_users(tmp_path: Path) -> None:
    """Only the files a report writes make a folder a report: a PNG of the user's own beside them stops --force,
    and stays where it was."""
    from scalematch.errors import OptionError
    from scalematch.report.bundle import check_target

    out = tmp_path / "report"
    out.mkdir()
    for name in (REPORT_HTML, "overlay.png", "my_figure.png"):
        (out / name).write_bytes(b'<figure id="fig-overlay">' if name == REPORT_HTML else b"x")
    with pytest.raises(OptionError, match=r"not part of a report \(my_figure.png\)"):
        check_target(out, force=True)
    assert (out / "my_figure.png").read_bytes() == b"x"
    (out / "my_figure.png").unlink()
    check_target(out, force=True)  # the report's own files alone: may be replaced


def test_force_never_removes_a_figure_name_the_report_there_did_not_write(tmp_path: Path) -> None:
    """A detector-mode report shows positives.png and profile.png: a user's overlay.png beside them (a name only
    a rule-mode report writes) is not that report's, so --force refuses the folder and the file stays."""
    from scalematch.errors import OptionError
    from scalematch.report.bundle import check_target

    out = tmp_path / "report"
    out.mkdir()
    (out / REPORT_HTML).write_text('<figure id="fig-positives"> <figure id="fig-profile">')
    for name in ("positives.png", "profile.png", "recommendation.json", "overlay.png"):
        (out / name).write_text("notes")
    with pytest.raises(OptionError, match=r"not part of a report \(overlay.png\)"):
        check_target(out, force=True)
    assert (out / "overlay.png").read_text() == "notes"
    (out / "overlay.png").unlink()
    check_target(out, force=True)


@pytest.mark.parametrize("page", ["edited", "link"])
def test_force_names_a_report_page_that_shows_none_of_the_figures(tmp_path: Path, page: str) -> None:
    """Review round 31: a report.html edited (or re-saved by a browser, or replaced by a link) shows none of the
    figures beside it; the refusal named the report's own figures as not part of a report, not the page."""
    from scalematch.errors import OptionError
    from scalematch.report.bundle import check_target

    out = tmp_path / "report"
    out.mkdir()
    for name in ("positives.png", "profile.png", "recommendation.json"):
        (out / name).write_text("x")
    mine = tmp_path / "mine.html"
    mine.write_text("<html><body>my notes on this run</body></html>")
    if page == "link":
        (out / REPORT_HTML).symlink_to(mine)
    else:
        (out / REPORT_HTML).write_text(mine.read_text())
    with pytest.raises(OptionError) as caught:
        check_target(out, force=True)
    assert str(caught.value).endswith(
        ": its report.html shows none of the figures beside it (positives.png, profile.png), as an edited or "
        "replaced page does; choose a new folder"
    )
    (out / "profile.png").unlink()
    (out / "profile.png").mkdir()  # a folder named like a figure is a thing of the user's, named as such
    with pytest.raises(OptionError, match=r"not part of a report \(positives.png, profile.png\)"):
        check_target(out, force=True)
    assert mine.read_text() == "<html><body>my notes on this run</body></html>"


HOLD_LOCK = """
    import sys
    from pathlib import Path
    from scalematch.atomic import target_lock
    with target_lock(Path(sys.argv[1]), "--out"):
        print("ready", flush=True)
        sys.stdin.read()
"""


def test_a_run_on_a_folder_another_run_holds_stops_before_its_work_and_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run holds the report folder (from its checks to its write): this one stops at once with one line,
    never reaches the computation, and leaves the files its --objects and --export name as they were."""
    import scalematch.match.api

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the computation started")

    out, objects, export = tmp_path / "report", tmp_path / "obj.csv", tmp_path / "e.py"
    objects.write_text("theirs")
    export.write_text("theirs")
    holder = _child(HOLD_LOCK, str(out))
    assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
    monkeypatch.setattr(scalematch.match.api, "sweep", no_work)
    args = ["recommend", "-q", "--out", str(out), "--objects", str(objects), "--export", "mmdet", str(export)]
    result = CliRunner().invoke(_app(), args)
    holder.communicate("go")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: --out {out}: another scalematch run is writing there; try again when it has finished\n"
    ), result.output  # fmt: skip
    assert objects.read_text() == export.read_text() == "theirs"


def test_a_run_holds_its_report_folder_through_its_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While this run computes, another process cannot take the folder's lock (it would stop at once)."""
    import scalematch.match.api

    seen: list[str] = []

    def probe(*args: object, **kwargs: object) -> None:
        child = _child(HOLD_LOCK, str(out))
        stdout, stderr = child.communicate("go")
        seen.append(stderr.strip().splitlines()[-1] if child.returncode else stdout)
        raise OptionError("stop here")

    out = tmp_path / "report"
    monkeypatch.setattr(scalematch.match.api, "sweep", probe)
    result = CliRunner().invoke(_app(), ["recommend", "-q", "--out", str(out)])
    assert result.stderr == "Error: stop here\n"
    assert seen == [f"scalematch.errors.OptionError: --out {out}: another scalematch run is writing there; "
                    "try again when it has finished"]  # fmt: skip
    assert _litter(tmp_path, "report") == []  # the lock went with the run


HOLD_FILE_LOCK = """
    import sys
    from pathlib import Path
    from scalematch.atomic import target_lock
    with target_lock(Path(sys.argv[1]), sys.argv[2]):
        print("ready", flush=True)
        sys.stdin.read()
"""

FILE_OUTPUTS = [
    ("--csv", "t.csv", ["stats", "--csv", "t.csv"]),
    ("--objects", "o.csv", ["recommend", "-q", "--objects", "o.csv"]),
    ("--export", "e.py", ["recommend", "-q", "--rule", "rf", "--export", "mmdet", "e.py"]),
    ("--plot", "p.png", ["profile", "resnet18", "--plot", "p.png"]),
    ("--out", "x.png", ["explain", "resnet18", "--out", "x.png"]),
]


@pytest.mark.parametrize(("option", "name", "args"), FILE_OUTPUTS)
def test_a_file_another_run_writes_stops_this_run_at_once(
    option: str, name: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs writing one output file: the second stops with one line before its work and leaves the file as
    it was (review round 20, F7: both wrote, and the last rename replaced the other's file unsaid)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text("theirs")
    holder = _child(HOLD_FILE_LOCK, str(tmp_path / name), option)
    assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
    result = CliRunner().invoke(_app(), args)
    holder.communicate("go")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: {option} {name}: another scalematch run is writing there; try again when it has finished\n"
    ), result.output  # fmt: skip
    assert (tmp_path / name).read_text() == "theirs"
    assert _litter(tmp_path, name) == []


@pytest.mark.parametrize(("option", "name", "args"), FILE_OUTPUTS)
def test_a_run_holds_its_output_files_through_its_work(
    option: str, name: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While this run computes (its first figure or table is being made), another process cannot take the lock
    of its output file; the run writes its file and leaves no lock file behind."""
    monkeypatch.chdir(tmp_path)
    seen: list[str] = []
    real = atomic.atomic_path.__wrapped__  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def probed(target: Path, option_: str = "") -> Iterator[Path]:
        child = _child(HOLD_FILE_LOCK, str(tmp_path / name), option)
        stdout, stderr = child.communicate("go")
        seen.append(stderr.strip().splitlines()[-1] if child.returncode else stdout)
        with contextlib.contextmanager(real)(target, option_) as tmp:
            yield tmp

    from scalematch.report import save

    for module in (atomic, save):  # atomic_text's and save_figure's
        monkeypatch.setattr(module, "atomic_path", probed)
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert seen[:1] == [f"scalematch.errors.OptionError: {option} {tmp_path / name}: another scalematch run is "
                        "writing there; try again when it has finished"]  # fmt: skip
    assert (tmp_path / name).stat().st_size > 0
    assert _litter(tmp_path, name) == []


SIGNAL_AT_CREATION = """
    import os
    import signal
    import sys
    from pathlib import Path

    target, kind, sig = Path(sys.argv[1]), sys.argv[2], getattr(signal, sys.argv[3])
    real_open, real_mkdir = os.open, os.mkdir

    def created(path):
        name = os.fspath(path)
        if (kind == "lock" and name.endswith(".lock")) or (kind != "lock" and ".tmp-" in name):
            os.kill(os.getpid(), sig)  # the signal the instant the entry exists

    def opening(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if flags & os.O_CREAT:
            created(path)
        return fd

    def making(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        created(path)

    os.open, os.mkdir = opening, making
    if kind == "file":
        from scalematch.atomic import atomic_text
        with atomic_text(target) as handle:
            handle.write("new")
    else:
        from scalematch.report.bundle import write_report
        write_report(target, {"report.html": b"new"}, force=True)
"""


@pytest.mark.parametrize("kind", ["file", "lock", "folder"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_the_instant_a_temporary_entry_exists_leaves_nothing(
    tmp_path: Path, kind: str, sig: signal.Signals
) -> None:
    """SIGINT or SIGTERM sent right as the temporary file, the lock or the temporary folder is created: the
    clean-up covers it (the signal waits until it does), so nothing but the old target remains."""
    target = tmp_path / ("t.csv" if kind == "file" else "report")
    if kind == "file":
        target.write_text("old")
    else:
        write_report(target, OLD)
    child = _child(SIGNAL_AT_CREATION, str(target), kind, sig.name)
    _, err = child.communicate()
    assert child.returncode in (128 + sig, -sig, 1), err  # killed by the signal, or KeyboardInterrupt's exit
    assert "KeyboardInterrupt" in err or child.returncode != 1
    assert _litter(tmp_path, target.name) == []
    if kind == "file":
        assert target.read_text() == "old"
    else:
        assert _content(target) == OLD


NOP = dis.opmap["NOP"]
"""The instruction of a line like ``try:``: no signal handler runs there (Python runs them at calls and jumps),
and an exception a trace function raises there escapes the enclosing handlers, as no real one can."""


def _signalled_at(step: int, target: Path, kind: str, sig: signal.Signals) -> int:
    """Fork a child that writes ``target`` (NEW as a report, or "new" as a file) with a second thread running,
    and sends ``sig`` to its own process before its ``step``-th executed line of scalematch/atomic.py, waiting
    until a thread has taken it; returns the child's wait status (exit 0: the write ended before that line)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 3
        try:
            # Another thread, as numpy's or a pool's: while the main thread holds signals back (pthread_sigmask),
            # the kernel gives a process-wide signal to this one, and Python runs the handler in the main thread
            # at its next instruction (review round 29, F2).
            threading.Thread(target=threading.Event().wait, daemon=True).start()
            taken, wake = os.pipe()
            os.set_blocking(wake, False)
            signal.set_wakeup_fd(wake)
            count = [0]

            def local(frame, event, arg):  # type: ignore[no-untyped-def]
                if event == "line" and frame.f_code.co_code[frame.f_lasti] != NOP:
                    count[0] += 1
                    if count[0] == step:
                        os.kill(os.getpid(), sig)
                        select.select([taken], [], [])  # until a thread's C handler has taken the signal
                return local

            def tracer(frame, event, arg):  # type: ignore[no-untyped-def]
                return local if frame.f_code.co_filename == atomic.__file__ else None

            sys.settrace(tracer)
            if kind == "file":
                with atomic_text(target) as handle:
                    handle.write("new")
            else:
                write_report(target, NEW, force=True)
            sys.settrace(None)
            code = 0
        except KeyboardInterrupt:
            code = 128 + signal.SIGINT
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 4
        except BaseException:
            code = 5
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.parametrize("kind", ["folder", "file"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_at_any_line_with_other_threads_running_leaves_nothing(
    tmp_path: Path, kind: str, sig: signal.Signals
) -> None:
    """SIGINT or SIGTERM at every line of a write, in a process with another thread (which takes a signal the
    main thread holds back): nothing but the target, old or new and complete, remains; the run ends by the
    signal (review round 29, F2: the lock, an empty temporary folder or half the swapped-out report stayed)."""
    import fcntl  # noqa: F401 - imported before forking, as the child needs them
    import glob  # noqa: F401

    name = "t.csv" if kind == "file" else "report"
    signalled = 0
    for step in range(1, 2000):
        folder = tmp_path / f"run{step}"
        folder.mkdir()
        target = folder / name
        if kind == "file":
            target.write_text("old")
        else:
            write_report(target, OLD)
        status = _signalled_at(step, target, kind, sig)
        assert _litter(folder, name) == [], (step, status)
        if kind == "file":
            assert target.read_text() in ("old", "new"), step
        else:
            assert _content(target) in (OLD, NEW), step
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            break
        assert status in (sig, (128 + sig) << 8), (step, status)  # the default action, or the exit it raised
        signalled += 1
        shutil.rmtree(folder)
    assert signalled > 40  # every line of the write path was a signal point


def test_a_lock_that_cannot_be_removed_leaves_the_error_that_ended_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The --out parent made read-only during the run: the write fails, and so does removing the lock file; the
    error told is the write's, and the lock left behind (held by no one) is taken by the next run."""
    from scalematch.atomic import target_lock

    target = tmp_path / "rep"
    real_unlink = Path.unlink

    def refuse(self: Path, missing_ok: bool = False) -> None:
        if self.name == ".rep.lock":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    with pytest.raises(OSError, match="the write") as caught, target_lock(target, "--out"):
        raise OSError(errno.EROFS, "the write")
    assert caught.value.errno == errno.EROFS
    assert (tmp_path / ".rep.lock").exists()
    monkeypatch.setattr(Path, "unlink", real_unlink)
    with target_lock(target, "--out"):  # taken again
        pass
    assert not (tmp_path / ".rep.lock").exists()


@pytest.mark.parametrize("length", [200, 222, 223, 238, 251, 255])
def test_names_up_to_255_bytes_are_written_and_their_litter_cleaned(tmp_path: Path, length: int) -> None:
    """A legal name (up to 255 bytes) is written as any other: its side files (temporary file or folder, lock, set
    aside copy) shorten the name where theirs would pass 255 bytes, the same way on every run, so the litter of a
    killed run is still found and removed."""
    folder = tmp_path / ("é" * ((length - 4) // 2) + "x" * ((length - 4) % 2) + ".csv")
    assert len(os.fsencode(folder.name)) == length
    report = tmp_path / ("r" * length)
    stem = atomic._stem(folder.name)  # what a killed run would have left, by name
    (tmp_path / f".{stem}.tmp-0badc0de.csv").write_text("half")
    (tmp_path / f".{atomic._stem(report.name)}.old-0badc0de").mkdir()
    for _ in range(2):
        with atomic_text(folder) as handle:
            handle.write("a,b\n")
        write_report(report, NEW, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, report.name])
    assert folder.read_text() == "a,b\n" and (report / REPORT_HTML).exists()
    assert all(len(os.fsencode(p.name)) <= 255 for p in tmp_path.iterdir())


def test_names_too_long_for_the_system_are_one_option_error_that_cuts_them(tmp_path: Path) -> None:
    """A figure or report name of 10,000 characters (with or without a suffix) or a path of more than 4,095 bytes
    is an OptionError naming the parameter, with the name cut to its ends, not a bare OSError 'File name too long'
    with the whole name (review round 25, F12)."""
    from matplotlib.figure import Figure

    from scalematch.report.save import save_figure

    long = "L" * 10_000
    cut = "L" * 40 + "..."
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: save_figure(Figure(), long), f"path {cut}{'L' * 20}: expected a file ending in .png, .svg, .pdf"),
        (lambda: save_figure(Figure(), long + ".png"), f"path {cut}{'L' * 16}.png: the name 'LLLL"),
        (lambda: save_figure(Figure(), "ab/" * 2000 + "x.png"), "path ab/ab/"),
        (lambda: write_report(long, NEW), f"out {cut}{'L' * 20}: the name 'LLLL"),
        (lambda: write_report("ab/" * 2000, NEW), "out ab/ab/"),
    ]
    for call, start in cases:
        with pytest.raises(OptionError) as caught:
            call()
        assert str(caught.value).startswith(start) and len(str(caught.value)) < 200, str(caught.value)[:300]
    assert str(caught.value).endswith(": the path is longer than 4,095 bytes")


def _interrupted_import(self: object, *args: object, **kwargs: object) -> None:
    """What a Ctrl-C inside a C extension's module init gives (matplotlib loading its Agg backend lazily)."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise ImportError("initialization failed") from exc


def _interrupted_class_body(self: object, *args: object, **kwargs: object) -> None:
    """What a Ctrl-C while a class is built gives: Python 3.11 wraps an exception of ``__set_name__`` in a
    RuntimeError (matplotlib's Axes, while seaborn is imported)."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise RuntimeError("Error calling __set_name__ on '_axis_method_wrapper' instance") from exc


def _interrupted_into_own_error(self: object, *args: object, **kwargs: object) -> None:
    """A Ctrl-C that the work turned into one of its own errors (an interrupted import of a user's module: 'cannot
    import ...'), which exited 2 with that error (review round 43, D-F11)."""
    from scalematch.errors import ModelError

    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise ModelError("m:Net: cannot import 'm' (ImportError: initialization failed)") from None


@pytest.mark.parametrize("raised", [_interrupted_import, _interrupted_class_body, _interrupted_into_own_error])
@pytest.mark.parametrize(
    "argv", [["profile", "resnet18", "--plot", "kp.png"], ["explain", "resnet18", "--out", "kp.png"]]
)
def test_a_ctrl_c_that_comes_out_as_another_error_ends_as_an_interrupted_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], app: typer.Typer, raised: Any
) -> None:
    """SIGINT while the figure is saved can stop matplotlib's lazy import of its backend, whose module init turns
    the KeyboardInterrupt into ``ImportError: initialization failed`` (review round 27, F3), or a class being
    built, which turns it into a RuntimeError (round 42, C-F2): the run ends as an interrupted run (exit 130,
    nothing on stderr, no temporary file), not with a traceback and exit 1."""
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Figure, "savefig", raised)
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 130, result.output
    assert result.stderr == "" and not isinstance(result.exception, ImportError | RuntimeError)
    assert list(tmp_path.iterdir()) == []


def test_an_import_error_of_another_cause_is_not_taken_for_an_interrupt() -> None:
    from scalematch.cli.main import interrupted

    try:
        try:
            raise ValueError("x")
        except ValueError as exc:
            raise ImportError("y") from exc
    except ImportError as exc:
        assert not interrupted(exc)
    try:
        raise ImportError("z") from KeyboardInterrupt()
    except ImportError as exc:
        assert interrupted(exc)


MOUNT_POINT = "is a mount point, which cannot be replaced atomically (a rename onto it fails); "


@pytest.mark.parametrize("folder", [True, False], ids=["folder", "file"])
def test_a_mount_point_is_refused_by_its_device_or_the_mount_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: bool
) -> None:
    """A target that is a mount point (a container's volume, a bind-mounted file) is refused before any work: the
    rename that replaces an output fails on it (EBUSY), after the whole run (review round 27, F4). It is found by
    a device other than its folder's, or, for a bind mount within one file system, by /proc/self/mounts."""
    target = tmp_path / ("mnt" if folder else "t.csv")
    target.mkdir() if folder else target.write_text("old")
    check_output(target, "--x", folder)  # not a mount point
    monkeypatch.setattr(atomic, "_mounts", lambda: [("/", "ext4"), (str(target), "tmpfs")])
    inside = f"write into a folder inside it (--x {target}/report) or " if folder else ""
    with pytest.raises(OptionError) as info:
        check_output(target, "--x", folder)
    assert str(info.value) == f"--x {target}: {MOUNT_POINT}{inside}choose another path"
    monkeypatch.setattr(atomic, "_mounts", lambda: [])
    real_stat = os.stat

    def other_device(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        status = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if os.fspath(path) != str(target):
            return status
        fields = list(status)
        fields[stat.ST_DEV] += 1
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", other_device)
    with pytest.raises(OptionError) as info:
        check_output(target, "--x", folder)
    assert str(info.value) == f"--x {target}: {MOUNT_POINT}{inside}choose another path"
    assert target.exists() and not atomic.is_mount_point(tmp_path / "missing")


@contextlib.contextmanager
def _mounted(args: list[str], point: Path) -> Iterator[None]:
    """``mount args... point`` for the block; the test is skipped where mounting is not permitted (not root, a
    container without the capability)."""
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting needs root and mount(8)")
    done = subprocess.run([mount, *args, str(point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting is not permitted here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.mark.parametrize(
    ("option", "name", "argv"),
    [
        ("--out", "mnt", ["recommend", "--rule", "rf", "-q", "--out", "mnt"]),
        ("--out", "mnt", ["recommend", "--rule", "rf", "-q", "--out", "mnt", "--force"]),
        ("--csv", "t.csv", ["stats", "-q", "--csv", "t.csv"]),
        ("--objects", "o.csv", ["recommend", "--detector", "retinanet", "-q", "--objects", "o.csv"]),
        ("--export", "e.py", ["recommend", "--rule", "rf", "-q", "--export", "mmdet", "e.py"]),
        ("--plot", "p.png", ["profile", "resnet18", "--plot", "p.png"]),
        ("--out", "p.png", ["explain", "resnet18", "--out", "p.png"]),
    ],
)
def test_an_output_on_a_mount_point_is_refused_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: typer.Typer, option: str, name: str, argv: list[str]
) -> None:
    """A real tmpfs (a folder) or bind mount (a file, as ``docker run -v $PWD/t.csv:/t.csv``) as an output: one
    line naming the option, before any work, and the mount's content untouched (review round 27, F4)."""
    monkeypatch.chdir(tmp_path)
    point = tmp_path / name
    if name == "mnt":
        point.mkdir()
        args = ["-t", "tmpfs", "-o", "size=1m", "tmpfs"]
    else:
        (tmp_path / "src").write_text("old")
        point.write_text("")
        args = ["--bind", str(tmp_path / "src")]
    with _mounted(args, point):
        result = CliRunner().invoke(app, argv)
        inside = f"write into a folder inside it ({option} {name}/report) or " if name == "mnt" else ""
        assert result.exit_code == 2, result.output
        assert result.stderr == f"Error: {option} {name}: {MOUNT_POINT}{inside}choose another path\n"
        assert result.stdout == ""
        assert (list(point.iterdir()) == []) if name == "mnt" else point.read_text() == "old"


def _without_dac_override(command: list[str]) -> list[str]:
    """``command`` as a user without the right to write any file: root drops it with setpriv."""
    if os.geteuid() != 0:
        return command
    drop = "-dac_override,-dac_read_search"
    return [str(SETPRIV), f"--inh-caps={drop}", f"--bounding-set={drop}", *command]


@pytest.mark.skipif(os.geteuid() == 0 and SETPRIV is None, reason="root writes any file; setpriv drops that right")
def test_a_write_protected_report_folder_is_refused_before_the_work_and_kept(tmp_path: Path) -> None:
    """A report folder made write-protected (chmod a-w) is refused before any work, as a write-protected file
    is: replaced with --force, its swapped-out copy could not be emptied and stayed beside it (review round 27,
    F5)."""
    write_report(tmp_path / "rep", OLD)
    (tmp_path / "rep").chmod(0o555)
    command = [sys.executable, "-m", "scalematch", "recommend", "--rule", "rf", "-q", "--out", "rep", "--force"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            _without_dac_override(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            "Error: --out rep: exists and is write-protected; make it writable (chmod u+w) or choose another folder\n"
        )
        assert _content(tmp_path / "rep") == OLD and _litter(tmp_path, "rep") == []
    finally:
        (tmp_path / "rep").chmod(0o755)


@pytest.mark.skipif(os.geteuid() == 0 and SETPRIV is None, reason="root writes any file; setpriv drops that right")
def test_the_next_write_removes_a_write_protected_leftover(tmp_path: Path) -> None:
    """The write-protected old copy of a report that an earlier --force left beside it (it could not be emptied)
    is removed by the next write to that report, not left for good without a word (review round 27, F5)."""
    write_report(tmp_path / "r", OLD)
    left = tmp_path / ".r.tmp-0badc0de"
    left.mkdir()
    (left / "report.html").write_bytes(b"old")
    left.chmod(0o555)
    code = """
    import sys
    from pathlib import Path
    from scalematch.report.bundle import write_report
    write_report(Path(sys.argv[1]), {"report.html": b"new"}, force=True)
    """
    command = [sys.executable, "-c", textwrap.dedent(code), str(tmp_path / "r")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(_without_dac_override(command), env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert _litter(tmp_path, "r") == [] and _content(tmp_path / "r") == {"report.html": b"new"}
    finally:
        if left.exists():
            left.chmod(0o755)


@pytest.mark.parametrize("through", ["check_target", "write_report"])
def test_a_report_set_aside_is_kept_when_its_folder_was_made_again(
    tmp_path: Path, through: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A run killed between its two renames (where the exchange rename is missing) leaves the old report as
    .r.old-*; if something then makes r again (a --csv under it, a mkdir), the next run refuses r, which holds no
    report, and keeps the set-aside report: removing it as litter would lose the only copy (review round 38, F4)."""
    aside = tmp_path / ".r.old-1a2b3c4d"
    aside.mkdir()
    for name, content in OLD.items():
        (aside / name).write_bytes(content)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("mine")
    (tmp_path / ".r.tmp-99999999").mkdir()  # a half-written new one: litter all the same
    with pytest.raises(OptionError, match=r"holds other files and no report\.html"):
        if through == "check_target":
            check_target(tmp_path / "r", force=True)
        else:
            write_report(tmp_path / "r", NEW, force=True)
    assert _content(aside) == OLD
    assert [n for n in _litter(tmp_path, "r") if n != ".r.lock"] == [".r.old-1a2b3c4d"]  # the half-written one went
    assert _content(tmp_path / "r") == {"notes.txt": b"mine"}
    err = capfd.readouterr().err
    assert "kept .r.old-1a2b3c4d beside it" in err and err.count("\n") == 1


def test_a_report_set_aside_beside_the_new_report_is_litter(tmp_path: Path) -> None:
    """Killed after its second rename: the new report is in place, the old copy beside it is removed."""
    write_report(tmp_path / "r", NEW)
    aside = tmp_path / ".r.old-1a2b3c4d"
    aside.mkdir()
    (aside / REPORT_HTML).write_bytes(b"old")
    check_target(tmp_path / "r", force=True)
    assert not aside.exists() and _content(tmp_path / "r") == NEW

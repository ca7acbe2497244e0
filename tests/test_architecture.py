"""Imports follow the one-way arrows of docs/architecture.md: profile, presets and dataset -> match -> report -> cli.

Every module of scalematch/ is parsed with ``ast`` (imports at the top, inside functions and under
TYPE_CHECKING alike) and each ``scalematch`` import is checked against ALLOWED; the core (everything but the
CLI) never imports the CLI libraries. The checker runs on a planted package too, so it is seen to fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scalematch"

# The part of scalematch a module belongs to: its subpackage, or for a module at the top, the entry here.
TOP = {
    "errors": "base",
    "atomic": "base",
    "pool": "base",
    "extras": "base",
    "_yaml": "base",
    "_paths": "base",
    "_args": "base",
    "_text": "base",  # text and JSON written from names in the data
    "choices": "base",  # the enums the library and the CLI share
    "__init__": "root",  # the package itself: the names a notebook imports
    "__main__": "cli",  # ``python -m scalematch`` is the CLI
}

# part -> the parts it may import (besides itself). Anything not listed is an arrow the wrong way.
ALLOWED: dict[str, frozenset[str]] = {
    "base": frozenset(),
    "profile": frozenset({"base"}),
    "dataset": frozenset({"base"}),
    "presets": frozenset({"base", "profile"}),  # a preset names its backbone and neck
    "match": frozenset({"base", "profile", "dataset", "presets"}),
    "report": frozenset({"base", "profile", "dataset", "presets", "match"}),
    "root": frozenset({"base", "profile", "dataset", "presets", "match", "report"}),
    "cli": frozenset({"base", "profile", "dataset", "presets", "match", "report", "root"}),
}

CLI_LIBRARIES = frozenset({"typer", "click", "rich"})
"""Imported by the CLI only: the core stays usable (and fast to import) without them."""


def _module_name(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def part_of(parts: list[str], root: Path) -> str | None:
    """The part of a module given as name parts (``["scalematch", "match", "rules"]``); None if unclassified."""
    if len(parts) == 1:
        return "root"
    inner = root / parts[1]
    if inner.is_dir():
        return parts[1] if parts[1] in ALLOWED else None
    return TOP.get(parts[1])


def _exists(parts: list[str], root: Path) -> bool:
    inner = root.joinpath(*parts[1:])
    return inner.is_dir() or inner.with_suffix(".py").is_file()


def imported(node: ast.AST, here: list[str], is_package: bool, root: Path) -> list[list[str]]:
    """The modules an import statement brings in, as name parts (relative imports resolved; ``from a import b``
    is module ``a.b`` when b is a module, else ``a``); ``from scalematch import __version__`` brings none."""
    if isinstance(node, ast.Import):
        return [a.name.split(".") for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        base = (node.module or "").split(".")
    else:
        package = here if is_package else here[:-1]
        base = package[: len(package) - (node.level - 1)] + ((node.module or "").split(".") if node.module else [])
    out = []
    for alias in node.names:
        if base == [root.name] and alias.name == "__version__":
            continue  # the version number is metadata, not an arrow
        out.append([*base, alias.name] if base[0] == root.name and _exists([*base, alias.name], root) else base)
    return out


def violations(root: Path) -> list[str]:
    """Every import in the package at ``root`` that goes against ALLOWED or brings a CLI library into the core."""
    found = []
    for path in sorted(root.rglob("*.py")):
        here = _module_name(path, root)
        where = ".".join(here)
        src = part_of(here, root)
        if src is None:
            found.append(f"{where}: not in the table of parts (add its part to TOP in tests/test_architecture.py)")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            line = getattr(node, "lineno", 0)
            for parts in imported(node, here, path.name == "__init__.py", root):
                if parts[0] in CLI_LIBRARIES and src != "cli":
                    found.append(f"{where}:{line}: the core imports {parts[0]} (only the CLI may)")
                if parts[0] != root.name:
                    continue
                dst = part_of(parts, root)
                if dst is None or (dst != src and dst not in ALLOWED[src]):
                    found.append(f"{where}:{line}: {src} imports {'.'.join(parts)} ({dst}), against the arrows")
    return found


def test_imports_follow_the_arrows() -> None:
    assert violations(PACKAGE) == []


def test_every_part_is_in_the_table() -> None:
    parts = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules <= set(TOP), modules - set(TOP)


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "scalematch"
    for name in ("", "profile", "match", "report", "cli"):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "__init__.py").write_text("")
    (root / "errors.py").write_text("class ScalematchError(Exception): ...\n")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("profile/engine.py", "from scalematch.match import rules\n", "profile imports scalematch.match (match)"),
        ("profile/engine.py", "def f():\n    import scalematch.report.x\n", "profile imports scalematch.report.x"),
        ("match/rules.py", "from ..report import table\n", "match imports scalematch.report (report)"),
        ("report/table.py", "from scalematch.cli import main\n", "report imports scalematch.cli (cli)"),
        ("match/rules.py", "from scalematch import cli\n", "match imports scalematch.cli (cli)"),
        ("report/table.py", "import typer\n", "the core imports typer"),
        ("profile/engine.py", "from click import echo\n", "the core imports click"),
        ("helpers.py", "x = 1\n", "scalematch.helpers: not in the table of parts"),
    ],
)
def test_a_planted_violation_is_caught(tmp_path: Path, name: str, text: str, message: str) -> None:
    found = violations(_plant(tmp_path, {name: text}))
    assert len(found) == 1 and message in found[0], found


def test_the_arrows_the_right_way_pass(tmp_path: Path) -> None:
    root = _plant(
        tmp_path,
        {
            "match/rules.py": "from scalematch.profile import x\nfrom scalematch.errors import ScalematchError\n",
            "report/table.py": "from scalematch.match import rules\nfrom scalematch import __version__\n",
            "cli/main.py": "import typer\nfrom scalematch.report import table\n",
            "profile/engine.py": "from . import layers\nfrom .layers import Window\n",
        },
    )
    assert violations(root) == []

"""The ``scalematch`` command: a typer app whose commands live in one small module each."""

from __future__ import annotations

from typing import Any, NoReturn

import click
import typer
from typer.core import TyperGroup

from scalematch.cli import erf_cmd, explain_cmd, profile_cmd, recommend_cmd, stats_cmd
from scalematch.errors import ScalematchError


class _Group(TyperGroup):
    """Turns every :class:`ScalematchError` and every usage error (unknown option, bad choice, missing
    argument) into one ``Error: ...`` line on stderr and exit code 2, instead of typer's framed box."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        """Keeps the arguments as given (``ctx.meta["argv"]``) for the provenance of reports."""
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            _usage_error(exc)
        ctx.meta["argv"] = argv
        return ctx

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScalematchError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from None
        except click.UsageError as exc:
            _usage_error(exc)


def _usage_error(exc: click.UsageError) -> NoReturn:
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    message = " ".join(exc.format_message().split())
    typer.echo(f"Error: {message}{where}", err=True)
    raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Group,
    name="scalematch",
    help="Match a CNN's feature maps to the objects in a detection dataset.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("profile")(profile_cmd.profile)
app.command("backbones")(profile_cmd.backbones)
app.command("stats")(stats_cmd.stats)
app.command("recommend")(recommend_cmd.recommend)
app.command("explain")(explain_cmd.explain)
app.command("erf")(erf_cmd.erf)


def main() -> None:  # pragma: no cover - thin console-script wrapper
    app()

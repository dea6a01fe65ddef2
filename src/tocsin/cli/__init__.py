"""The `tocsin` command: nouns then verbs (`tocsin alerts ack 12 --by ana`).

`main()` imports only the module of the command being run (`COMMANDS` lists them all with their
help), and each command imports the store, the API or the pipeline in its own body: `tocsin
--help` loads no command module and `tocsin alerts list` no module of the API or the pipeline."""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

import typer

# Every command, in the order `tocsin --help` lists them: name -> (module in tocsin.cli, the
# object there, one line of help). A group is a Typer app, a command a function. The modules
# are imported only for the command being run, so `tocsin alerts list` loads neither the API
# nor the other nineteen modules, and `tocsin --help` loads none of them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("setup", "init", "Write a starter tocsin.yaml and the shipped runbooks."),
    "run": ("run", "run", "Run the workers and serve the API, until stopped."),
    "demo": ("demo", "demo", "Run the storefront scenario on a virtual clock."),
    "instances": ("instances", "instances", "The instances sharing the store."),
    "config": ("config", "app", "Check and print the configuration."),
    "db": ("setup", "db_app", "Manage the store's schema."),
    "check": ("checks", "app", "Run and inspect checks."),
    "alerts": ("alerts", "app", "List, inspect, acknowledge and resolve alerts."),
    "heartbeat": ("heartbeats", "app", "Ping URLs for cron jobs, and their pings."),
    "oncall": ("oncall", "app", "Who is on call, shifts, overrides, calendars."),
    "token": ("tokens", "app", "API tokens and integration keys."),
    "silence": ("silences", "app", "Mute alerts by label matchers."),
    "maintenance": ("maintenance", "app", "Maintenance windows per service."),
    "known-issue": ("known_issues", "app", "Suppress and count a known issue."),
    "stats": ("stats", "app", "Figures about Tocsin's own alerting."),
    "runbook": ("runbooks", "app", "List, show and lint runbooks."),
    "incident": ("incidents", "app", "Declare incidents, command them, post status updates."),
    "status": ("status", "app", "The public status page: show it, export it."),
    "report": ("reports", "app", "Operations reports: list, run, show."),
    "slo": ("slos", "app", "Service-level objectives and error budgets."),
    "user": ("users", "app", "Console sign-ins of the configured users."),
    "audit": ("audit", "app", "The audit log of operator actions."),
}


def build(only: str | None = None) -> typer.Typer:
    """The `tocsin` app with every command loaded, or only `only` loaded and the others listed
    by name and help (enough for `tocsin --help` and for an unknown command's error)."""
    root = typer.Typer(
        no_args_is_help=True,
        add_completion=False,
        help="Tocsin: alerting, escalation and incident response.",
    )
    root.callback()(_root)
    for name, (module, attribute, summary) in COMMANDS.items():
        if only is not None and name != only:
            root.command(name, help=summary, short_help=summary)(_not_loaded)
            continue
        found: Any = getattr(import_module(f"tocsin.cli.{module}"), attribute)
        if isinstance(found, typer.Typer):
            root.add_typer(found, name=name, help=summary)
        else:
            root.command(name, short_help=summary)(found)
    return root


def _not_loaded() -> None:  # pragma: no cover - only listed, never run: main() loads the real one
    raise typer.Exit(2)


def __getattr__(name: str) -> typer.Typer:
    """`tocsin.cli.app`, every command loaded (the tests' CliRunner and embedders use it)."""
    if name == "app":
        return build()
    raise AttributeError(name)


def _print_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        typer.echo(f"tocsin {version('tocsin')}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="TOCSIN_URL",
            show_envvar=True,
            help="A Tocsin's URL: alerts, silence and incident commands use its API.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="TOCSIN_TOKEN",
            show_envvar=True,
            help="The API token for --server (`tocsin token create NAME --scope write`).",
        ),
    ] = None,
) -> None:
    """Tocsin: alerting, escalation and incident response."""
    from tocsin.cli import remote

    remote.use(server, token)
    remote.check_noun(ctx.invoked_subcommand)


TAKES_VALUE = ("--server", "--token")  # the root's options that take the next argument


def command_asked(argv: list[str]) -> str | None:
    """The command `argv` names (its first argument that is no root option or value)."""
    args = iter(argv)
    for arg in args:
        if arg in TAKES_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def main() -> None:
    import sys

    asked = command_asked(sys.argv[1:])
    # No command: --help, --version or the usage, with every command listed and none loaded.
    # A command this table does not know: the whole app, so Typer names the mistake.
    build("" if asked is None else asked if asked in COMMANDS else None)()

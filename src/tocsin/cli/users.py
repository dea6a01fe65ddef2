"""`tocsin user set-password|sign-out|invite`: console sign-ins of the configuration's users."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from tocsin.cli.common import (
    ConfigOption,
    audited,
    clock,
    console,
    fail,
    load_config,
    optional_config,
    os_user,
    store,
    transaction,
)

app = typer.Typer(no_args_is_help=True, help="Console sign-ins of the configured users.")


@app.command("set-password")
def set_password(
    name: Annotated[str, typer.Argument(help="A user under `users` in the configuration.")],
    config: ConfigOption = None,
) -> None:
    """Read a password from stdin (one line) and make it NAME's console password; NAME's
    open sessions end. Their role is `users.NAME.role` (viewer unless set)."""
    from tocsin.console import accounts, sessions

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    loaded = load_config(config)
    if name not in loaded.config.users:
        fail(f"no user named {name!r} in the configuration's users; nothing was changed")
    with store(loaded) as factory, transaction(factory) as session:
        now = clock.now()
        accounts.set_password(session, loaded.config, name, password, now)
        ended = sessions.revoke_user(session, name, now)
        audited(session, "password.set", now, name, {"sessions_ended": ended})
    role = loaded.config.users[name].role
    console.print(f"password set for {name} ({role}); {ended} session(s) ended", markup=False)


@app.command("sign-out")
def sign_out(
    name: Annotated[str, typer.Argument(help="The user whose console sessions end.")],
    config: ConfigOption = None,
) -> None:
    """End every console session of NAME at once (a lost phone, someone leaving)."""
    from tocsin.console import sessions

    with store(optional_config(config)) as factory, transaction(factory) as session:
        now = clock.now()
        ended = sessions.revoke_user(session, name, now)
        audited(session, "sessions.revoke", now, name, {"sessions_ended": ended})
    console.print(f"{ended} session(s) of {name} ended", markup=False)


@app.command("invite")
def invite(
    name: Annotated[str, typer.Argument(help="A user under `users` without a password yet.")],
    for_: Annotated[str, typer.Option("--for", help="How long the link works.")] = "7d",
    config: ConfigOption = None,
) -> None:
    """Print a one-time link (under `public_url`) where NAME chooses a console password."""
    from tocsin.config import parse_duration
    from tocsin.console import invites
    from tocsin.errors import Conflict, Invalid, NotFound

    try:
        ttl = parse_duration(for_)
    except ValueError as exc:
        fail(f"--for: {exc}")
    loaded = load_config(config)
    try:
        with store(loaded) as factory, transaction(factory) as session:
            now = clock.now()
            token = invites.create(session, loaded.config, name, os_user(), now, ttl)
            audited(session, "invite.create", now, name, {"expires_at": (now + ttl).isoformat()})
    except (NotFound, Conflict, Invalid) as exc:
        fail(f"{exc}; nothing was changed")
    console.print(f"{loaded.config.public_url.rstrip('/')}/invite/{token}", markup=False)
    typer.echo(f"a one-time link for {name}, valid {for_}; it is shown only this once", err=True)

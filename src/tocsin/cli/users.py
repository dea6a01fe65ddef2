"""`tocsin user set-password|sign-out`: console sign-ins of the configuration's users."""

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

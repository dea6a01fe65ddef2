"""Whether an SQL source's database role can do more than read.

Tocsin runs each PostgreSQL query in a read-only transaction that it rolls back. That refuses
writes to tables, and nothing else: a superuser, or a member of `pg_execute_server_program`,
can still run `COPY (SELECT 1) TO PROGRAM '…'` — a shell command on the database server — and
`pg_write_server_files` can still write files there, all inside a read-only transaction. Only
the role's own privileges stop that, so `tocsin config validate` and `tocsin run` say when a
source connects with such a role. Other databases than SQLite and PostgreSQL get no read-only
guard from Tocsin at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from tocsin.checks.sources.sql import SqlSource
from tocsin.config.sources import SourceConfig, SqlSourceConfig
from tocsin.errors import SourceError

_ROLE = """
SELECT current_user AS role,
       rolsuper AS superuser,
       pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') AS programs,
       pg_has_role(current_user, 'pg_write_server_files', 'MEMBER') AS files
FROM pg_roles WHERE rolname = current_user
"""
ADVICE = (
    "connect as a role that can only read, such as one granted pg_read_all_data "
    "(CREATE ROLE tocsin_reader LOGIN PASSWORD '…'; GRANT pg_read_all_data TO tocsin_reader)"
)


@dataclass(frozen=True)
class RoleFinding:
    """What was found about one SQL source's role."""

    source: str
    warning: str | None = None  # the role can do more than read
    unchecked: str | None = None  # why the role could not be looked at


def check_roles(sources: Mapping[str, SourceConfig]) -> list[RoleFinding]:
    """A finding for each SQL source whose role can do more than read or could not be
    checked, in the order of `sources`. Connects to every PostgreSQL source, all at once, so
    unreachable ones cost one connect timeout together."""
    sql = [(name, spec) for name, spec in sources.items() if isinstance(spec, SqlSourceConfig)]
    if not sql:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(sql)), thread_name_prefix="roles") as pool:
        found = list(pool.map(lambda item: _finding(*item), sql))
    return [f for f in found if f.warning or f.unchecked]


def _finding(name: str, spec: SqlSourceConfig) -> RoleFinding:
    try:
        backend = make_url(spec.url).get_backend_name()
    except sa_exc.ArgumentError:
        return RoleFinding(name)  # the source reports its bad URL when it runs
    if backend == "sqlite":
        return RoleFinding(name)  # opened read-only by Tocsin, and SQLite has no roles
    if backend != "postgresql":
        return RoleFinding(
            name,
            warning=f"Tocsin cannot make a {backend} source read-only; connect as a role that "
            "can only read",
        )
    try:
        source = SqlSource(spec)
    except SourceError:
        return RoleFinding(name)
    try:
        return RoleFinding(name, warning=_warning(source))
    except SourceError as exc:
        return RoleFinding(name, unchecked=str(exc))
    finally:
        source.close()


def _warning(source: SqlSource) -> str | None:
    rows = source.fetch(_ROLE, {})
    if not rows:
        return None
    row = rows[0]
    role = row["role"]
    if row["superuser"]:
        what = f"connects as {role!r}, a superuser"
    elif row["programs"]:
        what = f"connects as {role!r}, a member of pg_execute_server_program"
    elif row["files"]:
        return (
            f"connects as {role!r}, a member of pg_write_server_files: a read-only transaction "
            f"does not stop COPY … TO a file on the database server; {ADVICE}"
        )
    else:
        return None
    return (
        f"{what}: a read-only transaction does not stop COPY … TO PROGRAM, which runs a shell "
        f"command on the database server; {ADVICE}"
    )

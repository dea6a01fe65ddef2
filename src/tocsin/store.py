"""Schema versions: apply Alembic migrations and refuse to run on a store that is behind.

Checking a store's version is on every CLI command's path, so it reads Alembic's version
table with one query and names the newest migration from the file names, without loading
Alembic (a fifth of a second); only `upgrade` needs Alembic itself."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from tocsin.errors import StoreBehind

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head() -> str:
    """The newest revision. Each migration is a file `NNNN_what.py` whose revision is `NNNN`
    (tests/test_store.py holds every file to it), so the newest file name says it."""
    return max(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current(engine: Engine) -> str | None:
    """The store's revision, None when it has no Tocsin schema."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        found: str | None = connection.execute(
            text(f"SELECT version_num FROM {VERSION_TABLE}")
        ).scalar()
        return found


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to `revision` (the latest by default); safe to run on an up-to-date store."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def verdict(found: str | None, wanted: str | None = None) -> str | None:
    """None when a store at revision `found` is the one this code needs; else why not, naming
    the version needed (revisions are zero-padded numbers, so they compare as text). A store
    behind this code waits for `tocsin db upgrade`; one ahead of it (a newer Tocsin upgraded
    it during a rolling upgrade) is refused: this instance must be upgraded."""
    wanted = wanted or head()
    if found == wanted:
        return None
    if found is None or found < wanted:
        where = "has no Tocsin schema" if found is None else f"is at revision {found}"
        return f"the store {where}; this Tocsin needs {wanted}. Run `tocsin db upgrade` first."
    return (
        f"the store is at revision {found}, newer than this Tocsin (which knows up to "
        f"{wanted}); run a Tocsin that has migration {found} on this instance."
    )


def ensure_current(engine: Engine) -> None:
    """Raise StoreBehind, naming the fixing command, unless the store is at the latest revision."""
    problem = verdict(current(engine))
    if problem is not None:
        raise StoreBehind(problem)

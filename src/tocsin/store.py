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


def ensure_current(engine: Engine) -> None:
    """Raise StoreBehind, naming the fixing command, unless the store is at the latest revision."""
    found, wanted = current(engine), head()
    if found != wanted:
        where = "has no Tocsin schema" if found is None else f"is at revision {found}"
        raise StoreBehind(
            f"the store {where}; this Tocsin needs {wanted}. Run `tocsin db upgrade` first."
        )

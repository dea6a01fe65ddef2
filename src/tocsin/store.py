"""Schema versions: apply Alembic migrations and refuse to run on a store that is behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tocsin.errors import StoreBehind

_MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to `revision` (the latest by default); safe to run on an up-to-date store."""
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

"""The store: migrations match the models on both backends; a store that is behind is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from tocsin import store
from tocsin.db import make_engine
from tocsin.errors import StoreBehind
from tocsin.models import Base


def test_the_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert store.current(engine) == store.head()
    store.upgrade(engine)  # a second upgrade is a no-op
    store.ensure_current(engine)


def test_an_empty_store_is_refused_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreBehind, match=r"has no Tocsin schema.*Run `tocsin db upgrade`"):
        store.ensure_current(engine)
    store.upgrade(engine)
    store.ensure_current(engine)
    engine.dispose()


def test_a_store_at_an_older_revision_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    store.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(StoreBehind, match="is at revision 0000"):
        store.ensure_current(engine)
    engine.dispose()


def test_sqlite_stores_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()

"""The store: migrations match the models on both backends; a store that is behind is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
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


def test_sqlite_stores_log_alert_changes_at_head(tmp_path: Path) -> None:
    """The triggers behind `tocsin.inbound.repeats` (migration 0013); a later migration that
    copies the alert table on SQLite (`batch_alter_table`) would drop them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'head.db'}")
    store.upgrade(engine)
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'alert'"
        ).scalars()
        assert sorted(found) == ["alert_change_delete", "alert_change_update"]
    config = store._alembic_config()
    with engine.begin() as conn:  # and the way back
        config.attributes["connection"] = conn
        command.downgrade(config, "0012")
    with engine.connect() as conn:
        assert not conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).all()
    engine.dispose()


def test_each_migration_file_is_named_for_its_revision_so_the_newest_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(store.__file__).parent / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_")
    assert scripts.get_heads() == [store.head()]

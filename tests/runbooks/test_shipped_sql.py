"""Every SQL block of every shipped runbook runs on a storefront the demo's generator built.

On PostgreSQL the storefront gets a database of its own (so `current_database()`, which the
database runbooks use, is a throwaway one). Read blocks run as a runbook step will: through the
SQL source, read-only, with the statement timeout. A write block cannot run read-only; it runs
in a transaction that is rolled back. Blocks without a dialect, and the `sqlite` ones, also run
on a SQLite storefront.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from tests.support.runbooks import NOW, SMALL, shop_pg

from tocsin.checks.evaluate import resolve_params
from tocsin.checks.sources.sql import SqlSource
from tocsin.config import SqlSourceConfig
from tocsin.demo.storefront import DEFAULT_START, create_storefront
from tocsin.errors import SourceError
from tocsin.runbooks.blocks import Block
from tocsin.runbooks.parse import Runbook
from tocsin.runbooks.service import read

__all__ = ["shop_pg"]

# What an operator would answer the prompts with.
ANSWERS = {"order_id": "12", "provider_name": "printful", "assignee": "ana"}


def shipped() -> list[Runbook]:
    folder = Path(str(resources.files("tocsin.examples").joinpath("runbooks")))
    runbooks, problems = read([folder])
    assert not problems
    return runbooks


def params_for(runbook: Runbook, block: Block) -> dict[str, object]:
    assert runbook.meta is not None
    out: dict[str, object] = {}
    for use in block.params:
        spec = runbook.meta.param(use.name)
        assert spec is not None, f"{runbook.path}:{use.line}: {use.written} is not declared"
        if spec.is_time:
            assert spec.default is not None
            out[use.name] = resolve_params({use.name: spec.default}, NOW, "UTC")[use.name]
        elif spec.default is not None:
            out[use.name] = spec.default
        else:
            assert use.name in ANSWERS, f"{runbook.path}:{use.line}: no answer for {use.written}"
            out[use.name] = ANSWERS[use.name]
    return out


def run_all(url: str, dialect: str) -> int:
    """Run every block of `dialect` in every shipped runbook; return how many ran."""
    count = 0
    for runbook in shipped():
        blocks = [b for b in runbook.blocks if b.kind == "sql" and b.dialect in (None, dialect)]
        writes: dict[tuple[str | None, int | None], list[Block]] = {}
        for block in blocks:
            if block.mode == "read":
                read_only(url, runbook, block)
            else:
                writes.setdefault((block.section, block.step), []).append(block)
        for group in writes.values():
            rolled_back(url, runbook, group)
        count += len(blocks)
    return count


def read_only(url: str, runbook: Runbook, block: Block) -> None:
    source = SqlSource(SqlSourceConfig(type="sql", url=url))
    try:
        source.fetch(block.body, params_for(runbook, block))
    except SourceError as exc:
        pytest.fail(f"{runbook.path}:{block.line}: {exc}")
    finally:
        source.close()


def rolled_back(url: str, runbook: Runbook, blocks: list[Block]) -> None:
    """The write blocks of one step (or of one section outside the steps) in one transaction,
    in order, as they build on each other (a column, then its index), then rolled back."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for block in blocks:
                try:
                    conn.execute(text(block.body), params_for(runbook, block))
                except DBAPIError as exc:
                    pytest.fail(f"{runbook.path}:{block.line}: {exc.orig}")
            conn.rollback()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def shop_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}"
    create_storefront(url, DEFAULT_START, SMALL)
    return url


def test_every_sql_block_runs_on_a_postgresql_storefront(shop_pg: str) -> None:
    assert run_all(shop_pg, "postgresql") >= 50


def test_every_portable_sql_block_runs_on_a_sqlite_storefront(shop_sqlite: str) -> None:
    assert run_all(shop_sqlite, "sqlite") > 20


def test_a_step_written_for_both_dialects_has_a_block_for_each() -> None:
    for runbook in shipped():
        for step in runbook.steps:
            dialects = {b.dialect for b in step.blocks if b.kind == "sql"}
            if "sqlite" in dialects:
                assert "postgresql" in dialects, f"{runbook.path}:{step.line}"

"""`store_url` finds the store as `load` would, reading nothing but `store.url`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.config import load
from tocsin.config.locate import DEFAULT_DATABASE_URL, store_url
from tocsin.errors import ConfigError


def test_it_reads_store_url_with_its_variables_as_the_full_loader_does(tmp_path: Path) -> None:
    file = tmp_path / "tocsin.yaml"
    file.write_text(
        "# a comment\nstore:\n  url: postgresql+psycopg://tocsin:${PGPASS}@${HOST:-db}/tocsin\n"
    )
    env = {"PGPASS": "s3cret"}
    assert store_url(file, env) == "postgresql+psycopg://tocsin:s3cret@db/tocsin"
    assert store_url(file, env) == load(file, env).database_url


def test_the_environment_wins_and_the_default_needs_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "tocsin.yaml"
    file.write_text("store: {url: 'sqlite:///from-file.db'}\n")
    assert store_url(file, {"TOCSIN_DATABASE_URL": "sqlite:///env.db"}) == "sqlite:///env.db"
    assert store_url(None, {"TOCSIN_CONFIG": str(file)}) == "sqlite:///from-file.db"
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")  # no ./tocsin.yaml: the default store
    assert store_url(None, {}) == DEFAULT_DATABASE_URL
    missing = tmp_path / "absent" / "tocsin.yaml"
    (tmp_path / "other.yaml").write_text("channels: {}\n")
    assert store_url(tmp_path / "other.yaml", {}) == DEFAULT_DATABASE_URL
    with pytest.raises(ConfigError, match="cannot read"):
        store_url(missing, {})


def test_a_broken_store_url_is_named_by_line(tmp_path: Path) -> None:
    file = tmp_path / "tocsin.yaml"
    file.write_text("sources: {}\nstore:\n  url: ${NOT_SET_HERE}\n")
    with pytest.raises(ConfigError) as raised:
        store_url(file, {})
    assert raised.value.problems == [
        f"{file}:3: store.url: environment variable NOT_SET_HERE is not set"
    ]
    file.write_text("store:\n  url: [a, b]\n")
    with pytest.raises(ConfigError, match=r":2: store.url: must be text"):
        store_url(file, {})
    file.write_text("store: {url: 'x'\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        store_url(file, {})


def test_a_mistake_elsewhere_in_the_file_does_not_matter(tmp_path: Path) -> None:
    file = tmp_path / "tocsin.yaml"
    file.write_text("store: {url: 'sqlite:///s.db'}\nchannels: {x: {type: nope, url: '${NOPE}'}}\n")
    assert store_url(file, {}) == "sqlite:///s.db"
    with pytest.raises(ConfigError):
        load(file, {})

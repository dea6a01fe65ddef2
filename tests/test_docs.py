"""The user's guide is true: its links lead somewhere inside the repository, its example
configuration validates, and its SQLite backup and restore commands work as printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tocsin import store
from tocsin.alerts.models import Alert
from tocsin.config import parse
from tocsin.db import make_engine, make_sessionmaker, session_scope

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)|href=\"([^\"]+)\"")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_ANCHOR = re.compile(r"<a id=\"([^\"]+)\">")


def prose(text: str) -> str:
    """The page without its code: a link inside a code block or span is an example."""
    return _CODE.sub("", _FENCE.sub("", text))


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors (lower case, punctuation dropped, spaces to hyphens) and
    explicit `<a id>`s; headings inside code blocks are not headings."""
    text = page.read_text(encoding="utf-8")
    found = set(_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for heading in _HEADING.findall(_FENCE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(page: Path) -> list[str]:
    return [a or b for a, b in _LINK.findall(prose(page.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_link_of_the_guide_resolves_inside_the_repository(page: Path) -> None:
    wrong = []
    for target in links(page):
        if re.match(r"^(https?|mailto):", target):
            continue  # a web page, not a file
        path, _, anchor = target.partition("#")
        if re.match(r"^[a-z]+:", path) or path.startswith("/"):
            wrong.append(f"{target}: not a relative link")
            continue
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(ROOT):
            wrong.append(f"{target}: outside the repository")
        elif not file.exists():
            wrong.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            wrong.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not wrong, f"{page.name}: " + "; ".join(wrong)


def test_the_link_check_sees_links_in_prose_only_and_github_anchors() -> None:
    page = ROOT / "docs" / "checks.md"
    text = "[a](../../elsewhere.md) [b](missing.md) [c](checks.md#no-such-heading) `[d](x.md)`"
    assert links(page)  # the real page has links
    found = _LINK.findall(prose(text))
    expected = ["../../elsewhere.md", "missing.md", "checks.md#no-such-heading"]
    assert [a for a, _ in found] == expected
    assert "a-check" in anchors(page)


def block_after(marker: str) -> str:
    """The fenced block that follows `<!-- tested: marker -->` in the README."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- tested: {marker} -->\n```\w*\n(.*?)\n```", text, re.DOTALL)
    assert found, f"README.md has no block marked {marker}"
    return found.group(1)


def test_the_readme_configuration_example_validates() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration by example") :]
    example = re.search(r"```yaml\n(.*?)\n```", section, re.DOTALL)
    assert example
    env = {
        "SHOP_DATABASE_URL": "sqlite:///shop.db",
        "DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/token",
        "PAGERDUTY_ROUTING_KEY": "R0UT1NGKEY",
        "SMTP_PASSWORD": "pw",
        "PGPASSWORD": "pw",
    }
    config, _ = parse(example.group(1), "README.md", env)
    assert [check.name for check in config.checks] == ["error_rate"]
    assert set(config.channels) == {"console", "discord", "pager", "mail"}


def add_alert(db: Path, title: str) -> None:
    engine = make_engine(f"sqlite:///{db}")
    at = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
    with session_scope(make_sessionmaker(engine)) as session:
        session.add(
            Alert(
                fingerprint=title.encode().hex()[:32],
                origin="check",
                check_name="error_rate",
                labels={"service": "storefront"},
                severity="HIGH",
                state="firing",
                title=title,
                started_at=at,
                updated_at=at,
            )
        )
    engine.dispose()


def run_block(block: str, folder: Path) -> str:
    """Each line of a README block in bash, in `folder`, with `tocsin` on the PATH."""
    lines = [line for line in block.splitlines() if line and not line.startswith("#")]
    if shutil.which("sqlite3") is None:  # the README gives Python's line for that case
        lines = [line for line in lines if not line.startswith("sqlite3 ")]
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "200",
    }
    env.pop("TOCSIN_CONFIG", None)
    env.pop("TOCSIN_DATABASE_URL", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_readme_backs_up_and_restores_a_sqlite_store(tmp_path: Path) -> None:
    db = tmp_path / "tocsin.db"
    engine = make_engine(f"sqlite:///{db}")
    store.upgrade(engine)
    engine.dispose()
    add_alert(db, "Before the backup")

    run_block(block_after("backup-sqlite"), tmp_path)
    assert (tmp_path / "tocsin-backup.db").exists()
    add_alert(db, "After the backup")  # lost by the restore, as it should be

    out = run_block(block_after("restore-sqlite"), tmp_path)
    assert f"code needs {store.head()}" in out
    assert "Before the backup" in out
    assert "After the backup" not in out

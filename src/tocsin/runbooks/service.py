"""The runbook catalog: the Markdown files of a folder (`runbooks.path`), parsed.

`catalog(folder)` is cached on the files' names, sizes and modification times, so the web
pages re-read a folder only after an edit; `read(paths)` reads files and folders for lint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tocsin.errors import NotFound
from tocsin.runbooks.parse import Problem, Runbook, parse

_Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Catalog:
    folder: Path | None
    runbooks: tuple[Runbook, ...]
    problems: tuple[Problem, ...] = ()  # files that could not be read
    _by_id: Mapping[str, Runbook] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, folder: Path | None, runbooks: Iterable[Runbook], problems: Iterable[Problem] = ()
    ) -> Catalog:
        ordered = tuple(sorted(runbooks, key=lambda r: (r.id, r.path)))
        by_id: dict[str, Runbook] = {}
        for runbook in ordered:
            by_id.setdefault(runbook.id, runbook)  # a duplicate id is a lint problem
        return cls(folder, ordered, tuple(problems), by_id)

    def get(self, runbook_id: str) -> Runbook:
        found = self._by_id.get(runbook_id)
        if found is None:
            raise NotFound(f"no runbook {runbook_id!r}")
        return found


def markdown_files(paths: Iterable[Path]) -> list[Path]:
    """The `.md` files among `paths` and in the folders among them (not recursive), sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix == ".md" and p.is_file())
        else:
            out.append(path)
    return out


def read(paths: Iterable[Path]) -> tuple[list[Runbook], list[Problem]]:
    """Parse every runbook file among `paths`; a file that cannot be read is a problem."""
    runbooks, problems = [], []
    for path in markdown_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            problems.append(Problem(str(path), 1, f"cannot read the runbook: {reason}"))
            continue
        runbooks.append(parse(text, str(path)))
    return runbooks, problems


def catalog(folder: Path | None) -> Catalog:
    """The runbooks in `folder` (none when it is None or missing), re-read after any edit."""
    if folder is None or not folder.is_dir():
        return Catalog.of(folder, ())
    return _cached(folder, _signature(folder))


def _signature(folder: Path) -> _Signature:
    out = []
    for path in markdown_files([folder]):
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@lru_cache(maxsize=8)
def _cached(folder: Path, signature: _Signature) -> Catalog:
    del signature  # part of the cache key only
    runbooks, problems = read([folder])
    return Catalog.of(folder, runbooks, problems)

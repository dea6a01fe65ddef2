"""A runbook file, parsed: `parse(text, path)` gives its front matter, sections, numbered steps
with their executable blocks, the verification checklist and every mistake found on the way,
each with its line in the file. Pure: it reads nothing but the text it is handed.

The format is reference 002's: YAML front matter (id, title, severity, expected duration, what
it applies to, parameters), then the standard sections as `##` headings. Steps are the items
of the top-level numbered list under "Resolution Steps", or its `### Step N: …` headings
(reference 000 writes them so). Verification steps are a list (`- [ ] …`). Four sections are
required; see REQUIRED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePath

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tocsin.runbooks import frontmatter
from tocsin.runbooks.blocks import Block, ParamUse, read_block
from tocsin.runbooks.frontmatter import FrontMatter

# Section keys and the headings that name them (compared in lower case): the standard names
# first, then the variants reference 002 uses for the same thing.
SECTIONS: Mapping[str, tuple[str, ...]] = {
    "symptoms": ("symptoms/detection", "symptoms", "symptom", "detection"),
    "impact": ("impact assessment", "impact"),
    "prerequisites": ("prerequisites",),
    "resolution": ("resolution steps", "resolution", "migration steps", "steps"),
    "verification": ("verification steps", "verification", "verification checklist"),
    "rollback": ("rollback procedure", "rollback"),
    "post_incident": (
        "post-incident actions",
        "post-recovery actions",
        "post-migration actions",
        "post-resolution actions",
        "post-action tasks",
        "preventive measures",
    ),
    "escalation": ("escalation criteria", "escalation"),
    "communication": (
        "communication templates",
        "communication template",
        "customer communication",
        "user communication template",
        "customer guidance template",
    ),
}
# What a responder cannot do without at 3 a.m.: is this my problem (symptoms), what to do
# (steps), how to know it worked (verification), when to call for help (escalation). The
# others are kept when present: many of reference 002's runbooks rightly have no rollback.
REQUIRED: Mapping[str, str] = {
    "symptoms": "Symptoms/Detection",
    "resolution": "Resolution Steps",
    "verification": "Verification Steps",
    "escalation": "Escalation Criteria",
}
_BY_HEADING = {name: key for key, names in SECTIONS.items() for name in names}
_STEP_HEADING = re.compile(r"^step\s+(\d+)\s*[:.–-]\s*(.+)$", re.IGNORECASE)
_CHECKBOX = re.compile(r"^\[([ xX])\]\s*")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Section:
    key: str | None  # None for a heading that is not one of SECTIONS
    title: str
    line: int
    anchor: str


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    line: int
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class CheckItem:
    """One verification item: ticked by a person, or by its blocks' `test` holding."""

    text: str
    line: int
    checked: bool
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Runbook:
    path: str
    meta: FrontMatter | None  # None when the front matter is invalid
    front_matter: frontmatter.Read
    body: str  # the Markdown after the front matter
    body_line: int  # the file line `body` starts on
    sections: tuple[Section, ...]
    steps: tuple[Step, ...]
    verification: tuple[CheckItem, ...]
    blocks: tuple[Block, ...]  # every executable block, steps' and others', in file order
    problems: tuple[Problem, ...]

    @property
    def id(self) -> str:
        """The front matter's id, else the file name without `.md`."""
        return self.meta.id if self.meta else PurePath(self.path).stem

    @property
    def title(self) -> str:
        return self.meta.title if self.meta else self.id

    @property
    def params(self) -> tuple[ParamUse, ...]:
        return tuple(use for block in self.blocks for use in block.params)

    def step(self, number: int) -> Step | None:
        return next((s for s in self.steps if s.number == number), None)


@cache
def markdown() -> MarkdownIt:
    """CommonMark with tables and raw HTML off: a runbook's `<script>` stays text."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def parse(text: str, path: str) -> Runbook:
    """The runbook `text` (the content of the file at `path`) describes."""
    front, body, body_line, mistakes = _split(text)
    read = frontmatter.read(front, 2) if front is not None else frontmatter.Read(None, {}, {}, [])
    meta = read.meta
    walk = _Walk(meta.source if meta else None, body_line)
    walk.run(markdown().parse(body))
    found = [*mistakes, *read.mistakes, *walk.mistakes]
    problems = [Problem(path, m.line, m.message) for m in found]
    problems += [Problem(path, line, message) for line, message in walk.structure()]
    return Runbook(
        path=path,
        meta=meta,
        front_matter=read,
        body=body,
        body_line=body_line,
        sections=tuple(walk.sections),
        steps=tuple(walk.steps),
        verification=tuple(walk.items),
        blocks=tuple(walk.blocks),
        problems=tuple(sorted(problems, key=lambda p: (p.line, p.message))),
    )


_NO_FRONT_MATTER = (
    "the file must start with front matter: a '---' line, YAML (id, title, severity, "
    "expected_duration), a '---' line"
)


def _split(text: str) -> tuple[str | None, str, int, list[frontmatter.Mistake]]:
    """(front matter, body, the body's first line, mistakes) of a file."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1, [frontmatter.Mistake(1, _NO_FRONT_MATTER)]
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2, []
    return None, text, 1, [frontmatter.Mistake(1, "the front matter has no closing '---' line")]


def slug(text: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces → '-'."""
    kept = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return kept.replace(" ", "-") or "section"


class Anchors:
    """Unique anchors for a document's headings, in order: `setup`, `setup-1`, …"""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def next(self, title: str) -> str:
        base = candidate = slug(title)
        count = 0
        while candidate in self._seen:
            count += 1
            candidate = f"{base}-{count}"
        self._seen.add(candidate)
        return candidate


def inline_text(token: Token) -> str:
    """The plain text of an inline token: emphasis dropped, code spans kept."""
    children = token.children or []
    return "".join(
        c.content if c.type in ("text", "code_inline") else " "
        for c in children
        if c.type in ("text", "code_inline", "softbreak", "hardbreak")
    ).strip()


@dataclass
class _Item:
    number: int
    written: str
    title: str
    line: int
    blocks: list[Block] = field(default_factory=list)


class _Walk:
    """One pass over the token stream, tracking the section, the step and the list item."""

    def __init__(self, default_source: str | None, body_line: int) -> None:
        self.default_source = default_source
        self.offset = body_line
        self.sections: list[Section] = []
        self.steps: list[Step] = []
        self.items: list[CheckItem] = []
        self.blocks: list[Block] = []
        self.mistakes: list[frontmatter.Mistake] = []
        self._anchors = Anchors()
        self._section: Section | None = None
        self._heading_step: _Item | None = None
        self._list_item: _Item | None = None
        self._list_next = 1
        self._item_checked = False
        self._heading_steps = False
        self._first_heading: int | None = None

    def line(self, token: Token) -> int:
        return self.offset + (token.map[0] if token.map else 0)

    def run(self, tokens: list[Token]) -> None:
        for index, token in enumerate(tokens):
            if token.type == "heading_open":
                self._heading(token, tokens[index + 1])
            elif token.type in ("ordered_list_open", "bullet_list_open") and token.level == 0:
                self._list_next = int(token.attrGet("start") or 1)
            elif token.type == "list_item_open" and token.level == 1:
                self._open_item(token, tokens, index)
            elif token.type == "list_item_close" and token.level == 1:
                self._close_item()
            elif token.type == "fence":
                self._fence(token)
        self._close_heading_step()

    def _key(self) -> str | None:
        return self._section.key if self._section else None

    def _heading(self, token: Token, inline: Token) -> None:
        title, line = inline_text(inline), self.line(token)
        level = int(token.tag[1])
        if self._first_heading is None:
            self._first_heading = line
        anchor = self._anchors.next(title)
        if level == 2:
            self._close_heading_step()
            key = _BY_HEADING.get(" ".join(title.lower().replace("&", "and").split()))
            self._section = Section(key, title, line, anchor)
            self.sections.append(self._section)
        elif level >= 3 and self._key() == "resolution":
            step = _STEP_HEADING.match(title)
            if step is not None:
                self._close_heading_step()
                self._heading_steps = True
                number = int(step.group(1))
                self._heading_step = _Item(number, step.group(1), step.group(2).strip(), line)

    def _close_heading_step(self) -> None:
        item, self._heading_step = self._heading_step, None
        if item is not None:
            self.steps.append(Step(item.number, item.title, item.line, tuple(item.blocks)))

    def _open_item(self, token: Token, tokens: list[Token], index: int) -> None:
        inline = next((t for t in tokens[index + 1 :] if t.type == "inline"), None)
        text = inline_text(inline) if inline is not None else ""
        checkbox = _CHECKBOX.match(text)
        self._item_checked = bool(checkbox and checkbox.group(1) in "xX")
        title = text[checkbox.end() :] if checkbox else text
        self._list_item = _Item(self._list_next, token.info, title, self.line(token))
        self._list_next += 1

    def _close_item(self) -> None:
        item, self._list_item = self._list_item, None
        if item is None:
            return
        key = self._key()
        if key == "resolution" and not self._heading_steps and item.written:
            if item.written != str(item.number):
                self.mistakes.append(
                    frontmatter.Mistake(
                        item.line,
                        f"step written as {item.written} is shown as {item.number}: "
                        "number the steps 1, 2, 3… in order",
                    )
                )
            self.steps.append(Step(item.number, item.title, item.line, tuple(item.blocks)))
        elif key == "verification":
            self.items.append(
                CheckItem(item.title, item.line, self._item_checked, tuple(item.blocks))
            )

    def _fence(self, token: Token) -> None:
        line = self.line(token)
        step = self._current_step()
        block, mistakes = read_block(
            token.info,
            token.content,
            line,
            self._key(),
            step.number if step else None,
            self.default_source,
        )
        self.mistakes += mistakes
        if block is None:
            return
        self.blocks.append(block)
        target = step or (self._list_item if self._key() == "verification" else None)
        if target is not None:
            target.blocks.append(block)

    def _current_step(self) -> _Item | None:
        if self._key() != "resolution":
            return None
        if self._heading_steps:
            return self._heading_step
        return self._list_item if self._list_item and self._list_item.written else None

    def structure(self) -> list[tuple[int, str]]:
        """Missing or repeated sections, and required ones left empty."""
        out: list[tuple[int, str]] = []
        seen: dict[str, Section] = {}
        for section in self.sections:
            if section.key is None:
                continue
            if section.key in seen:
                first = seen[section.key]
                out.append(
                    (section.line, f"{section.title!r} repeats {first.title!r} (line {first.line})")
                )
            seen.setdefault(section.key, section)
        # A missing section is reported where the document starts: its title.
        at = self._first_heading or self.offset
        for key, heading in REQUIRED.items():
            if key not in seen:
                out.append((at, f"missing required section '## {heading}'"))
        if "resolution" in seen and not self.steps:
            out.append((seen["resolution"].line, "Resolution Steps has no numbered steps"))
        if "verification" in seen and not self.items:
            out.append((seen["verification"].line, "Verification Steps has no list items"))
        numbers = [s.number for s in self.steps]
        if numbers != list(range(1, len(numbers) + 1)):
            line = self.steps[0].line if self.steps else at
            out.append((line, f"steps are numbered {numbers}: number them 1, 2, 3… in order"))
        return out

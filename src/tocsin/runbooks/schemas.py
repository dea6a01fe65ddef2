"""The runbook as the API and `tocsin runbook … --json` give it."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any, Literal

from pydantic import BaseModel

from tocsin.runbooks.blocks import Block
from tocsin.runbooks.models import RunbookRun
from tocsin.runbooks.parse import Runbook


class HttpRequestOut(BaseModel):
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str


class BlockOut(BaseModel):
    kind: Literal["sql", "http", "sh"]
    language: str
    line: int
    section: str | None
    step: int | None
    attributes: dict[str, Any]
    body: str
    params: list[str]
    source: str | None
    timeout_seconds: float | None
    mode: Literal["read", "write"]
    auto: bool
    tests: list[str]
    dialect: str | None
    request: HttpRequestOut | None


class StepOut(BaseModel):
    number: int
    title: str
    line: int
    blocks: list[BlockOut]


class CheckItemOut(BaseModel):
    text: str
    line: int
    checked: bool
    blocks: list[BlockOut]


class SectionOut(BaseModel):
    key: str | None
    title: str
    line: int
    anchor: str


class ParamOut(BaseModel):
    name: str
    default: str | None
    prompt: str | None
    env: str | None  # the variable's name; its value is never shown
    pattern: str | None
    time: bool


class RunbookSummaryOut(BaseModel):
    id: str
    title: str
    severity: str | None
    severities: list[str]
    expected_duration: str | None
    services: list[str]
    checks: list[str]
    alerts: list[str]
    step_count: int
    file: str
    problems: list[str]


class RunbookOut(RunbookSummaryOut):
    params: list[ParamOut]
    sections: list[SectionOut]
    steps: list[StepOut]
    verification: list[CheckItemOut]
    blocks: list[BlockOut]
    markdown: str


def summary(runbook: Runbook) -> RunbookSummaryOut:
    meta = runbook.meta
    return RunbookSummaryOut(
        id=runbook.id,
        title=runbook.title,
        severity=meta.severities[0] if meta else None,
        severities=list(meta.severities) if meta else [],
        expected_duration=meta.expected_duration if meta else None,
        services=list(meta.services) if meta else [],
        checks=list(meta.checks) if meta else [],
        alerts=list(meta.alerts) if meta else [],
        step_count=len(runbook.steps),
        # The file's name only: where the server keeps its files is nobody's business.
        file=PurePath(runbook.path).name,
        problems=[f"line {p.line}: {p.message}" for p in runbook.problems],
    )


def detail(runbook: Runbook) -> RunbookOut:
    params = []
    if runbook.meta is not None:
        for name in runbook.meta.params:
            spec = runbook.meta.param(name)
            assert spec is not None
            params.append(
                ParamOut(
                    name=name,
                    default=spec.default,
                    prompt=spec.prompt,
                    env=spec.env,
                    pattern=spec.pattern,
                    time=spec.is_time,
                )
            )
    return RunbookOut(
        **summary(runbook).model_dump(),
        params=params,
        sections=[SectionOut(**vars(s)) for s in runbook.sections],
        steps=[
            StepOut(number=s.number, title=s.title, line=s.line, blocks=_blocks(s.blocks))
            for s in runbook.steps
        ],
        verification=[
            CheckItemOut(text=i.text, line=i.line, checked=i.checked, blocks=_blocks(i.blocks))
            for i in runbook.verification
        ],
        blocks=_blocks(runbook.blocks),
        markdown=runbook.body,
    )


def _blocks(blocks: tuple[Block, ...]) -> list[BlockOut]:
    return [
        BlockOut(
            kind=b.kind,
            language=b.language,
            line=b.line,
            section=b.section,
            step=b.step,
            attributes=dict(b.attributes),
            body=b.body,
            params=list(dict.fromkeys(use.name for use in b.params)),
            source=b.source,
            timeout_seconds=b.timeout.total_seconds() if b.timeout else None,
            mode=b.mode,
            auto=b.auto,
            tests=list(b.tests),
            dialect=b.dialect,
            request=HttpRequestOut(
                method=b.request.method,
                url=b.request.url,
                headers=list(b.request.headers),
                body=b.request.body,
            )
            if b.request
            else None,
        )
        for b in blocks
    ]


class TestOut(BaseModel):
    test: str
    held: bool
    error: str | None


class RunOut(BaseModel):
    """One run of one block: what ran, for whom, and how it ended."""

    id: int
    runbook_id: str
    incident_id: str | None
    purpose: Literal["step", "auto", "check"]
    step: int | None
    line: int
    kind: Literal["sql", "http", "sh"]
    mode: Literal["read", "write"]
    source: str | None
    params: dict[str, Any]  # a value from the environment is shown as its variable's name
    state: Literal["queued", "running", "succeeded", "failed", "timed_out", "refused"]
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    duration_ms: int | None
    exit_status: int | None
    row_count: int | None
    output: str | None
    output_bytes: int | None
    output_sha256: str | None
    truncated: bool
    error: str | None
    tests: list[TestOut]


def run_out(row: RunbookRun) -> RunOut:
    return RunOut.model_validate({name: getattr(row, name) for name in RunOut.model_fields})

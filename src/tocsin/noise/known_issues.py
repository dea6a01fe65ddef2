"""Known issues, as the reference's `registerKnownIssue`: an id, a pattern (label matchers,
message contains, message regex), an expiry, a reason, and the count of alerts it muted.
Defined in the configuration (written to the store when the worker starts) or at run time."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.config.noise import KnownIssueConfig
from tocsin.errors import Conflict, Invalid
from tocsin.noise.common import (
    KNOWN_ISSUES,
    check_matchers,
    end_now,
    forget,
    get_row,
    list_rows,
    parsed,
    per_transaction,
)
from tocsin.noise.decide import known_issue_applies
from tocsin.noise.models import KnownIssue

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


def create_known_issue(
    session: Session,
    issue_id: str,
    reason: str,
    expires_at: datetime,
    *,
    now: datetime,
    matchers: Sequence[str] = (),
    message_contains: str | None = None,
    message_regex: str | None = None,
    created_by: str = "operator",
    origin: str = "cli",
) -> KnownIssue:
    """Validate and store a known issue; Invalid (nothing written) on any bad input,
    Conflict if the id is taken by one that has not expired."""
    parsed = check_matchers(matchers)
    if not _ID.match(issue_id):
        raise Invalid(f"{issue_id!r} is not an id like PRINT-2025-11-16-001")
    if not parsed and message_contains is None and message_regex is None:
        raise Invalid("a known issue needs a pattern: matchers, --contains or --regex")
    if message_regex is not None:
        try:
            re.compile(message_regex)
        except re.error as exc:
            raise Invalid(f"{message_regex!r} is not a regular expression ({exc})") from None
    if not reason.strip():
        raise Invalid("a known issue needs a reason")
    if expires_at.tzinfo is None or expires_at <= now:
        raise Invalid(f"the expiry ({expires_at.isoformat()}) must be an aware time in the future")
    existing = session.get(KnownIssue, issue_id)
    if existing is not None:
        if existing.expires_at > now:
            raise Conflict(f"known issue {issue_id} exists until {existing.expires_at.isoformat()}")
        session.delete(existing)  # an expired id may be registered again
        session.flush()
    issue = KnownIssue(
        id=issue_id,
        matchers=[str(m) for m in parsed],
        message_contains=message_contains,
        message_regex=message_regex,
        reason=reason.strip(),
        origin=origin,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
        suppressed_count=0,
        rescreen_at=now,  # alerts already firing that it matches are muted now
    )
    session.add(issue)
    session.flush()
    forget(session)
    return issue


def seed(session: Session, issues: Sequence[KnownIssueConfig], now: datetime) -> int:
    """Write the configuration's known issues: new ones are added, changed ones updated, and
    counts are kept. Returns how many rows were written."""
    written = 0
    for spec in issues:
        values = {
            "matchers": list(spec.matchers),
            "message_contains": spec.message_contains,
            "message_regex": spec.message_regex,
            "reason": spec.reason,
            "expires_at": spec.expires_at,
        }
        row = session.get(KnownIssue, spec.id)
        if row is None:
            session.add(
                KnownIssue(
                    id=spec.id,
                    origin="config",
                    created_by="config",
                    created_at=now,
                    suppressed_count=0,
                    rescreen_at=now,
                    **values,
                )
            )
            written += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.rescreen_at = now  # it may match alerts it did not
            written += 1
    session.flush()
    forget(session)
    return written


def get_known_issue(session: Session, issue_id: str) -> KnownIssue:
    return get_row(session, KNOWN_ISSUES, issue_id)


def list_known_issues(
    session: Session, now: datetime, *, include_expired: bool = False
) -> Sequence[KnownIssue]:
    return list_rows(session, KNOWN_ISSUES, now, include_expired)


def expire_known_issue(session: Session, issue_id: str, now: datetime) -> KnownIssue:
    """Stop suppressing now. Conflict if it has already expired."""
    return end_now(session, KNOWN_ISSUES, issue_id, now)


def matching(
    session: Session, labels: dict[str, str], text: str, now: datetime
) -> KnownIssue | None:
    rows: Sequence[KnownIssue] = per_transaction(
        session,
        "known_issue",
        now,
        lambda: session.scalars(
            select(KnownIssue).where(KnownIssue.expires_at > now).order_by(KnownIssue.created_at)
        ).all(),
    )
    for issue in rows:
        if known_issue_applies(
            parsed(issue.matchers),
            issue.message_contains,
            issue.message_regex,
            labels,
            text,
        ):
            return issue
    return None

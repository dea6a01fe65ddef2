"""On-call over a session: overrides, who is on call, and the contacts an escalation pages.

Users and schedules come from the configuration; overrides from the store. Nothing here
commits: the CLI command or worker step that calls it owns the transaction.

Escalation targets are strings (`config.crosscheck.check_target` validates them at load):

    user:ana                   that user
    schedule:primary           whoever is on call in `primary` when the step fires
    schedule:primary:backup    whoever is on call then in the schedule `primary` names as backup

A schedule with nobody on call at that instant resolves to no contact at all; the caller
decides what a step with nobody to page does (it should not pass silently).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.clock import ensure_utc
from tocsin.config.channels import ChannelConfig
from tocsin.config.crosscheck import check_target
from tocsin.config.model import TocsinConfig
from tocsin.config.oncall import OncallScheduleConfig
from tocsin.errors import Invalid, NotFound
from tocsin.oncall import rotation
from tocsin.oncall.models import OncallOverride
from tocsin.oncall.rotation import Cover, Shift

# Longer than this is a schedule change, which belongs in the configuration file.
MAX_OVERRIDE = timedelta(days=90)


@dataclass(frozen=True)
class Contact:
    """A user and the address each kind of channel needs (None where they gave none)."""

    user: str
    name: str
    email: str | None = None
    phone: str | None = None
    slack: str | None = None
    discord: str | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class OnCall:
    """Who holds a schedule at one instant, and who backs them up."""

    schedule: str
    at: datetime
    primary: Shift
    backup: Shift | None
    backup_schedule: str | None


def contact(config: TocsinConfig, username: str) -> Contact:
    user = config.users.get(username)
    if user is None:
        raise NotFound(f"user {username!r} does not exist (known: {_known(config.users)})")
    return Contact(
        user=username,
        name=user.name or username,
        email=user.email,
        phone=user.phone,
        slack=user.slack,
        discord=user.discord,
        timezone=user.timezone,
    )


def schedule_config(config: TocsinConfig, name: str) -> OncallScheduleConfig:
    schedule = config.schedules.get(name)
    if schedule is None:
        raise NotFound(f"schedule {name!r} does not exist (known: {_known(config.schedules)})")
    return schedule


def create_override(
    session: Session,
    config: TocsinConfig,
    *,
    schedule: str,
    user: str,
    start: datetime,
    end: datetime,
    by: str,
    now: datetime,
    reason: str = "",
) -> OncallOverride:
    """Record that `user` covers `schedule` over [start, end); refuse anything unusable."""
    schedule_config(config, schedule)
    contact(config, user)
    start, end = ensure_utc(start), ensure_utc(end)
    if not by.strip():
        raise Invalid("say who is making the override (--by)")
    if end <= start:
        raise Invalid(f"the override ends ({end:%Y-%m-%d %H:%M} UTC) before it starts")
    if end <= now:
        raise Invalid(f"the override would already be over ({end:%Y-%m-%d %H:%M} UTC)")
    if end - start > MAX_OVERRIDE:
        raise Invalid(
            f"an override may last at most {MAX_OVERRIDE.days} days; "
            "change the schedule in the configuration instead"
        )
    row = OncallOverride(
        schedule=schedule,
        username=user,
        start_at=start,
        end_at=end,
        created_at=now,
        created_by=by.strip(),
        reason=reason,
    )
    session.add(row)
    session.flush()
    return row


def delete_override(session: Session, override_id: int) -> None:
    deleted = session.execute(delete(OncallOverride).where(OncallOverride.id == override_id))
    if deleted.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"override {override_id} does not exist")


def list_overrides(
    session: Session, *, schedule: str | None = None, ending_after: datetime | None = None
) -> Sequence[OncallOverride]:
    """Overrides by start time; `ending_after` leaves out those already over."""
    query = select(OncallOverride).order_by(OncallOverride.start_at, OncallOverride.id)
    if schedule is not None:
        query = query.where(OncallOverride.schedule == schedule)
    if ending_after is not None:
        query = query.where(OncallOverride.end_at > ending_after)
    return session.scalars(query).all()


def covers(session: Session, schedule: str, start: datetime, end: datetime) -> list[Cover]:
    """The overrides of `schedule` overlapping [start, end), as the core sees them."""
    # Plain columns, not entities: every step that pages a schedule reads these.
    rows = session.execute(
        select(
            OncallOverride.id,
            OncallOverride.username,
            OncallOverride.start_at,
            OncallOverride.end_at,
        ).where(
            OncallOverride.schedule == schedule,
            OncallOverride.end_at > start,
            OncallOverride.start_at < end,
        )
    ).all()
    return [Cover(*row) for row in rows]


def shifts(
    session: Session, config: TocsinConfig, schedule: str, start: datetime, end: datetime
) -> list[Shift]:
    """The schedule's timeline over [start, end), overrides included (see rotation.shifts)."""
    spec = schedule_config(config, schedule)
    return _with_covers(
        session, spec, schedule, start, end, lambda c: rotation.shifts(spec, c, start, end)
    )


def on_call(session: Session, config: TocsinConfig, schedule: str, at: datetime) -> OnCall:
    spec = schedule_config(config, schedule)
    primary = _shift_at(session, spec, schedule, at)
    backup = (
        None
        if spec.backup is None
        else _shift_at(session, schedule_config(config, spec.backup), spec.backup, at)
    )
    return OnCall(schedule, at, primary, backup, spec.backup)


def _shift_at(session: Session, spec: OncallScheduleConfig, name: str, at: datetime) -> Shift:
    (shift,) = _with_covers(session, spec, name, at, at, lambda c: [rotation.on_call(spec, c, at)])
    return shift


def _with_covers(
    session: Session,
    spec: OncallScheduleConfig,
    name: str,
    start: datetime,
    end: datetime,
    compute: Callable[[list[Cover]], list[Shift]],
) -> list[Shift]:
    """`compute` given the overrides it needs, read from the store.

    Overrides near the range fix every shift that stays near it; only when a shift reaches
    further (one participant's turns joined into one long shift) are all the overrides the
    core may look at read, so a step paging a schedule reads a handful of rows, not a year's.
    """
    near = rotation.first_reach(spec)
    found = compute(covers(session, name, start - near, end + near))
    if found and (found[0].start < start - near or found[-1].end > end + near):
        reach = rotation.MAX_REACH
        found = compute(covers(session, name, start - reach, end + reach))
    return found


def resolve_targets(
    session: Session, config: TocsinConfig, target: str, at: datetime
) -> list[Contact]:
    """The people a target means at `at`: one user, or whoever is on call (none in a gap)."""
    check_target(config, target)
    kind, _, rest = target.partition(":")
    name, _, role = rest.partition(":")
    if kind == "user":
        return [contact(config, name)]
    if role == "backup":
        name = str(schedule_config(config, name).backup)  # check_target made sure there is one
    shift = _shift_at(session, schedule_config(config, name), name, at)
    if shift.user is None or shift.user not in config.users:
        return []
    return [contact(config, shift.user)]


def contacts_for_channel(contact: Contact, channel: ChannelConfig) -> str | None:
    """The address `channel` (a channel's configuration) needs to reach `contact`, or None:
    the contact field the channel's class names (`contact`), e.g. email takes the address,
    Twilio the phone number, Slack and Discord the member ids (the channel mentions them),
    console and webhook the user's key as a name to show or route on. PagerDuty names none: it
    pages its own service's on-call."""
    if channel.contact is None:
        return None
    address: str | None = getattr(contact, channel.contact)
    return address


def _known(names: Mapping[str, object]) -> str:
    return ", ".join(sorted(names)) or "none are defined"

"""Subscribers to the public status page: email with double opt-in, signed webhooks, and
Slack/Discord incoming webhooks, each following some components (or all).

- `subscribe` writes a subscriber (an email one unconfirmed, with a confirmation mail as its
  first delivery) and answers the same whether or not the address was subscribed already.
- `notify_due` (a worker step) fans each new public incident update and each new public
  maintenance window out to the confirmed subscribers of its components: one `status_notice`
  row per event, inserted with ON CONFLICT DO NOTHING, so of several workers one fans it out,
  in the transaction that writes its deliveries.
- `send_due` (a worker step) claims due deliveries through `claims` (SKIP LOCKED, then
  pending → sending with a lease by compare-and-set, row count checked), commits, sends each
  outside any transaction (SMTP through the configured email channel; HTTP through `Egress`),
  and records the outcome against the lease. A worker killed mid-send leaves its rows to
  another once the lease runs out (a message may then go twice; none is lost).

No token is stored: confirm and unsubscribe links carry an HMAC of the subscriber's id under
`status.subscribers.secret`, and a webhook subscriber's signing key is another such HMAC,
shown once when it subscribes."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import String, cast, delete, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from tocsin import claims, redact
from tocsin.config.channels import EmailChannelConfig
from tocsin.config.egress import EgressConfig
from tocsin.config.model import TocsinConfig
from tocsin.config.status import StatusConfig, SubscribersConfig
from tocsin.db import is_postgresql, session_scope
from tocsin.egress import Egress, TransportError
from tocsin.errors import Invalid
from tocsin.incidents.models import Incident, IncidentUpdate
from tocsin.noise.models import MaintenanceWindow
from tocsin.notify.email import EmailChannel
from tocsin.statuspage.components import INCIDENT_STATUS
from tocsin.statuspage.models import StatusDelivery, StatusNotice, StatusSubscriber
from tocsin.statuspage.schemas import stamp
from tocsin.statuspage.service import covered

log = logging.getLogger("tocsin.statuspage")
KINDS = ("email", "webhook", "slack", "discord")
LEASE = timedelta(minutes=2)
LOOKBACK = timedelta(hours=1)  # events older than this when first seen are not sent
BATCH = 50
TIMEOUT = timedelta(seconds=10)
EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
SIGNATURE = "X-Tocsin-Signature"  # sha256=HMAC(key, timestamp + "." + body)
TIMESTAMP = "X-Tocsin-Timestamp"


def mail_channel(config: TocsinConfig) -> EmailChannelConfig | None:
    """The email channel that mails the page's subscribers, if one is configured."""
    wanted = config.status.subscribers.email if config.status.subscribers else None
    found = config.channels.get(wanted) if wanted else None
    return found if isinstance(found, EmailChannelConfig) else None


# Where a subscriber's webhook may not connect unless `private_webhooks` (besides `egress.deny`):
# anyone may subscribe a URL, so it must not reach the host's own network.
PRIVATE = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "172.16.0.0/12",
    "192.168.0.0/16", "::1/128", "fc00::/7", "::/128",
)  # fmt: skip


def egress_for(config: StatusConfig, policy: EgressConfig) -> Egress:
    """The HTTP client of subscribers' webhooks: `egress:`, and no private address unless
    `status.subscribers.private_webhooks`."""
    subscribers = config.subscribers
    if subscribers is None or subscribers.private_webhooks:
        return Egress(policy)
    deny = [*policy.deny, *(ipaddress.ip_network(n) for n in PRIVATE)]
    return Egress(policy.model_copy(update={"deny": deny}))


def token(config: SubscribersConfig, purpose: str, subscriber_id: str) -> str:
    """The HMAC a link (`confirm`, `unsubscribe`) or a webhook key (`webhook`) carries."""
    message = f"{purpose}:{subscriber_id}".encode()
    return hmac.new(config.secret.encode(), message, hashlib.sha256).hexdigest()


def valid(config: SubscribersConfig, purpose: str, subscriber_id: str, given: str) -> bool:
    return hmac.compare_digest(token(config, purpose, subscriber_id), given)


def link(url: str, config: SubscribersConfig, purpose: str, subscriber_id: str) -> str:
    """`url` is the page's (…/status); the link to confirm or unsubscribe."""
    query = urlencode({"id": subscriber_id, "token": token(config, purpose, subscriber_id)})
    path = "subscribe/confirm" if purpose == "confirm" else "unsubscribe"
    return f"{url}/{path}?{query}"


def sign(key: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass(frozen=True)
class Subscribed:
    """What subscribing answers: nothing that tells whether the address was known. A
    webhook subscriber gets its signing key (once)."""

    kind: str
    key: str | None = None


def check(config: StatusConfig, kind: str, address: str, components: Sequence[str]) -> str:
    """The address cleaned; Invalid naming the field on bad input."""
    subscribers = config.subscribers
    if subscribers is None:
        raise Invalid("subscribing is off (no status.subscribers in the configuration)")
    if kind not in KINDS:
        raise Invalid(f"kind: one of {', '.join(KINDS)}, not {kind[:20]!r}")
    address = address.strip()
    if kind == "email":
        if subscribers.email is None:
            raise Invalid("kind: email subscriptions are off (no status.subscribers.email)")
        if not EMAIL.match(address) or len(address) > 254:
            raise Invalid("address: not an email address")
    else:
        parts = urlsplit(address)
        if parts.scheme not in ("https", "http") or not parts.hostname or len(address) > 500:
            raise Invalid("address: an http(s) URL of the webhook")
    known = {c.id for c in config.components}
    unknown = [c for c in components if c not in known]
    if unknown:
        raise Invalid(
            f"components: no component {unknown[0][:100]!r} (known: {', '.join(sorted(known))})"
        )
    return address.lower() if kind == "email" else address


def subscribe(
    session: Session,
    config: StatusConfig,
    url: str,
    kind: str,
    address: str,
    components: Sequence[str],
    now: datetime,
) -> Subscribed:
    """Subscribe (or subscribe again). Email: a confirmation mail is queued unless the
    address is confirmed already (the answer is the same either way)."""
    address = check(config, kind, address, components)
    subscribers = config.subscribers
    assert subscribers is not None  # checked
    chosen = sorted(set(components))
    row = session.scalars(
        select(StatusSubscriber).where(
            StatusSubscriber.kind == kind, StatusSubscriber.address == address
        )
    ).first()
    if row is None:
        row = StatusSubscriber(
            id=str(uuid.uuid4()), kind=kind, address=address, components=chosen, created_at=now
        )
        session.add(row)
    elif row.unsubscribed_at is not None:
        row.unsubscribed_at, row.confirmed_at = None, None
    if kind != "email":
        row.components = chosen
        row.confirmed_at = row.confirmed_at or now
        session.flush()
        return Subscribed(
            kind, token(subscribers, "webhook", row.id) if kind == "webhook" else None
        )
    if row.confirmed_at is None:
        # Another request may change the components: only a confirmed mail box decides them.
        row.components = chosen
        session.flush()
        confirm = link(url, subscribers, "confirm", row.id)
        text = (
            f"Someone (we hope you) asked to be told of incidents and maintenance on the "
            f"{config.title} status page at this address.\n\nConfirm: {confirm}\n\n"
            "If it was not you, ignore this mail: nothing will be sent without a confirmation."
        )
        event = f"confirm:{now.isoformat()}"
        waiting = session.scalars(
            select(StatusDelivery.id).where(
                StatusDelivery.subscriber_id == row.id,
                StatusDelivery.event.startswith("confirm:"),
                or_(
                    StatusDelivery.state.in_(("pending", "sending")), StatusDelivery.event == event
                ),
            )
        ).first()
        if waiting is not None:  # one confirmation on its way (or sent this instant) is enough
            return Subscribed(kind)
        deliver(
            session,
            row,
            event,
            _mail(f"Confirm: {config.title} status", text),
            now,
        )
    return Subscribed(kind)


def confirm(
    session: Session, config: SubscribersConfig, subscriber_id: str, given: str, now: datetime
) -> bool:
    """Confirm an email subscription from its link; False on a bad or stale link."""
    row = session.get(StatusSubscriber, subscriber_id)
    if row is None or not valid(config, "confirm", subscriber_id, given):
        return False
    if row.unsubscribed_at is not None:
        return False
    row.confirmed_at = row.confirmed_at or now
    return True


def unsubscribe(
    session: Session, config: SubscribersConfig, subscriber_id: str, given: str, now: datetime
) -> bool:
    """End a subscription from its link (idempotent); False on a bad link. Its pending
    deliveries are dropped."""
    row = session.get(StatusSubscriber, subscriber_id)
    if row is None or not valid(config, "unsubscribe", subscriber_id, given):
        return False
    row.unsubscribed_at = row.unsubscribed_at or now
    for delivery in session.scalars(
        select(StatusDelivery).where(
            StatusDelivery.subscriber_id == row.id, StatusDelivery.state == "pending"
        )
    ):
        delivery.state, delivery.last_error = "failed", "unsubscribed"
    return True


def _mail(subject: str, text: str) -> dict[str, Any]:
    return {"subject": subject, "text": text}


def deliver(
    session: Session, row: StatusSubscriber, event: str, payload: dict[str, Any], now: datetime
) -> None:
    session.add(
        StatusDelivery(
            id=str(uuid.uuid4()),
            subscriber_id=row.id,
            event=event,
            payload=payload,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


# --- fan-out ---------------------------------------------------------------------------


def _noticed(session: Session, key: str, now: datetime) -> bool:
    """Insert the event's notice; True when this caller inserted it (and so fans it out)."""
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    done = session.execute(
        insert(StatusNotice)
        .values(key=key, created_at=now, deliveries=0)
        .on_conflict_do_nothing()
        .returning(StatusNotice.key)
    ).first()
    return done is not None


def _audience(session: Session, components: Sequence[str]) -> list[StatusSubscriber]:
    rows = session.scalars(
        select(StatusSubscriber).where(
            StatusSubscriber.confirmed_at.is_not(None), StatusSubscriber.unsubscribed_at.is_(None)
        )
    ).all()
    wanted = set(components)
    return [r for r in rows if not r.components or wanted & set(r.components)]


def notify_due(session: Session, config: StatusConfig, url: str, now: datetime) -> int:
    """Fan new public incident updates and public maintenance windows out; deliveries made."""
    if config.subscribers is None:
        return 0
    since = now - LOOKBACK
    seen = select(StatusNotice.key)
    updates = session.execute(
        select(IncidentUpdate, Incident)
        .join(Incident, Incident.id == IncidentUpdate.incident_id)
        .where(
            IncidentUpdate.public.is_(True),
            Incident.public.is_(True),
            IncidentUpdate.at >= since,
            IncidentUpdate.at <= now,
            (literal("update:") + cast(IncidentUpdate.id, String)).not_in(seen),
        )
        .order_by(IncidentUpdate.at, IncidentUpdate.id)
    ).all()
    made = 0
    for update, incident in updates:
        key = f"update:{update.id}"
        if not _noticed(session, key, now):
            continue
        affected = covered(config, incident.services or [])
        status = INCIDENT_STATUS.get(update.status, "investigating")
        payload = {
            "event": "incident_update",
            "subject": f"[{config.title}] {incident.title}: {status}",
            "text": f"{incident.title} — {status}\n\n{update.message}",
            "incident": {"id": incident.id, "name": incident.title, "status": status},
            "update": {"id": str(update.id), "status": status, "body": update.message,
                       "created_at": stamp(update.at)},
            "components": list(affected),
            "url": f"{url}#incident-{incident.id}",
        }  # fmt: skip
        made += _fan_out(session, key, affected, payload, now)
    windows = session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.public.is_(True),
            MaintenanceWindow.created_at >= since,
            MaintenanceWindow.created_at <= now,
            MaintenanceWindow.ends_at > now,
            (literal("maintenance:") + MaintenanceWindow.id).not_in(seen),
        )
    ).all()
    for window in windows:
        key = f"maintenance:{window.id}"
        affected = covered(config, window.services)
        if not affected or not _noticed(session, key, now):
            continue
        when = f"{stamp(window.starts_at)} to {stamp(window.ends_at)}"
        payload = {
            "event": "maintenance",
            "subject": f"[{config.title}] Scheduled maintenance: {window.title}",
            "text": f"Scheduled maintenance {when}: {window.title}\n\n{window.description}".strip(),
            "maintenance": {"id": window.id, "name": window.title,
                            "scheduled_for": stamp(window.starts_at),
                            "scheduled_until": stamp(window.ends_at)},
            "components": list(affected),
            "url": f"{url}#maintenance-{window.id}",
        }  # fmt: skip
        made += _fan_out(session, key, affected, payload, now)
    return made


def _fan_out(
    session: Session, key: str, affected: Sequence[str], payload: dict[str, Any], now: datetime
) -> int:
    audience = _audience(session, affected)
    for row in audience:
        deliver(session, row, key, payload, now)
    notice = session.get(StatusNotice, key)
    if notice is not None:
        notice.deliveries = len(audience)
    return len(audience)


# --- sending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    id: str
    kind: str
    address: str
    subscriber_id: str
    payload: dict[str, Any]
    attempts: int


class Sender:
    """Sends deliveries: mail through the configured email channel's SMTP server, the rest
    through the one HTTP client."""

    def __init__(
        self,
        config: StatusConfig,
        url: str,
        email: EmailChannelConfig | None,
        http: Egress,
    ) -> None:
        self.config = config
        self.url = url
        self.mailer = EmailChannel("status-subscribers", email, url) if email else None
        self.http = http

    def send(self, item: Outgoing, now: datetime) -> None:
        subscribers = self.config.subscribers
        assert subscribers is not None
        payload = item.payload
        if item.kind == "email":
            if self.mailer is None:
                raise TransportError("no email channel for subscribers", permanent=True)
            self.mailer.deliver(self.mail(subscribers, item), [item.address])
            return
        if item.kind == "webhook":
            body = json.dumps(
                {k: v for k, v in payload.items() if k not in ("subject", "text")}
                | {"page": {"name": self.config.title, "url": self.url}},
                separators=(",", ":"),
            ).encode()
            stamp_now = str(int(now.timestamp()))
            key = token(subscribers, "webhook", item.subscriber_id)
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP: stamp_now,
                SIGNATURE: sign(key, stamp_now, body),
            }
        else:
            text = (
                f"{payload.get('subject', '')}\n{payload.get('text', '')}\n{payload.get('url', '')}"
            )
            field = "text" if item.kind == "slack" else "content"
            body = json.dumps({field: text[:1900]}).encode()
            headers = {"Content-Type": "application/json"}
        reply = self.http.request(
            "POST", item.address, timeout=TIMEOUT, max_bytes=4096, cut=True, content=body,
            headers=headers,
        )  # fmt: skip
        if reply.status >= 300:
            permanent = 400 <= reply.status < 500 and reply.status not in (408, 429)
            raise TransportError(f"the webhook answered {reply.status}", permanent=permanent)

    def mail(self, subscribers: SubscribersConfig, item: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = str(item.payload.get("subject", ""))[:200]
        mail["Message-ID"] = f"<status-{item.id}@tocsin>"
        text = str(item.payload.get("text", ""))
        if item.payload.get("event") is not None:  # not the confirmation: it may be left
            leave = link(self.url, subscribers, "unsubscribe", item.subscriber_id)
            mail["List-Unsubscribe"] = f"<{leave}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            page = item.payload.get("url", self.url)
            text += f"\n\n{page}\n\nUnsubscribe: {leave}"
        mail.set_content(text)
        return mail


def claim(session: Session, owner: str, now: datetime, limit: int = BATCH) -> list[Outgoing]:
    """Lease due deliveries (pending, or sending with a lease run out) to `owner`."""
    free = claims.lease_free(StatusDelivery.lease_until, now)
    ids = claims.due(
        session,
        select(StatusDelivery.id)
        .where(
            StatusDelivery.next_attempt_at <= now,
            or_(StatusDelivery.state == "pending", (StatusDelivery.state == "sending") & free),
        )
        .order_by(StatusDelivery.next_attempt_at, StatusDelivery.id)
        .limit(limit),
    )
    taken = claims.take_many(
        session,
        StatusDelivery,
        StatusDelivery.id,
        ids,
        expect=[StatusDelivery.state.in_(("pending", "sending")), free],
        values={"state": "sending", "lease_owner": owner, "lease_until": now + LEASE},
    )
    if not taken:
        return []
    rows = session.execute(
        select(StatusDelivery, StatusSubscriber)
        .join(StatusSubscriber, StatusSubscriber.id == StatusDelivery.subscriber_id)
        .where(StatusDelivery.id.in_(taken))
    ).all()
    return [Outgoing(d.id, s.kind, s.address, s.id, dict(d.payload), d.attempts) for d, s in rows]


def record(
    session: Session,
    item: Outgoing,
    owner: str,
    now: datetime,
    error: TransportError | None,
    attempts: int,
) -> bool:
    """The outcome, if `owner` still holds the row: sent, due again later, or failed."""
    tries = item.attempts + 1
    if error is None:
        values: dict[str, Any] = {"state": "sent", "sent_at": now, "last_error": None}
    elif error.permanent or tries >= attempts:
        values = {"state": "failed", "last_error": str(error)[:500]}
    else:
        backoff = timedelta(seconds=min(3600, 5 * 2**tries))
        values = {
            "state": "pending",
            "next_attempt_at": now + backoff,
            "last_error": str(error)[:500],
        }
    values |= {"attempts": tries, "lease_owner": None, "lease_until": None}
    return claims.take(
        session,
        StatusDelivery,
        StatusDelivery.id == item.id,
        expect=[StatusDelivery.state == "sending", StatusDelivery.lease_owner == owner],
        values=values,
    )


def send_due(factory: sessionmaker[Session], sender: Sender, owner: str, now: datetime) -> int:
    """One batch: claim (commit), send each outside any transaction, record; the sent."""
    subscribers = sender.config.subscribers
    if subscribers is None:
        return 0
    with session_scope(factory) as session:
        batch = claim(session, owner, now)
    sent = 0
    for item in batch:
        error: TransportError | None = None
        try:
            sender.send(item, now)
        except TransportError as exc:
            error = exc
            log.warning("status delivery %s (%s) failed: %s", item.id, item.kind, exc)
        with session_scope(factory) as session:
            if record(session, item, owner, now, error, subscribers.attempts) and error is None:
                sent += 1
    return sent


# --- the operator's view -----------------------------------------------------------------


def listed(session: Session) -> list[dict[str, Any]]:
    """Every subscriber, oldest first, with its state and what was delivered; a webhook's URL
    masked as logs mask it (`redact.url`: it is a secret), an email address as is."""
    counts: dict[str, dict[str, int]] = {}
    for sid, state, n in session.execute(
        select(StatusDelivery.subscriber_id, StatusDelivery.state, func.count()).group_by(
            StatusDelivery.subscriber_id, StatusDelivery.state
        )
    ):
        counts.setdefault(sid, {})[state] = n
    out = []
    for row in session.scalars(
        select(StatusSubscriber).order_by(StatusSubscriber.created_at, StatusSubscriber.id)
    ):
        state = (
            "unsubscribed"
            if row.unsubscribed_at
            else ("confirmed" if row.confirmed_at else "unconfirmed")
        )
        out.append(
            {
                "id": row.id,
                "kind": row.kind,
                "address": row.address if row.kind == "email" else redact.url(row.address),
                "components": row.components or [],
                "state": state,
                "created_at": row.created_at,
                "deliveries": counts.get(row.id, {}),
            }
        )
    return out


def remove(session: Session, subscriber_id: str) -> bool:
    """Delete a subscriber and its deliveries (its address is forgotten); False if unknown."""
    row = session.get(StatusSubscriber, subscriber_id)
    if row is None:
        return False
    session.execute(delete(StatusDelivery).where(StatusDelivery.subscriber_id == row.id))
    session.delete(row)
    return True

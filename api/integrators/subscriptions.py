"""Webhook subscriptions (Standard Webhooks): subscribe, see the delivery log, dead letters, replay, rotate.

A subscription belongs to the key that made it and never shows more than that key was granted: its
filters must lie within the grant, and every delivery is checked against the key's grant at the
time it is queued (a revoked key's subscriptions stop).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import AnyUrl, AwareDatetime, Field

from api.app.access import App, LedgerRoute, Subscriber
from api.app.problems import Problem
from api.integrators.event_feed import wanted_types
from events.kernel.model import Fact
from events.orders.facts import OrgCode
from events.publishing.audience import ALL, EventGrant
from processors.access_keys import Principal
from processors.event_feed import Audience, visible
from processors.webhook_destinations import DestinationRefused, check_destination
from processors.webhook_signing import new_secret
from processors.webhook_store import ACTIVE, DEAD, Delivery, Subscription

router = APIRouter(tags=["webhooks"], route_class=LedgerRoute)
SubscriptionPath = Annotated[str, Path(pattern=r"^sub_[0-9a-f]{16}$")]
ROTATION_OVERLAP_MS = 24 * 3600 * 1000
REPLAY_MAX = 10_000


class SubscriptionBody(Fact):
    url: AnyUrl = Field(description="http(s) URL that receives POSTs")
    event_types: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(min_length=1, max_length=200)
    organisations: tuple[OrgCode, ...] = Field(default=(), max_length=500, description="default: all granted")
    orders: tuple[Annotated[str, Field(min_length=1, max_length=40)], ...] = Field(default=(), max_length=1000)
    from_position: int | None = Field(
        default=None, ge=0, description="deliver events after this ledger position (default: from now on)"
    )


class ReplayBody(Fact):
    """One of: an event id; a time range (ledger time); or every event after a position."""

    event_id: str | None = Field(default=None, max_length=36)
    recorded_from: AwareDatetime | None = None
    recorded_until: AwareDatetime | None = None
    after_position: int | None = Field(default=None, ge=0)


def _owned(app: App, caller: Principal, subscription_id: str) -> Subscription:
    found = app.webhooks.get(subscription_id)
    if found is None or (not caller.is_broker and found.owner_key_id != caller.key_id):
        raise Problem(404, "subscription_not_found", f"there is no subscription {subscription_id}")
    return found


def _delivery_view(delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.delivery_id,
        "event_id": delivery.event_id,
        "position": delivery.position,
        "stream_id": delivery.stream_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at_ms": delivery.next_attempt_at if delivery.status == "pending" else None,
        "last_http_status": delivery.last_status,
        "last_error": delivery.last_error,
        "delivered_at_ms": delivery.delivered_at,
    }


@router.post("/v1/subscriptions", status_code=201, summary="Subscribe a URL to events; the secret is shown once")
def subscribe(body: SubscriptionBody, response: Response, app: App, caller: Subscriber) -> dict[str, Any]:
    grant = caller.events
    types = wanted_types(",".join(body.event_types), grant)
    assert types is not None
    outside = sorted(t for t in types.event_types if not grant.covers(t))
    if outside:  # a subscription names only what was granted (a partly granted family is not enough)
        raise Problem(403, "event_type_not_granted", f"this key was not granted: {', '.join(outside)}")
    organisations = frozenset(body.organisations)
    if ALL not in grant.organisations and not organisations <= grant.organisations:
        missing = ", ".join(sorted(organisations - grant.organisations))
        raise Problem(403, "organisation_not_granted", f"this key was not granted: {missing}")
    if ALL not in grant.organisations and not organisations:
        organisations = grant.organisations  # default: every organisation granted, never more
    try:
        check_destination(str(body.url), app.settings.webhook_allowed_hosts, app.dispatcher.resolve)
    except DestinationRefused as exc:
        raise Problem(422, "destination_not_allowed", str(exc)) from None
    secret = new_secret()
    subscription = app.webhooks.create(
        caller.key_id,
        str(body.url),
        types.event_types,
        organisations,
        frozenset(body.orders),
        secret,
        app.ledger.head() if body.from_position is None else body.from_position,
        app.dispatcher.now_ms(),  # webhook times are the dispatcher's (wall clock: receivers check signatures by it)
    )
    response.headers["Location"] = f"/v1/subscriptions/{subscription.subscription_id}"
    return {**subscription.public(), "secret": secret}


@router.get("/v1/subscriptions", summary="Your subscriptions (a broker: all)")
def list_subscriptions(app: App, caller: Subscriber) -> dict[str, Any]:
    owned = app.webhooks.of_owner(None if caller.is_broker else caller.key_id)
    return {"subscriptions": [s.public() for s in owned]}


@router.get("/v1/subscriptions/{subscription_id}", summary="A subscription: filters, status, cursor")
def get_subscription(subscription_id: SubscriptionPath, app: App, caller: Subscriber) -> dict[str, Any]:
    return _owned(app, caller, subscription_id).public()


@router.delete("/v1/subscriptions/{subscription_id}", summary="Stop a subscription (its log stays)")
def stop_subscription(subscription_id: SubscriptionPath, app: App, caller: Subscriber) -> dict[str, Any]:
    subscription = _owned(app, caller, subscription_id)
    app.webhooks.set_status(subscription.subscription_id, "disabled", f"stopped by {caller.role}/{caller.key_id}")
    return _owned(app, caller, subscription_id).public()


@router.post("/v1/subscriptions/{subscription_id}/enable", summary="Start a stopped or disabled subscription again")
def enable_subscription(subscription_id: SubscriptionPath, app: App, caller: Subscriber) -> dict[str, Any]:
    subscription = _owned(app, caller, subscription_id)
    app.webhooks.set_status(subscription.subscription_id, ACTIVE, None)
    return _owned(app, caller, subscription_id).public()


@router.get("/v1/subscriptions/{subscription_id}/deliveries", summary="The delivery log, latest first")
def deliveries(
    subscription_id: SubscriptionPath,
    app: App,
    caller: Subscriber,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    attempts: bool = False,
) -> dict[str, Any]:
    subscription = _owned(app, caller, subscription_id)
    found = app.webhooks.deliveries(subscription.subscription_id, status, limit)
    views = [_delivery_view(d) for d in found]
    if attempts:
        for view in views:
            view["attempt_log"] = app.webhooks.attempts(view["delivery_id"])
    return {"deliveries": views}


@router.get("/v1/subscriptions/{subscription_id}/dead-letters", summary="Deliveries that failed every retry")
def dead_letters(subscription_id: SubscriptionPath, app: App, caller: Subscriber) -> dict[str, Any]:
    subscription = _owned(app, caller, subscription_id)
    return {"dead_letters": [_delivery_view(d) for d in app.webhooks.deliveries(subscription.subscription_id, DEAD)]}


@router.post(
    "/v1/subscriptions/{subscription_id}/replay",
    status_code=202,
    summary="Deliver again: one event, a ledger-time range, or everything after a position",
)
def replay(subscription_id: SubscriptionPath, body: ReplayBody, app: App, caller: Subscriber) -> dict[str, Any]:
    subscription = _owned(app, caller, subscription_id)
    chosen = [
        name
        for name, given in (
            ("event_id", body.event_id is not None),
            ("recorded_from", body.recorded_from is not None or body.recorded_until is not None),
            ("after_position", body.after_position is not None),
        )
        if given
    ]
    if len(chosen) != 1:
        raise Problem(
            422, "replay_selection", "give exactly one of: event_id, recorded_from/recorded_until, after_position"
        )
    events = _replayed(app, body)
    grant = app.dispatcher.grant_of(subscription)
    if grant is None:
        raise Problem(409, "owner_revoked", "the key that owns this subscription was revoked")
    wanted = EventGrant(subscription.event_types, subscription.organisations or frozenset({ALL}))
    audience = Audience(app.ledger)
    streams = subscription.orders or None
    picked = [
        (e.position, str(e.event_id), e.stream_id) for e in events if visible(audience, grant, wanted, e, streams)
    ]
    now = app.dispatcher.now_ms()  # due now by the clock that decides what is due
    queued = app.webhooks.enqueue(subscription.subscription_id, picked, None, now, replay=now)
    return {"queued": queued, "considered": len(events)}


def _replayed(app: App, body: ReplayBody) -> list[Any]:
    if body.event_id is not None:
        found = app.ledger.read_events([body.event_id])
        if not found:
            raise Problem(404, "event_not_found", f"there is no event {body.event_id}")
        return found
    if body.after_position is not None:
        return app.ledger.read_all(body.after_position, REPLAY_MAX)
    start = body.recorded_from or datetime.min.replace(tzinfo=app.clock().tzinfo)
    end = body.recorded_until or app.clock()
    if end <= start:
        raise Problem(422, "replay_range", "recorded_until must be after recorded_from")
    events, cursor = [], 0
    while len(events) < REPLAY_MAX:
        batch = app.ledger.read_all(cursor, 1000)
        if not batch:
            break
        events += [e for e in batch if start <= e.recorded_at < end]
        cursor = batch[-1].position
    return events[:REPLAY_MAX]


@router.post(
    "/v1/subscriptions/{subscription_id}/secret-rotation", summary="A new secret; the old one signs too for 24 h"
)
def rotate_secret(subscription_id: SubscriptionPath, app: App, caller: Subscriber) -> dict[str, Any]:
    subscription = _owned(app, caller, subscription_id)
    secret = new_secret()
    until = app.dispatcher.now_ms() + ROTATION_OVERLAP_MS  # the dispatcher's clock decides which secrets sign
    app.webhooks.rotate(subscription.subscription_id, secret, until)
    return {**_owned(app, caller, subscription_id).public(), "secret": secret}

"""The webhook dispatcher: queues each subscription's events in ledger order and delivers them, signed.

- Per subscription, events are queued from its cursor (what its owner's key may see, within the
  subscription's filters); the cursor moves in the same transaction as the queue.
- A delivery is sent only when no earlier delivery of the same stream is still pending for that
  subscription: ledger order per stream. Other streams go on meanwhile.
- Each attempt is a POST with Standard Webhooks headers and a 15 s timeout, sent only to the addresses
  its destination check resolved and allowed (no second lookup, no redirect followed), in a thread pool
  with at most 2 in flight per subscription: a receiver that hangs or answers garbage holds its own slots.
- 2xx: delivered. 410: the subscription is disabled. 429/503 with Retry-After: tried again then.
  Anything else: tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (±10 %),
  3 days and 3.5 hours in all; after the last, the delivery is parked as dead (replayable).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime

import httpx

from events.ledger import Ledger
from events.publishing.audience import ALL, EventGrant
from events.publishing.cloud_events import structured
from processors import metrics
from processors.access_keys import KeyStore
from processors.event_feed import Audience, read_page
from processors.ops_server import Heartbeat
from processors.webhook_destinations import (
    DestinationRefused,
    Resolver,
    check_destination,
    post_to,
    system_resolver,
)
from processors.webhook_signing import signature_header
from processors.webhook_store import DEAD, DELIVERED, DISABLED, PENDING, Delivery, Subscription, WebhookStore

log = logging.getLogger("orderledger.webhooks")
RETRY_SCHEDULE_S = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
TIMEOUT_S = 15.0
IN_FLIGHT_PER_SUBSCRIPTION = 2
MAX_RETRY_AFTER_S = 86400
PAGE = 500


def retry_delay_ms(attempts: int, rng: random.Random) -> int | None:
    """The wait before the next attempt after `attempts` failed ones; None once the schedule is spent."""
    if attempts > len(RETRY_SCHEDULE_S):
        return None
    base = RETRY_SCHEDULE_S[attempts - 1] * 1000
    return int(base * rng.uniform(0.9, 1.1))


def retry_after_ms(header: str | None, now_ms: int) -> int | None:
    """Retry-After as seconds or an HTTP date, capped at a day; None if absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    if text.isdigit():
        return min(int(text), MAX_RETRY_AFTER_S) * 1000
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0, min(int(moment.timestamp() * 1000) - now_ms, MAX_RETRY_AFTER_S * 1000))


class Dispatcher:
    def __init__(
        self,
        ledger: Ledger,
        store: WebhookStore,
        keys: KeyStore,
        public_url: str,
        allowed_hosts: str,
        lease_ms: int = 30_000,
        # The system clock, not the ledger's: Standard Webhooks receivers check signature timestamps against theirs.
        clock: Callable[[], float] = time.time,
        workers: int = 8,
        seed: int | None = None,
        timeout_s: float = TIMEOUT_S,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.keys = keys
        self.public_url = public_url
        self.allowed_hosts = allowed_hosts
        self.lease_ms = lease_ms
        self.clock = clock
        self.rng = random.Random(seed)
        self.audience = Audience(ledger)
        self.workers = workers
        self.timeout_s = timeout_s
        self.resolve = resolve
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.heartbeat = Heartbeat("webhook dispatcher", stale_after_seconds=60)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ------------------------------------------------------------ running

    def start(self) -> None:
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="webhook")
        self._thread = threading.Thread(target=self.run, name="webhook-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run(self) -> None:
        while not self._stop.is_set():
            self.heartbeat.beat()
            try:
                busy = self.tick()
            except Exception:
                log.exception("webhook dispatcher tick failed; going on")
                busy = False
            self._stop.wait(0.05 if busy else 0.25)

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Queue and deliver until nothing is due or in flight (tests; `orderledger webhooks --once`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            started = self.tick()
            with self._lock:
                busy = any(self._in_flight.values())
            if not started and not busy:
                return
            time.sleep(0.02)
        raise TimeoutError("webhook deliveries still in flight")

    def tick(self) -> bool:
        """Queue what is new for every active subscription, then start the deliveries that are due."""
        queued = sum(self.queue(subscription) for subscription in self.store.active())
        return self.dispatch() > 0 or queued > 0

    # ------------------------------------------------------------ queueing

    def grant_of(self, subscription: Subscription) -> EventGrant | None:
        owner = self.keys.find(subscription.owner_key_id)
        return owner.events if owner else None

    def queue(self, subscription: Subscription) -> int:
        grant = self.grant_of(subscription)
        if grant is None:
            self.store.set_status(subscription.subscription_id, DISABLED, "the owner's API key was revoked")
            return 0
        wanted = EventGrant(subscription.event_types, subscription.organisations or frozenset({ALL}))
        page = read_page(
            self.ledger, self.audience, grant, wanted, subscription.cursor, PAGE, subscription.orders or None
        )
        if page.cursor == subscription.cursor:
            return 0
        events = [(e.position, str(e.event_id), e.stream_id) for e in page.events]
        return self.store.enqueue(subscription.subscription_id, events, page.cursor, self.now_ms())

    # ------------------------------------------------------------ delivering

    def dispatch(self) -> int:
        started = 0
        now = self.now_ms()
        for delivery in self.store.due(now):
            with self._lock:
                if self._in_flight[delivery.subscription_id] >= IN_FLIGHT_PER_SUBSCRIPTION:
                    continue
            if not self.store.claim(delivery.delivery_id, now, self.lease_ms):
                continue
            with self._lock:
                self._in_flight[delivery.subscription_id] += 1
            self._pool.submit(self._attempt_safely, delivery)
            started += 1
        return started

    def _attempt_safely(self, delivery: Delivery) -> None:
        try:
            self.attempt(delivery)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly; its lease will expire", delivery.delivery_id)
        finally:
            with self._lock:
                self._in_flight[delivery.subscription_id] -= 1

    def attempt(self, delivery: Delivery) -> None:
        subscription = self.store.get(delivery.subscription_id)
        if subscription is None or subscription.status != "active":
            return  # disabled meanwhile: the delivery stays pending, the lease ends
        event = self.ledger.read_all(delivery.position - 1, 1)[0]
        body = json.dumps(structured(event, self.public_url), separators=(",", ":"), ensure_ascii=False).encode()
        started = self.now_ms()
        timestamp = started // 1000
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(subscription.secrets_at(started), delivery.event_id, timestamp, body),
            "user-agent": "orderledger-webhooks/1",
        }
        status: int | None = None
        error: str | None = None
        retry_after: str | None = None
        try:
            destination = check_destination(subscription.url, self.allowed_hosts, self.resolve)
            response = post_to(destination, body, headers, self.timeout_s)
            status = response.status_code
            retry_after = response.headers.get("retry-after")
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except DestinationRefused as exc:
            error = f"destination refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        self._settle(delivery, subscription, status, error, retry_after, started)

    def _settle(
        self,
        delivery: Delivery,
        subscription: Subscription,
        status: int | None,
        error: str | None,
        retry_after: str | None,
        started: int,
    ) -> None:
        now = self.now_ms()
        duration = now - started
        if error is None:
            self.store.record_attempt(delivery, now, status, None, duration, DELIVERED, now)
            metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
            return
        if status == 410:
            metrics.WEBHOOK_DELIVERIES.labels("gone").inc()
            # The receiver says the endpoint is gone: stop sending (its deliveries wait, replayable).
            self.store.record_attempt(delivery, now, status, error, duration, PENDING, now)
            self.store.set_status(subscription.subscription_id, DISABLED, "the receiver answered 410 Gone")
            return
        attempts = delivery.attempts + 1
        wait = retry_delay_ms(attempts, self.rng)
        if wait is not None and status in (429, 503):
            wait = retry_after_ms(retry_after, now) or wait  # the receiver says when: honour it
        if wait is None:
            metrics.WEBHOOK_DELIVERIES.labels("dead").inc()
            self.store.record_attempt(delivery, now, status, error, duration, DEAD, now)
            log.warning("webhook delivery %s parked as dead after %d attempts", delivery.delivery_id, attempts)
            return
        metrics.WEBHOOK_DELIVERIES.labels("retrying").inc()
        self.store.record_attempt(delivery, now, status, error, duration, PENDING, now + wait)

"""The `orderledger` command: serve, demo, rebuild, verify, keys, relay-rewind."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import psycopg

from events.kernel.errors import CommandRejected
from events.ledger import LedgerUnavailable
from processors import structured_logs
from processors.settings import SettingsError, load_settings
from processors.wiring import Orderledger, build
from projections.catalogue import PROJECTIONS

if TYPE_CHECKING:
    from processors.ops_server import Heartbeat


def _parser() -> argparse.ArgumentParser:
    # Where the ledger is: accepted before the command and after it (`orderledger serve --database-url ...`).
    # After it, an option left out must not reset one given before: the subcommands' copies set nothing unless
    # given (SUPPRESS), the main parser's default to None.
    parser = argparse.ArgumentParser(
        prog="orderledger", description="Event-sourced order ledger.", parents=[_where(None)]
    )
    sub = _Commands(parser.add_subparsers(dest="command", required=True), _where(argparse.SUPPRESS))
    serve = sub.add_parser("serve", help="run the API, status pages and projection runner")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    sub.add_parser("worker", help="server mode: run the faust projection worker")
    sub.add_parser("relay", help="server mode: run only the outbox relay (serve also runs one)")
    rewind = sub.add_parser(
        "relay-rewind",
        help="server mode: move the relay's cursor back after the ledger was rolled back (an older backup restored)",
    )
    rewind.add_argument(
        "--to",
        type=int,
        required=True,
        metavar="POSITION",
        help="publish again from the event after POSITION (0: everything; the restored backup's head: what is new)",
    )
    demo = sub.add_parser("demo", help="load the demo data set (about 50 orders)")
    demo.add_argument("--if-empty", action="store_true", help="only when the ledger is empty")
    rebuild = sub.add_parser("rebuild", help="rebuild projections from ledger position 0")
    rebuild.add_argument("name", nargs="?", choices=sorted(PROJECTIONS), help="one projection (default: all)")
    sub.add_parser("verify", help="walk the hash chain; name the first bad position")
    clock = sub.add_parser("contract-clock", help="record renewal notices and expiries due as of a date (run daily)")
    clock.add_argument("--today", help="YYYY-MM-DD (default: today, Eastern Time)")
    webhooks = sub.add_parser("webhooks", help="run only the webhook dispatcher (serve also runs one)")
    webhooks.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    keys = sub.add_parser("keys", help="API keys")
    keys_sub = _Commands(keys.add_subparsers(dest="keys_command", required=True), sub.where)
    create = keys_sub.add_parser("create", help="create a key; it is printed once")
    create.add_argument("--role", required=True, help="broker | integrator | client:<ORG>")
    create.add_argument("--label", default="")
    create.add_argument(
        "--event-types",
        help="integrator: comma list of CloudEvents types, `ca.orderledger.<family>.*` or `*` (default: none)",
    )
    create.add_argument("--organisations", help="integrator: comma list of organisation codes or `*` (default: none)")
    keys_sub.add_parser("list", help="list keys (never their secrets)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def _where(default: Any) -> argparse.ArgumentParser:
    where = argparse.ArgumentParser(add_help=False, argument_default=default)
    where.add_argument("--data-dir", help="where the embedded ledger lives (default ./var)")
    where.add_argument("--database-url", help="server mode: PostgreSQL URL of the application role")
    where.add_argument("--kafka-bootstrap", help="server mode: Kafka bootstrap servers (host:port,...)")
    return where


class _Commands:
    """Subcommands that each accept the ledger's whereabouts too (a parent parser of every one of them)."""

    def __init__(self, subparsers: Any, where: argparse.ArgumentParser) -> None:
        self.subparsers, self.where = subparsers, where

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self.subparsers.add_parser(name, parents=[self.where], **options)
        return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options: dict[str, Any] = {
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "kafka_bootstrap": args.kafka_bootstrap,
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
    }
    try:
        settings = load_settings(options)
    except SettingsError as exc:
        print(f"orderledger: {exc}", file=sys.stderr)
        return 2
    structured_logs.configure(settings.log_level)
    try:
        app = build(settings)
    except (OSError, LedgerUnavailable, psycopg.OperationalError) as exc:
        where = "the database" if settings.database_url else f"the ledger in {settings.data_dir}"
        reason = structured_logs.redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        print(f"orderledger: cannot open {where}: {reason}", file=sys.stderr)
        return 2
    try:
        return _COMMANDS[args.command](app, args)
    finally:
        app.close()


def _serve(app: Orderledger, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = app.settings
    relay = _start_relay(settings) if settings.run_relay else None
    where = "PostgreSQL" if app.server_mode else f"ledger {settings.ledger_path}"
    print(f"orderledger serving on http://{settings.host}:{settings.port}/status ({where})", flush=True)
    uvicorn.run(
        create_app(app),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # structured_logs.configure made uvicorn's loggers JSON already
        access_log=False,  # api/app/request_log.py writes one JSON line per request, with its correlation id
        timeout_graceful_shutdown=5,
    )
    if relay:
        relay.stop()
    return 0


def _start_relay(settings: Any) -> Any:
    """In server mode with Kafka, the API process also runs a relay (only one is active at a time)."""
    if not (settings.database_url and settings.kafka_bootstrap):
        return None
    import threading

    from processors.relay import Relay, ensure_topics

    ensure_topics(
        settings.kafka_bootstrap, settings.topic_prefix, settings.topic_partitions, settings.topic_replication
    )
    relay = Relay(
        settings.database_url, settings.kafka_bootstrap, settings.topic_prefix, public_url=settings.public_url
    )
    threading.Thread(target=relay.run, name="relay", daemon=True).start()
    return relay


def _relay(app: Orderledger, args: argparse.Namespace) -> int:
    relay = _start_relay(app.settings)
    if relay is None:
        print("orderledger: the relay needs --database-url and --kafka-bootstrap", file=sys.stderr)
        return 2
    with _operations(app, relay.heartbeat):
        _until_signalled()
    relay.stop()
    return 0


@contextmanager
def _operations(app: Orderledger, heartbeat: Heartbeat) -> Iterator[None]:
    """/metrics, /healthz and /readyz on the ops port, for processes that serve no API."""
    from processors import metrics
    from processors.flow import readiness
    from processors.ops_server import OpsServer

    settings = app.settings
    ops = OpsServer(
        settings.host,
        settings.ops_port,
        heartbeat.check,
        lambda: readiness(app.flow, max_lag=0),  # ledger (and Kafka) reachable; lag is the API's to report
        metrics.exposition,
    ).start()
    try:
        yield
    finally:
        ops.stop()


def _until_signalled() -> None:
    """Block until SIGTERM or SIGINT."""
    import signal
    import threading

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()


def _worker(app: Orderledger, args: argparse.Namespace) -> int:
    if not app.server_mode or not app.settings.kafka_bootstrap:
        print("orderledger: the worker needs --database-url and --kafka-bootstrap", file=sys.stderr)
        return 2
    from processors.ops_server import Heartbeat
    from processors.worker import run_worker

    heartbeat = Heartbeat("faust worker", stale_after_seconds=60)
    with _operations(app, heartbeat):
        run_worker(app.settings, heartbeat)
    return 0


def _relay_rewind(app: Orderledger, args: argparse.Namespace) -> int:
    if not app.settings.database_url:
        print("orderledger: the relay's cursor is in server mode's database: give --database-url", file=sys.stderr)
        return 2
    from processors.relay import rewind

    try:
        before, after = rewind(app.settings.database_url, app.ledger, args.to)
    except ValueError as exc:
        print(f"orderledger: {exc}", file=sys.stderr)
        return 2
    head = app.ledger.head()
    print(
        f"relay cursor moved from position {before.position} to {after.position}; the relay publishes"
        f" positions {after.position + 1} to {head} (and what comes next) to Kafka"
    )
    return 0


def _demo(app: Orderledger, args: argparse.Namespace) -> int:
    from api.demo import load_demo

    if args.if_empty and app.ledger.head() > 0:
        print(f"demo: the ledger already holds {app.ledger.head()} events; nothing loaded")
        return 0
    import logging

    logging.getLogger("orderledger.ledger").setLevel(logging.WARNING)  # not a line per demo command
    now = app.clock()
    orders = load_demo(app.desk, now.astimezone(ZoneInfo("America/Toronto")).date(), now=now)
    if app.runner:
        app.runner.catch_up()
    print(f"demo: {len(orders)} orders loaded, ledger head at position {app.ledger.head()}")
    return 0


def _rebuild(app: Orderledger, args: argparse.Namespace) -> int:
    names = [args.name] if args.name else sorted(PROJECTIONS)
    projections = [PROJECTIONS[name] for name in names]
    for projection in projections:
        app.projections.ensure(projection)
    # One pass over the ledger for all of them: each page is read and decoded once.
    position = app.projections.rebuild_all(projections, app.ledger)
    for name in names:
        print(f"rebuilt {name} up to position {position}")
    return 0


def _verify(app: Orderledger, args: argparse.Namespace) -> int:
    from processors.verification import verify_and_record

    report = verify_and_record(app.ledger, app.verifications, app.clock)
    if report.ok:
        print(f"ledger verified: {report.checked} events, hash chain intact")
        return 0
    print(
        f"ledger verification FAILED at position {report.first_bad_position}: {report.reason}"
        f" ({report.checked} events before it are intact)"
    )
    return 1


def _webhooks(app: Orderledger, args: argparse.Namespace) -> int:
    if args.once:
        app.dispatcher.run_until_idle(timeout=600)
        return 0
    app.dispatcher.start()
    with _operations(app, app.dispatcher.heartbeat):
        _until_signalled()
    app.dispatcher.stop()
    return 0


def _keys(app: Orderledger, args: argparse.Namespace) -> int:
    from events.ledger.catalogue import CLOUD_TYPES
    from events.publishing.audience import EventGrant, type_patterns
    from processors.access_keys import InvalidRole

    if args.keys_command == "create":
        try:
            grant = None
            if args.event_types is not None or args.organisations is not None:
                grant = EventGrant(
                    type_patterns((args.event_types or "").split(","), CLOUD_TYPES),
                    frozenset(o.strip() for o in (args.organisations or "").split(",") if o.strip()),
                )
            key = app.keys.create(args.role, args.label, grant)
        except (InvalidRole, ValueError) as exc:
            print(f"orderledger: {exc}", file=sys.stderr)
            return 2
        print(key)
        print(f"(role {args.role}; shown once: store it now)", file=sys.stderr)
    elif args.keys_command == "list":
        print(json.dumps(app.keys.list(), indent=1))
    elif args.keys_command == "revoke":
        if not app.keys.revoke(args.key_id):
            print(f"orderledger: no active key {args.key_id}", file=sys.stderr)
            return 1
        print(f"revoked {args.key_id}")
    return 0


def _contract_clock(app: Orderledger, args: argparse.Namespace) -> int:
    import uuid
    from datetime import date

    from events.handling.desk import CommandContext

    now = app.clock()
    try:
        today = date.fromisoformat(args.today) if args.today else now.astimezone(ZoneInfo("America/Toronto")).date()
    except ValueError:
        print(f"orderledger: --today must be a date, YYYY-MM-DD (got {args.today!r})", file=sys.stderr)
        return 2
    context = CommandContext(actor="cli/contract-clock", now=now, correlation_id=uuid.uuid4())
    emitted = 0
    try:
        ran = app.run_contract_clock(today, context)
    except CommandRejected as refused:
        print(f"orderledger: {refused.message}", file=sys.stderr)
        return 2
    for contract_id, event_types in ran:
        for event_type in event_types:
            print(f"{contract_id}: {event_type}")
            emitted += 1
    print(f"contract clock as of {today}: {emitted} events recorded")
    return 0


_COMMANDS = {
    "contract-clock": _contract_clock,
    "serve": _serve,
    "worker": _worker,
    "relay": _relay,
    "relay-rewind": _relay_rewind,
    "demo": _demo,
    "rebuild": _rebuild,
    "verify": _verify,
    "keys": _keys,
    "webhooks": _webhooks,
}

if __name__ == "__main__":
    sys.exit(main())

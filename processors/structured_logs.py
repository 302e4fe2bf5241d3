"""Structured logs: one JSON object per line, with the request's correlation id and no secrets or API keys."""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
import math
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from events.ledger import RecordedEvent

__all__ = [
    "JsonFormatter",
    "configure",
    "correlated",
    "correlation_id",
    "faust_logging_config",
    "log_events",
    "redact",
]

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)
_correlation = correlation_id  # `correlated` takes a parameter of the same name

MASK = "***"

# Third-party loggers that must reach the root's JSON handler and have none of their own.
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "faust", "mode", "aiokafka", "kafka")
# Chatty at info: only their warnings, unless the level is debug.
CHATTY_LOGGERS = ("aiokafka", "faust", "mode")


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[None]:
    """Within the block, every log line of this thread or asyncio task carries `correlation_id`."""
    token = _correlation.set(correlation_id)
    try:
        yield
    finally:
        _correlation.reset(token)


def log_events(logger: logging.Logger, verb: str, events: Iterable[RecordedEvent]) -> None:
    """At debug level, one line per event with its correlation id: request → event → relay → projection."""
    if logger.isEnabledFor(logging.DEBUG):
        for event in events:
            logger.debug(
                "%s %s %s v%d at position %d",
                verb,
                event.type,
                event.stream_id,
                event.stream_version,
                event.position,
                extra={"correlation_id": str(event.correlation_id)},
            )


# --- redaction -------------------------------------------------------------------------------------------------

# API keys (processors/access_keys.py): `olk_<key id: 12 hex>_<secret: token_urlsafe(32)>`; the key id is no secret.
_API_KEY = re.compile(r"(?<![A-Za-z0-9])olk_([A-Za-z0-9_-]+)")
_API_KEY_PARTS = re.compile(r"([0-9a-f]{12})_([A-Za-z0-9_-]*)")
# Webhook signing secrets (processors/webhook_signing.py): `whsec_` + base64 (also URL-safe or %-encoded).
_WEBHOOK_SECRET = re.compile(r"(?<![A-Za-z0-9])whsec_[A-Za-z0-9+/=%_-]+")
# `Authorization: Bearer x`, `X-API-Key: x`, also as a dict's repr (`'authorization': 'Bearer x'`).
_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key)([\"']?\s*[:=]\s*[\"']?)"
    r"(?:(bearer|basic|digest|token|apikey|negotiate)(\s+))?([^\s\"',;]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=*-]+)")
# `scheme://user:password@host` (postgres, kafka, http…); the password may hold a raw `@`.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+._-]*://[^:/?#@\s]*:)([^\s/?#]*)@")
# Names of secrets in `name=value` (libpq keywords, query strings) and in `'name': 'value'` (dicts, JSON).
_SECRET_NAME = r"[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|credentials?)[A-Za-z0-9_.-]*"
_SECRET_NAME_ONLY = re.compile(rf"(?i){_SECRET_NAME}")
_ASSIGNED = re.compile(
    rf"(?i)((?<![A-Za-z0-9_.-]){_SECRET_NAME}\s*=\s*)('(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|[^\s&;#'\"]+)"
)
_QUOTED = re.compile(rf"(?i)([\"']{_SECRET_NAME}[\"']\s*:\s*)('(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")")


def _api_key(match: re.Match[str]) -> str:
    parts = _API_KEY_PARTS.fullmatch(match.group(1))
    if parts is None:
        return f"olk_{MASK}"  # not a well-formed key (a typo, a truncation): all of it may be secret
    if not parts.group(2):
        return match.group(0)  # `olk_<id>_` before a mask already: nothing secret left
    return f"olk_{parts.group(1)}_{MASK}"


def _masked(value: str) -> str:
    """A value's mask; a value already redacted (an API key that keeps its id) stays as it is."""
    if MASK in value:
        return value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return f"{value[0]}{MASK}{value[0]}"
    return MASK


def _header(match: re.Match[str]) -> str:
    name, separator, scheme, space, value = match.groups()
    return f"{name}{separator}{scheme or ''}{space or ''}{_masked(value)}"


# Every pattern above needs one of these: a line without any (most lines) is left at one cheap search.
_MAYBE_SECRET = re.compile(
    r"(?i)olk_|whsec_|authori|x-api-key|bearer|://|token|secret|passw|pwd|api[_-]?key|credential"
)


def redact(text: str) -> str:
    """`text` with API key secrets, webhook secrets, bearer tokens and passwords replaced by `***`."""
    if not text or not _MAYBE_SECRET.search(text):
        return text
    text = _API_KEY.sub(_api_key, text)
    text = _WEBHOOK_SECRET.sub(f"whsec_{MASK}", text)
    text = _HEADER.sub(_header, text)
    text = _BEARER.sub(lambda m: m.group(1) + _masked(m.group(2)), text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _ASSIGNED.sub(lambda m: m.group(1) + _masked(m.group(2)), text)
    return _QUOTED.sub(lambda m: m.group(1) + _masked(m.group(2)), text)


# --- the formatter ---------------------------------------------------------------------------------------------

_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",  # Python 3.12
    "color_message",  # uvicorn's colored copy of the message
}
_OWN_KEYS = ("ts", "level", "logger", "message", "correlation_id", "exc", "stack")


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"


def _jsonable(value: object) -> Any:
    """A JSON value for an extra, redacted; what JSON cannot hold becomes its `str()`."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    try:
        text = json.dumps(value, allow_nan=False)
    except Exception:
        return redact(_safe_str(value))
    redacted = redact(text)
    if redacted == text:
        return value
    try:
        return json.loads(redacted)
    except ValueError:
        return redacted


def _extra(name: str, value: object) -> Any:
    if isinstance(value, str | bytes) and _SECRET_NAME_ONLY.fullmatch(name):
        text = value if isinstance(value, str) else _safe_str(value)
        redacted = redact(text)
        return redacted if redacted != text else MASK  # `api_key=olk_<id>_***` keeps the key id
    return _jsonable(value)


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, correlation_id, the extras (sorted), exc, stack."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            return self._dumps(self._fields(record))
        except Exception as exc:  # a broken record still makes a line
            return self._fallback(record, exc)

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": _safe_str(record.levelname).lower(),
            "logger": _safe_str(record.name),
            "message": redact(self._message(record)),
        }
        given = record.__dict__.get("correlation_id")
        correlation = given if given is not None else _correlation.get()
        if correlation is not None:
            fields["correlation_id"] = redact(_safe_str(correlation))
        extras = {
            _safe_str(key): value
            for key, value in record.__dict__.items()
            if key not in _RECORD_ATTRIBUTES and key != "correlation_id" and not _safe_str(key).startswith("_")
        }
        for key in sorted(extras):
            fields[f"extra_{key}" if key in _OWN_KEYS else key] = _extra(key, extras[key])
        exc = self._exception(record)
        if exc:
            fields["exc"] = redact(exc)
        if record.stack_info:
            fields["stack"] = redact(_safe_str(record.stack_info))
        return fields

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        try:
            return record.getMessage()
        except Exception as exc:  # wrong arguments for the format
            return f"{_safe_str(record.msg)} % {_safe_str(record.args)} (unformattable: {_safe_str(exc)})"

    def _exception(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_info[0] is not None:
            try:
                return self.formatException(record.exc_info)
            except Exception as exc:
                return f"{_safe_str(record.exc_info[1])} (traceback unavailable: {_safe_str(exc)})"
        return _safe_str(record.exc_text) if record.exc_text else ""

    @staticmethod
    def _dumps(fields: dict[str, Any]) -> str:
        try:
            return json.dumps(fields, ensure_ascii=True, allow_nan=False)
        except Exception:
            return json.dumps({key: _safe_str(value) for key, value in fields.items()}, ensure_ascii=True)

    @staticmethod
    def _fallback(record: logging.LogRecord, error: Exception) -> str:
        try:
            return json.dumps(
                {
                    "ts": _timestamp(getattr(record, "created", 0.0)),
                    "level": _safe_str(getattr(record, "levelname", "error")).lower(),
                    "logger": _safe_str(getattr(record, "name", "")),
                    "message": redact(_safe_str(getattr(record, "msg", ""))),
                    "log_error": redact(_safe_str(error)),
                },
                ensure_ascii=True,
            )
        except Exception:
            return '{"level": "error", "message": "unformattable log record"}'


# --- configuration ---------------------------------------------------------------------------------------------


def _level(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.strip().upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def _chatty_level(level: int) -> int:
    """aiokafka, faust, mode: nothing below WARNING unless debugging, and never below the root level."""
    return logging.NOTSET if level <= logging.DEBUG else max(logging.WARNING, level)


def configure(level: str, stream: TextIO | None = None) -> None:
    """JSON lines on `stream` (stderr) for every logger, at `level`; calling it again replaces, never adds."""
    number = _level(level)
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()  # as basicConfig(force=True); a StreamHandler's stream stays open
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(number)
    for name in ROUTED_LOGGERS:
        logger = logging.getLogger(name)
        for own in logger.handlers[:]:
            logger.removeHandler(own)
            own.close()
        logger.propagate = True
        logger.setLevel(_chatty_level(number) if name in CHATTY_LOGGERS else logging.NOTSET)


def _dict_config(level: int) -> dict[str, Any]:
    """What `configure` does, as a `logging.config.dictConfig` (to stderr)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            name: {
                "level": _chatty_level(level) if name in CHATTY_LOGGERS else logging.NOTSET,
                "handlers": [],
                "propagate": True,
            }
            for name in ROUTED_LOGGERS
        },
    }


def faust_logging_config(level: str) -> dict[str, Any]:
    """For `faust.Worker(logging_config=..., loglevel=level)`: mode's dictConfig is then this, not its colored one."""
    return _dict_config(_level(level))

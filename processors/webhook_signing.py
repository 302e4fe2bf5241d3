"""Standard Webhooks signatures: `whsec_` secrets, `v1` HMAC-SHA256 of `id.timestamp.body`, base64."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Every signature, space-separated: during a secret rotation both the new and the old one."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_in_use)

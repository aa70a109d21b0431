"""Webhook signatures, as the Standard Webhooks specification defines them.

A delivery carries `webhook-id` (the event's id, the same on every retry), `webhook-timestamp`
(integer seconds since the epoch) and `webhook-signature`: `v1,<base64>` entries separated by
spaces, each the HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` keyed by the bytes of
a secret, which is written `whsec_` followed by those bytes in base64. Receivers recompute the
signature, compare it in constant time and refuse timestamps far from their clock, so that a
captured delivery cannot be replayed. Any Standard Webhooks library verifies these deliveries.

Subscriptions made before the service followed the specification keep the legacy signature
until their secret is rotated: `Webhook-Signature: v1=<hex>`, the HMAC-SHA256 of
`<timestamp>.<body>` keyed by the whole secret string.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix every secret starts with, not a secret)
SECRET_BYTES = 32
TOLERANCE_SECONDS = 300


def secret_generate() -> str:
    """A new signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("A Standard Webhooks secret starts with whsec_.")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the message."""
    message = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(*, secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret, so a receiver can rotate without a gap."""
    return " ".join(
        sign(secret=secret, message_id=message_id, timestamp=timestamp, body=body) for secret in secrets_in_use
    )


def verify(*, secret: str, headers: dict, body: bytes, tolerance_seconds: int = TOLERANCE_SECONDS) -> bool:
    """Whether a delivery's headers carry a valid, recent signature of `body` by `secret`."""
    headers = {name.lower(): value for name, value in headers.items()}
    message_id = headers.get("webhook-id", "")
    try:
        sent_at = int(headers.get("webhook-timestamp", ""))
        expected = sign(secret=secret, message_id=message_id, timestamp=sent_at, body=body)
    except (ValueError, binascii.Error):
        return False
    if not message_id or abs(time.time() - sent_at) > tolerance_seconds:
        return False
    offered = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, signature) for signature in offered)


def sign_legacy(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature of subscriptions made before the service followed the specification."""
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

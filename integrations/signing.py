"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret.

Receivers recompute the signature and compare it in constant time; they should also
refuse timestamps far from their clock, so that a captured delivery cannot be replayed.
"""

import hashlib
import hmac
import time

SIGNATURE_VERSION = "v1"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(*, secret: str, timestamp: str, body: bytes, signature: str, tolerance_seconds: int = 300) -> bool:
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - sent_at) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=sent_at, body=body), signature)

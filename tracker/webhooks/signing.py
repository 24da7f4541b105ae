"""Standard Webhooks signatures (https://www.standardwebhooks.com/, spec v1, "Signature scheme").

Written here rather than taken from the `standardwebhooks` package because signing is four
lines of HMAC and the package pulls in an HTTP client stack we do not use; the tests verify
every delivery with that package, so the two cannot drift apart.

    signed content = "{webhook-id}.{webhook-timestamp}.{body}"
    webhook-signature = "v1," + base64(HMAC-SHA256(key, signed content))
    key = base64-decode(secret without its "whsec_" prefix)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """24 random bytes (the spec asks for 24 to 64), base64, with the customary prefix."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }

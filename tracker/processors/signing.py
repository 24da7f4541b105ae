"""HMAC checks shared by the processors' signature schemes, always constant-time."""

from __future__ import annotations

import binascii
import hashlib
import hmac
from typing import Iterable

from ..config import ProcessorSettings
from .common import Refused


def secrets_of(config: ProcessorSettings) -> list[tuple[str, str]]:
    """(name, secret) of the configured secrets, current first; Refused(401) when there is none."""
    found = [(name, value) for name, value in (("current", config.webhook_secret),
                                                ("previous", config.previous_secret)) if value]
    if not found:
        raise Refused(401, "this connection has no secret configured, so nothing it receives can be trusted")
    return found


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def matching_secret(candidates: Iterable[tuple[str, bytes]], given: Iterable[bytes]) -> str | None:
    """The name of the first secret whose expected signature equals any given one (every pair compared)."""
    given = list(given)
    matched = None
    for name, expected in candidates:
        for signature in given:
            # No early exit on a match: the time taken does not tell which pair matched.
            if hmac.compare_digest(expected, signature) and matched is None:
                matched = name
    return matched


def hex_sha256_header(header_name: str, value: str, secrets: list[tuple[str, str]], body: bytes, who: str) -> str:
    """Check a `sha256=<hex HMAC-SHA256 of the raw body>` header (BTCPay's BTCPay-Sig, GitHub's
    X-Hub-Signature-256); the name of the secret that matched, or Refused (400 malformed, 401 wrong)."""
    scheme, _, hex_signature = value.partition("=")
    if scheme != "sha256" or not hex_signature:
        raise Refused(400, f"no {header_name}: sha256=… header")
    try:
        signature = binascii.unhexlify(hex_signature.strip())
    except (binascii.Error, ValueError) as exc:
        raise Refused(400, f"the {header_name} header is not hexadecimal") from exc
    matched = matching_secret(((name, hmac_sha256(secret.encode(), body)) for name, secret in secrets), [signature])
    if matched is None:
        raise Refused(401, f"the {who} signature does not match (wrong webhook secret, or the body was changed)")
    return matched

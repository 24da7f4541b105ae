"""What every chain backend answers, the strict JSON-over-HTTP client they share, and answer checks.

A backend's answer is believed only after it passed every check here: a wrong type, a
negative or absurd amount, a transaction for another address than asked, a page too large or
an answer too slow is refused with `RefusedAnswer` (its message is the logged reason), and the
pass records nothing from it. Refusing costs a poll; believing nonsense would cost the ledger.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Protocol, Sequence

log = logging.getLogger("tracker.chains")

#: Larger answers are refused: a page of an address's history is a few hundred kilobytes.
MAX_ANSWER_BYTES = 4_000_000
#: Longer lists in one answer are refused (a backend flooding the watcher).
MAX_ITEMS = 5_000
TXID = re.compile(r"[0-9a-f]{64}")
#: More than any coin will ever have issued, in its minor units (21 M BTC = 2.1e15 sat).
MAX_AMOUNT = 10**16


class BackendError(Exception):
    """A backend could not be asked or its answer was refused; the message is the logged reason."""


class Unreachable(BackendError):
    """The backend did not answer (refused connection, timeout, HTTP error)."""


class RefusedAnswer(BackendError):
    """The backend answered something the watcher does not believe."""


@dataclass(frozen=True)
class Received:
    """Money a watched address received in one output (Monero: one subaddress) of one transaction."""

    txid: str
    index: int
    address: str
    amount_minor: int
    #: 0 while in the mempool.
    confirmations: int
    #: The block's time once mined, else None (the watcher uses the time it first saw it).
    time: datetime | None = None
    #: Amount the tracker cannot count (Ethereum: wei below a gwei), told in the payment's reason.
    note: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.txid, self.index)


@dataclass(frozen=True)
class Known:
    """A payment the tracker already recorded and still follows (not yet confirmed)."""

    txid: str
    index: int
    address: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.txid, self.index)


@dataclass
class Observation:
    """One pass's answer: what the addresses received, which followed payments vanished, the new cursor."""

    received: list[Received] = field(default_factory=list)
    #: Followed payments whose transaction the backend no longer knows (replaced, double-spent, reorganised out).
    gone: list[Known] = field(default_factory=list)
    cursor: str | None = None


def follow_up(seen: dict[tuple[str, int], Received], following: Sequence[Known],
              fetch: Callable[[Known], list[Received] | None]) -> list[Known]:
    """Ask again, one transaction at a time, about payments still followed that an address's
    history no longer lists: the ones the backend no longer knows (`fetch` gives None) are
    gone; one that exists but no longer pays its output is a refused answer. Adds what is
    found to `seen`; returns the gone ones. Shared by the address-history backends."""
    gone: list[Known] = []
    for known in following:
        if known.key in seen:
            continue
        found = fetch(known)
        if found is None:
            gone.append(known)
            continue
        for item in found:
            seen[item.key] = item
        if known.key not in seen:
            raise RefusedAnswer(f"transaction {known.txid} no longer pays {known.address} in output {known.index}")
    return gone


class Backend(Protocol):
    """Asks one chain about the watched addresses."""

    def observe(self, addresses: Sequence[str], following: Sequence[Known], cursor: str | None) -> Observation:
        """What `addresses` received, and which of `following` disappeared."""
        ...


class JsonClient:
    """GET and POST JSON with a timeout over the whole answer and a size limit (standard library only)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, max_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes

    def get(self, path: str, *, missing_ok: bool = False) -> Any:
        return self._call(urllib.request.Request(self.base_url + path, headers={"Accept": "application/json"}),
                          missing_ok=missing_ok)

    def post(self, path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        return self._call(urllib.request.Request(
            self.base_url + path, data=data, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"}), missing_ok=False)

    def text(self, path: str) -> str:
        """A non-JSON answer (the ECB's XML, Esplora's tip height) under the same limits."""
        return self._read(urllib.request.Request(self.base_url + path), missing_ok=False) or ""

    def _call(self, request: urllib.request.Request, *, missing_ok: bool) -> Any:
        body = self._read(request, missing_ok=missing_ok)
        if body is None:
            return None
        try:
            # Decimals, never floats: an amount that is not an integer is refused by the checks.
            return json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise RefusedAnswer(f"{_where(request)} answered something that is not JSON") from None

    def _read(self, request: urllib.request.Request, *, missing_ok: bool) -> str | None:
        deadline = time.monotonic() + self.timeout
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                chunks: list[bytes] = []
                size = 0
                while True:
                    if time.monotonic() > deadline:
                        raise Unreachable(f"{_where(request)} answered too slowly (over {self.timeout:g} s)")
                    chunk = response.read(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise RefusedAnswer(f"{_where(request)} answered more than {self.max_bytes} bytes")
                    chunks.append(chunk)
        except urllib.error.HTTPError as exc:
            if missing_ok and exc.code in (400, 404):
                return None
            raise Unreachable(f"{_where(request)} answered HTTP {exc.code}") from None
        except (TimeoutError, socket.timeout):
            raise Unreachable(f"{_where(request)} did not answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"{_where(request)} could not be reached: {reason}") from None
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError:
            raise RefusedAnswer(f"{_where(request)} answered something that is not UTF-8") from None


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _where(request: urllib.request.Request) -> str:
    """The host and path asked, for messages (never a query string, which may carry a key)."""
    url = urllib.parse.urlsplit(request.full_url)
    return f"{url.hostname}{url.path}"


# --- checks on answers -----------------------------------------------------------------------

def want_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RefusedAnswer(f"{what} is not an object")
    return value


def want_list(value: Any, what: str, *, limit: int = MAX_ITEMS) -> list[Any]:
    if not isinstance(value, list):
        raise RefusedAnswer(f"{what} is not a list")
    if len(value) > limit:
        raise RefusedAnswer(f"{what} has {len(value)} items, more than the {limit} accepted")
    return value


def want_int(value: Any, what: str, *, maximum: int = MAX_AMOUNT) -> int:
    """A non-negative integer (bool, float, text and negative numbers are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RefusedAnswer(f"{what} is not an integer: {value!r:.40}")
    if value < 0:
        raise RefusedAnswer(f"{what} is negative: {value}")
    if value > maximum:
        raise RefusedAnswer(f"{what} is absurdly large: {value}")
    return value


def want_digits(value: Any, what: str, *, maximum: int = MAX_AMOUNT) -> int:
    """An amount written as a string of digits (Blockbook's way)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,30}", value, re.ASCII):
        raise RefusedAnswer(f"{what} is not a whole amount in digits: {value!r:.40}")
    return want_int(int(value), what, maximum=maximum)


def want_str(value: Any, what: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or len(value) > 300:
        raise RefusedAnswer(f"{what} is not a string")
    if pattern is not None and not pattern.fullmatch(value):
        raise RefusedAnswer(f"{what} is malformed: {value!r:.80}")
    return value


def want_time(value: Any, what: str) -> datetime:
    """A Unix time in seconds, after 2009 and not far in the future."""
    seconds = want_int(value, what, maximum=2**40)
    if not 1_230_000_000 <= seconds <= time.time() + 86_400 * 2:
        raise RefusedAnswer(f"{what} is not a plausible time: {seconds}")
    return datetime.fromtimestamp(seconds, timezone.utc)

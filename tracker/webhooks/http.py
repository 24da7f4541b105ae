"""One POST to a publisher's URL, never to a private address unless the config allows it.

Written by hand because no well-kept client checks the address it actually connects to: a
check of the host name before `requests.post` is defeated by DNS rebinding (the name
resolves to a public address for the check and to 127.0.0.1 for the connection). Here the
name is resolved once, every address is checked, and the connection goes to a checked
address with the original name kept for TLS (SNI and certificate) and the Host header.
Redirects are not followed (a redirect to an internal address is the classic bypass).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

EXCERPT = 300


class Refused(Exception):
    """The URL may not be called (scheme, private address, no address at all)."""


@dataclass(frozen=True)
class Answer:
    status: int | None
    excerpt: str
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL without credentials, or Refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http:// and https:// URLs with a host name can receive webhooks")
    if parts.username or parts.password:
        raise Refused("put no user name or password in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the URL's port is not a number from 1 to 65535") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The first address of `host` after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"the host name does not resolve ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise Refused("the host name has no address")
    if not allow_private:
        private = [a for a in addresses if not is_public(a)]
        if private:
            raise Refused(f"{host} resolves to a private, loopback or link-local address ({private[0]}); "
                          "webhooks are only sent to public addresses")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> Answer:
    """POST `body`; an Answer with the status and the answer's first bytes, or with why there was none."""
    started = time.monotonic()
    try:
        scheme, host, port, path = check_url(url)
        address = resolve(host, port, allow_private=allow_private)
        kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        connection = kind(host, port, address, timeout)
        try:
            connection.request("POST", path, body=body, headers={**headers, "user-agent": "reader-support-tracker"})
            response = connection.getresponse()
            excerpt = response.read(EXCERPT).decode("utf-8", "replace")
            return Answer(response.status, excerpt, _ms(started))
        finally:
            connection.close()
    except Refused as exc:
        return Answer(None, f"refused: {exc}", _ms(started))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:EXCERPT], _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

"""HTTP caching shared by the widget and API blueprints: strong ETags, Cache-Control, 304s, render cache, memo."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable

from flask import current_app, request
from flask.wrappers import Response
from flask_limiter.util import get_remote_address
from limits import RateLimitItemPerMinute
from werkzeug.exceptions import TooManyRequests

from ..resources import PACKAGE, STATIC, TEMPLATES
from ..widget.cache import RenderCache, etag_for, exact_request_key, request_keys
from ..widget.memo import Memoised, ResponseMemo, local_writes
from ..widget.versions import VersionReader
from .context import settings
from .extensions import limiter
from .logs import outage_note


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str


class LastGoodAnswers:
    """The last good answer of each widget and API request, on disk, for when the database is away.

    The memo holds one per process; a worker started during an outage has none, so each
    fresh rendering is also written to `instance/last-good/` (a file per request, replaced
    atomically, the oldest pruned beyond `limit`), which every worker of the host can read.
    """

    def __init__(self, folder: Path, limit: int = 2000) -> None:
        self.folder, self.limit = folder, limit
        self._saved = 0

    def _path(self, key: Hashable) -> Path:
        return self.folder / hashlib.sha256(repr(key).encode()).hexdigest()[:40]

    def save(self, key: Hashable, rendered: Rendered, headers: dict[str, str]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self._path(key)
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            head = json.dumps({"content_type": rendered.content_type, "headers": headers}).encode()
            temporary.write_bytes(head + b"\n" + rendered.body)
            os.replace(temporary, target)
            self._saved += 1
            if self._saved % 100 == 0:
                self._prune()
        except OSError as exc:  # a full or read-only disk must not break a good answer
            outage_note("last-good", f"cannot keep the last good answer on disk: {exc}")

    def load(self, key: Hashable) -> tuple[Rendered, dict[str, str]] | None:
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        head, _, body = data.partition(b"\n")
        meta = json.loads(head)
        return Rendered(body, meta["content_type"]), dict(meta["headers"])

    def _prune(self) -> None:
        files = sorted(self.folder.iterdir(), key=lambda p: p.stat().st_mtime)
        for old in files[:max(len(files) - self.limit, 0)]:
            old.unlink(missing_ok=True)


@dataclass
class WidgetRuntime:
    """Per-app state: version reads, render cache, answer memo, and the salt that changes every ETag on a deploy."""

    versions: VersionReader
    cache: RenderCache
    salt: str
    cache_control: str
    #: None when `widget.process_cache_seconds` (or `widget.max_age`) is 0.
    memo: ResponseMemo | None = None
    last_good: LastGoodAnswers | None = None


def _deployment_salt() -> str:
    # Templates, catalogs, the embed script, the renderer and the site settings all shape the
    # output: hashing them once at start-up makes a deploy change every ETag by itself.
    digest = hashlib.sha256()
    config = settings()
    digest.update(repr((config.site.url, config.site.name, config.widget)).encode())
    paths = [*sorted((PACKAGE / "widget").glob("*.py")), STATIC / "embed.js"]
    paths += sorted((TEMPLATES / "widget").glob("*"))
    paths += sorted((PACKAGE / "translations").glob("*/LC_MESSAGES/*.mo"))
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def memo_seconds(max_age: int, process_cache_seconds: int) -> int:
    """How long this process may reuse an answer: never when browsers may not (max_age 0)."""
    return process_cache_seconds if max_age > 0 else 0


def browser_max_age(max_age: int, process_cache_seconds: int) -> int:
    """The max-age to send, so that the memo's age plus the browser's never passes `max_age`."""
    # An answer can leave the memo up to `process_cache_seconds` after its figures were read;
    # a browser or CDN then keeps it for max-age more. Sending the difference keeps the
    # promise of issue 5: a donation shows up everywhere within `widget.max_age` seconds.
    return max(max_age - memo_seconds(max_age, process_cache_seconds), 0)


def runtime() -> WidgetRuntime:
    """This app's widget runtime, created on first use."""
    state = current_app.extensions.get("tracker_widget")
    if state is None:
        widget = settings().widget
        ttl = memo_seconds(widget.max_age, widget.process_cache_seconds)
        max_age = browser_max_age(widget.max_age, widget.process_cache_seconds)
        state = current_app.extensions["tracker_widget"] = WidgetRuntime(
            VersionReader(current_app.extensions["tracker_engine"]), RenderCache(), _deployment_salt(),
            f"public, max-age={max_age}, stale-while-revalidate={widget.stale_while_revalidate}",
            ResponseMemo(ttl) if ttl > 0 else None,
            LastGoodAnswers(Path(current_app.instance_path) / "last-good"))
    return state


#: Endpoints whose GET answers the memo may keep: each is a function of its URL (and, for the
#: first group, of Accept-Language) and of data versions, never of cookies or other headers.
MEMO_BY_LANGUAGE = frozenset({"widget.widget_page", "widget.widget_svg", "widget.widget_png",
                              "api.campaigns", "api.campaign"})
MEMO_ENDPOINTS = MEMO_BY_LANGUAGE | {"widget.embed_script", "widget.oembed"}
#: Where a memo miss leaves (memo, keys, expiry, write count) for cached_response to fill in.
_PENDING = "tracker.widget_memo"


def memo_keys(endpoint: str) -> tuple[tuple[Hashable, ...], tuple[Hashable, ...]]:
    """(exact, canonical): this request's keys in the memo (see widget.cache.request_keys)."""
    environ = request.environ
    return request_keys(endpoint, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                        request.args.items(multi=True), _language(endpoint))


def _language(endpoint: str) -> str | None:
    return request.environ.get("HTTP_ACCEPT_LANGUAGE", "") if endpoint in MEMO_BY_LANGUAGE else None


def serve_memoised() -> Response | None:
    """Before a widget or API view: answer from this process's memo when it holds a fresh entry."""
    endpoint = request.endpoint
    if endpoint not in MEMO_ENDPOINTS or request.method not in ("GET", "HEAD"):
        return None
    memo = runtime().memo
    if memo is None:
        return None
    now = memo.clock()
    environ = request.environ
    # The usual case first: the same bytes as before, found without decoding the query.
    entry = memo.get(exact_request_key(endpoint, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                                       _language(endpoint)), now)
    keys: tuple[tuple[Hashable, ...], ...] = ()
    if entry is None:
        keys = memo_keys(endpoint)
        entry = memo.get(keys[1], now)
        if entry is not None:
            memo.put(keys[0], entry)  # the same answer, with the same expiry, under these bytes
    if entry is not None:
        # The exact quoted tag is what browsers send back; anything else is parsed properly.
        sent = environ.get("HTTP_IF_NONE_MATCH")
        if sent is not None and (sent == entry.etag or request.if_none_match.contains_weak(entry.etag[1:-1])):
            return Response(status=304, headers=entry.headers)
        if entry.body is not None:
            return Response(entry.body, content_type=entry.content_type, headers=entry.headers)
    # Stamped now, before the view reads anything: the entry's age counts from here.
    environ[_PENDING] = (memo, keys or memo_keys(endpoint), now + memo.ttl, local_writes())
    return None


def spend_render_budget() -> None:
    """Count one uncached rendering against the client's address; 429 once the minute's budget is spent.

    Cheap answers (the memo, the render cache, 304s) never get here: only requests that make
    the server draw something new, which is what an attacker varying `?accent=` or
    `?amount=` does on every request, and a reader never does twice.
    """
    budget = RateLimitItemPerMinute(settings().widget.render_budget_per_minute)
    try:
        allowed = limiter.limiter.hit(budget, "render-budget", get_remote_address())
    except Exception:  # noqa: BLE001 - the limits' storage (Redis) is away: readers still get the widget
        outage_note("limits:render-budget", "the render budget could not be counted (limits storage unreachable)")
        return
    if not allowed:
        raise TooManyRequests("Too many new renderings from this address: try again in a minute.",
                              retry_after=60)


def csp_hash(text: str) -> str:
    """A CSP source expression allowing exactly this inline <style> (or script) text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def locale_from_query() -> bool:
    """True when `?locale=` picks a site locale, so Accept-Language does not change the answer."""
    wanted = request.args.get("locale", "").replace("-", "_")
    locales = settings().site.locales
    return bool(wanted) and (wanted in locales or wanted.split("_")[0] in locales)


def cached_response(key: tuple[Hashable, ...], render: Callable[[], Rendered], *,
                    headers: dict[str, str] | None = None, varies_by_language: bool = True) -> Response:
    """A 304 when If-None-Match holds the key's ETag, else the (cached) rendering, with cache headers."""
    # `headers` go on the 304 as well as on the 200: a browser merges a 304's headers into
    # its stored copy, so a 304 carrying the default CSP would make a cached iframe unframeable.
    state = runtime()
    full_key = (state.salt, *key)  # a deploy (new templates, catalogs, code) changes every ETag
    etag = etag_for(full_key)
    response_headers = {"ETag": f'"{etag}"', "Cache-Control": state.cache_control, **(headers or {})}
    if varies_by_language and not locale_from_query():
        response_headers["Vary"] = "Accept-Language"
    pending = request.environ.pop(_PENDING, None)
    if request.if_none_match.contains_weak(etag):
        if pending is not None:
            # A 304 carries no body, but the render cache may hold it from an earlier 200.
            _remember(pending, etag, state.cache.peek(full_key), response_headers)
        return Response(status=304, headers=response_headers)
    fresh = state.cache.peek(full_key) is None
    if fresh and request.args:
        # Only renderings the client chose (options, amounts) count: the plain widget renders
        # again whenever the ledger changes, which a reader must never be refused for.
        spend_render_budget()
    rendered = state.cache.get_or_render(full_key, render)
    if pending is not None:
        _remember(pending, etag, rendered, response_headers)
    if fresh and state.last_good is not None and request.endpoint in MEMO_ENDPOINTS:
        state.last_good.save(memo_keys(request.endpoint)[1], rendered, response_headers)
    return Response(rendered.body, content_type=rendered.content_type, headers=response_headers)


def _remember(pending: tuple[ResponseMemo, tuple[tuple[Hashable, ...], ...], float, int], etag: str,
              rendered: Rendered | None, headers: dict[str, str]) -> None:
    # Only cached_response's own answers get here: errors (404, 501) are raised before it,
    # so no failure is ever kept as a success.
    memo, keys, expires, writes = pending
    entry = Memoised(etag=f'"{etag}"', body=None if rendered is None else rendered.body,
                     content_type="" if rendered is None else rendered.content_type,
                     headers=tuple(headers.items()), expires=expires, writes=writes)
    for key in keys:
        memo.put(key, entry)


#: Sent with a last good answer while the database is away (RFC 7234's "Response is Stale").
STALE_HEADERS = {"Warning": '110 - "Response is Stale"', "Cache-Control": "public, max-age=5"}


def last_good_answer() -> Response | None:
    """For a widget or API request while the database is away: its last good answer, marked stale."""
    endpoint = request.endpoint
    if endpoint not in MEMO_ENDPOINTS or request.method not in ("GET", "HEAD"):
        return None
    state = runtime()
    exact, canonical = memo_keys(endpoint)
    if state.memo is not None:
        for key in (exact, canonical):
            entry = state.memo.stale(key)
            if entry is not None and entry.body is not None:
                return Response(entry.body, content_type=entry.content_type,
                                headers={**dict(entry.headers), **STALE_HEADERS})
    found = state.last_good.load(canonical) if state.last_good is not None else None
    if found is None:
        return None
    rendered, headers = found
    return Response(rendered.body, content_type=rendered.content_type, headers={**headers, **STALE_HEADERS})


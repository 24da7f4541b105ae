"""HTTP caching shared by the widget and API blueprints: strong ETags, Cache-Control, 304s, a render cache."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable

from flask import current_app, request
from flask.wrappers import Response

from ..web import settings
from ..widgets import RenderCache, VersionReader, etag_for

PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str


@dataclass
class WidgetRuntime:
    """Per-app state: version reads, the render cache, and the salt that changes every ETag on a deploy."""

    versions: VersionReader
    cache: RenderCache
    salt: str
    cache_control: str


def _deployment_salt() -> str:
    # Templates, catalogs, the embed script, the renderer and the site settings all shape the
    # output: hashing them once at start-up makes a deploy change every ETag by itself.
    digest = hashlib.sha256()
    config = settings()
    digest.update(repr((config.site.url, config.site.name, config.widget)).encode())
    paths = [PACKAGE / "widgets.py", PACKAGE / "static" / "embed.js"]
    paths += sorted((PACKAGE / "templates" / "widget").glob("*"))
    paths += sorted((PACKAGE / "translations").glob("*/LC_MESSAGES/*.mo"))
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def runtime() -> WidgetRuntime:
    """This app's widget runtime, created on first use."""
    state = current_app.extensions.get("tracker_widget")
    if state is None:
        widget = settings().widget
        state = current_app.extensions["tracker_widget"] = WidgetRuntime(
            VersionReader(current_app.extensions["tracker_engine"]), RenderCache(), _deployment_salt(),
            f"public, max-age={widget.max_age}, stale-while-revalidate={widget.stale_while_revalidate}")
    return state


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
    full_key = (state.salt, *key)
    etag = etag_for(full_key)
    response_headers = {"ETag": f'"{etag}"', "Cache-Control": state.cache_control, **(headers or {})}
    if varies_by_language and not locale_from_query():
        response_headers["Vary"] = "Accept-Language"
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=response_headers)
    rendered = state.cache.get_or_render(full_key, render)
    return Response(rendered.body, content_type=rendered.content_type, headers=response_headers)

"""Absolute addresses of this site's public pages: the one place their shapes are written."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import has_request_context, request

from .context import settings


def public_base_url() -> str:
    """Where readers and embedding sites reach this tracker: `site.url`, or in development the address served."""
    # In development a newcomer may serve on any port (`tracker serve --port 5101`), and links
    # must lead there; in production `site.url` is the one public address (behind a proxy or
    # CDN the request's own host may be an internal name).
    config = settings()
    if config.environment == "development" and has_request_context():
        return request.host_url.rstrip("/")
    return config.site.url.rstrip("/")


def _slug(slug: str) -> str:
    return quote(slug, safe="")


def _query(params: dict[str, str | None]) -> str:
    kept = {name: value for name, value in params.items() if value}
    return "?" + urlencode(kept) if kept else ""


def campaign_url(slug: str, base: str | None = None) -> str:
    """The campaign's public page, where "Support us" leads."""
    return f"{base or public_base_url()}/c/{_slug(slug)}"


def widget_url(slug: str, suffix: str = "", base: str | None = None, **options: str | None) -> str:
    """The iframe widget (suffix "") or its image (".svg", ".png"), with display options."""
    return f"{base or public_base_url()}/widget/{_slug(slug)}{suffix}{_query(options)}"


def api_url(slug: str, base: str | None = None) -> str:
    """The campaign's JSON document."""
    return f"{base or public_base_url()}/api/v1/campaigns/{_slug(slug)}"


def embed_script_url(base: str | None = None) -> str:
    return f"{base or public_base_url()}/embed.js"


def oembed_discovery_url(slug: str, base: str | None = None) -> str:
    """The oEmbed endpoint's URL for a campaign page, for the discovery `<link>`."""
    base = base or public_base_url()
    return f"{base}/oembed?url={quote(campaign_url(slug, base), safe='')}&format=json"

"""Absolute addresses of this site's pages, as readers and embedding sites must use them."""
from __future__ import annotations

from urllib.parse import quote


def campaign_url(site_url: str, slug: str) -> str:
    """The public, absolute address of a campaign's page."""
    return f"{site_url.rstrip('/')}/c/{quote(slug, safe='')}"


def oembed_discovery_url(site_url: str, slug: str) -> str:
    """The oEmbed endpoint's URL for a campaign page, for the discovery `<link>`."""
    return f"{site_url.rstrip('/')}/oembed?url={quote(campaign_url(site_url, slug), safe='')}&format=json"


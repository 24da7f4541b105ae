"""Every public route: no cookies, the strict CSP, nothing from third parties, nothing inline."""

from __future__ import annotations

from typing import Any

import pytest
from public_helpers import parse_html

from tracker.web.headers import DEFAULT_CSP

EXPECTED_ENDPOINTS = {"public.index", "public.support", "public.campaign", "public.qr_page", "public.qr_svg",
                      "public.qr_png"}


def public_urls(app: Any, demo_site: Any) -> dict[str, str]:
    """A URL for every route of the public blueprint, its arguments taken from the demo data."""
    samples = {"slug": demo_site.campaign.slug, "method_id": demo_site.btc.id}
    urls = {}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("public."):
                urls[rule.endpoint] = url_for(rule.endpoint, **{name: samples[name] for name in rule.arguments})
    return urls


def assert_public_headers(response: Any, url: str) -> None:
    assert "Set-Cookie" not in response.headers, url
    assert response.headers.get("Content-Security-Policy") == DEFAULT_CSP, url


def test_the_walk_finds_every_public_route(app, demo_site):
    assert set(public_urls(app, demo_site)) >= EXPECTED_ENDPOINTS


def test_every_public_route_sets_no_cookie_and_sends_the_csp(app, client, demo_site):
    for url in public_urls(app, demo_site).values():
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert_public_headers(response, url)


def test_even_a_visitor_with_a_cookie_gets_none_back(app, demo_site):
    client = app.test_client()
    client.set_cookie("session", "not-a-valid-session")
    for url in public_urls(app, demo_site).values():
        assert_public_headers(client.get(url), url)


@pytest.mark.parametrize("url", ["/support?older=abc", "/qr/1.svg?amount=abc", "/c/no-such-goal", "/qr/999.png"])
def test_error_pages_of_public_routes_set_no_cookie_either(client, demo_site, url):
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert_public_headers(response, url)


@pytest.mark.parametrize("filename", ["css/public.css", "js/support.js", "css/site.css"])
def test_the_pages_own_static_files_are_served_same_origin(client, filename):
    with client.get(f"/static/{filename}") as response:
        assert response.status_code == 200
        assert_public_headers(response, filename)


@pytest.mark.parametrize("path", ["/support", "/c/demo"])
def test_pages_load_only_same_origin_files_and_nothing_inline(client, demo_site, path):
    response = client.get(path)
    page = parse_html(response.data)
    loaded = ([e.attrs.get("src") for e in page.elements if e.tag in ("script", "img")]
              + [e.attrs.get("href") for e in page.find("link", rel="stylesheet")])
    assert loaded and all(url and url.startswith("/") and not url.startswith("//") for url in loaded), loaded
    # The CSP would block these anyway; a page that relied on them would look broken.
    assert all(e.attrs.get("src") for e in page.find("script")), "inline script"
    assert not page.find("style"), "inline <style>"
    assert not [e for e in page.elements if "style" in e.attrs], "style= attribute"
    assert not [e for e in page.elements if any(name.startswith("on") for name in e.attrs)], "event handler"
    assert b"csrf" not in response.data.lower()

"""The widget routes: iframe page, SVG, PNG, embed script, oEmbed, demo article; headers and caching."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import xml.etree.ElementTree as ET

import pytest
from factories import CLI, counting_statements
from PIL import Image

from tracker import create_app
from tracker.widget.options import VARIANT_SIZES

NBSP = "\u00a0"
WIDGET_ROUTES = ["/widget/demo", "/widget/demo.svg", "/widget/demo.png"]


def style_of(html: str) -> str:
    return re.search(r"<style>(.*?)</style>", html, re.S).group(1)


def hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("variant", ["bar", "card", "cta"])
def test_iframe_page_is_small_self_contained_and_frameable(client, demo, variant):
    response = client.get(f"/widget/demo?variant={variant}&locale=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert len(gzip.compress(response.data)) <= 3 * 1024
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert "X-Frame-Options" not in response.headers
    assert "unsafe-inline" not in csp and "script-src" not in csp and "default-src 'none'" in csp
    assert hash_source(style_of(html)) in csp  # the one inline stylesheet is allowed by its hash
    assert "<script" not in html and " style=" not in html
    assert "Set-Cookie" not in response.headers
    assert 'role="progressbar"' in html
    assert 'aria-valuemin="0" aria-valuemax="5000" aria-valuenow="2160"' in html
    assert 'aria-valuetext="$2,160 of $5,000, 43%"' in html
    for label in ("$0", "$2,500", "$5,000", "$2,160"):
        assert f">{label}</text>" in html


def test_frame_ancestors_come_from_the_config(clean_db, settings_factory, demo):
    app = create_app(settings_factory(**{"widget.frame_ancestors": "https://news.example"}))
    response = app.test_client().get("/widget/demo")
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors https://news.example")
    app.extensions["tracker_engine"].dispose()


def test_other_pages_still_refuse_to_be_framed(client, demo):
    for path in ("/demo/article", "/widget/demo.svg", "/api/v1/campaigns/demo"):
        response = client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_card_shows_title_period_days_left_and_the_support_button(client, demo):
    html = client.get("/widget/demo?variant=card&locale=en").get_data(as_text=True)
    assert "Keep our reporting independent</a></h1>" in html
    assert re.search(r'<p class="meta">\w+ 2026 · \d+ days? left · 40 supporters · \$2,840 still to go</p>', html)
    assert '<a class="btn" href="http://127.0.0.1:5000/c/demo" target="_blank" rel="noopener">Support us</a>' in html


def test_cta_asks_for_help_and_bar_is_just_the_bar(client, demo):
    cta = client.get("/widget/demo?variant=cta").get_data(as_text=True)
    assert "Do you like this content? Consider helping us!" in cta and 'class="btn"' in cta
    bar = client.get("/widget/demo?variant=bar").get_data(as_text=True)
    assert 'class="btn"' not in bar and "<h1>" not in bar and 'role="progressbar"' in bar


def test_invalid_options_fall_back_and_are_never_echoed(client, demo):
    hostile = '"><script>alert(1)</script>'
    response = client.get("/widget/demo", query_string={
        "variant": hostile, "theme": "x" + hostile, "accent": "#12345g" + hostile, "locale": hostile})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "script" not in html and "alert" not in html and "12345g" not in html
    assert '<body class="v-card">' in html and '<html lang="en">' in html
    assert "--ac:#1f6feb" in html


def test_theme_and_accent(client, demo):
    dark = client.get("/widget/demo?theme=dark&accent=ff8800").get_data(as_text=True)
    assert "--bg:#0d1117" in dark and "--ac:#ff8800;--at:#000000" in dark
    auto = client.get("/widget/demo?theme=auto").get_data(as_text=True)
    assert "@media (prefers-color-scheme:dark){:root{--bg:#0d1117" in auto
    assert "@media (prefers-reduced-motion:reduce){.fi{animation:none}}" in auto


def test_german_by_query_or_by_browser(client, demo):
    by_query = client.get("/widget/demo?locale=de&variant=cta")
    by_browser = client.get("/widget/demo?variant=cta", headers={"Accept-Language": "de-DE,de;q=0.9"})
    for response in (by_query, by_browser):
        html = response.get_data(as_text=True)
        assert '<html lang="de">' in html
        assert f'aria-valuetext="2.160{NBSP}$ von 5.000{NBSP}$, 43{NBSP}%"' in html
        assert f">0{NBSP}$</text>" in html and f">2.500{NBSP}$</text>" in html and f">5.000{NBSP}$</text>" in html
        assert "Gefällt Ihnen dieser Inhalt? Unterstützen Sie uns!" in html
    assert "Vary" not in by_query.headers or "Accept-Language" not in by_query.headers["Vary"]
    assert "Accept-Language" in by_browser.headers["Vary"]
    assert by_query.headers["ETag"] == by_browser.headers["ETag"]


@pytest.mark.parametrize("path", WIDGET_ROUTES + ["/api/v1/campaigns/demo", "/api/v1/campaigns", "/embed.js"])
def test_responses_carry_a_strong_etag_and_cache_control(client, demo, path):
    response = client.get(path)
    assert response.status_code == 200
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["ETag"])  # strong: no W/ prefix
    # 60 s in all, less the second each worker's memo may keep the answer (see test_widget_memo).
    assert response.headers["Cache-Control"] == "public, max-age=59, stale-while-revalidate=300"
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == response.headers["ETag"]
    assert again.headers["Cache-Control"] == response.headers["Cache-Control"]


@pytest.mark.parametrize("memo, max_age", [(0, 5), (2, 3)])
def test_cache_times_come_from_the_config(clean_db, settings_factory, demo, memo, max_age):
    app = create_app(settings_factory(**{"widget.max_age": 5, "widget.stale_while_revalidate": 30,
                                         "widget.process_cache_seconds": memo}))
    response = app.test_client().get("/widget/demo.svg")
    assert response.headers["Cache-Control"] == f"public, max-age={max_age}, stale-while-revalidate=30"
    app.extensions["tracker_engine"].dispose()


@pytest.fixture()
def memo_off(clean_db, settings_factory):
    """An app without the per-process memo: every request reads the campaign's version."""
    app = create_app(settings_factory(**{"widget.process_cache_seconds": 0}))
    yield app
    app.extensions["tracker_engine"].dispose()


@pytest.mark.parametrize("path", WIDGET_ROUTES + ["/api/v1/campaigns/demo", "/api/v1/campaigns"])
def test_without_the_memo_a_matching_if_none_match_costs_one_query(memo_off, demo, path):
    app, client = memo_off, memo_off.test_client()
    etag = client.get(path).headers["ETag"]
    with counting_statements(app.extensions["tracker_engine"]) as statements:
        response = client.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("SELECT")


def test_a_304_keeps_the_iframe_policy(client, demo):
    first = client.get("/widget/demo?variant=cta")
    again = client.get("/widget/demo?variant=cta", headers={"If-None-Match": first.headers["ETag"]})
    # A browser merges a 304's headers into its cached copy: the default CSP would unframe it.
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in again.headers


def test_each_option_has_its_own_etag(client, demo):
    tags = {client.get(f"/widget/demo?{query}").headers["ETag"] for query in (
        "", "variant=bar", "variant=cta", "theme=dark", "accent=ff8800", "locale=de")}
    assert len(tags) == 6
    assert client.get("/widget/demo?variant=nonsense").headers["ETag"] == client.get("/widget/demo").headers["ETag"]


def test_without_the_memo_a_donation_in_another_worker_shows_up_at_once(clean_db, settings_factory, demo,
                                                                        make_donation):
    # With the memo (the default) it shows up within widget.process_cache_seconds: test_widget_memo.
    worker_a, worker_b = (create_app(settings_factory(**{"widget.process_cache_seconds": 0})).test_client()
                          for _ in range(2))
    before = worker_a.get("/widget/demo.svg")
    assert worker_b.get("/widget/demo.svg").data == before.data
    make_donation(demo, "100")  # recorded elsewhere, e.g. by the admin's worker
    for worker in (worker_a, worker_b):
        after = worker.get("/widget/demo.svg", headers={"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200
        assert b"$2,260" in after.data
    for client in (worker_a, worker_b):
        client.application.extensions["tracker_engine"].dispose()


def test_unknown_and_draft_campaigns_are_404(client, session, make_campaign):
    make_campaign("hidden", status="draft")
    for path in ("/widget/hidden", "/widget/hidden.svg", "/widget/missing.png", "/widget/Bad%20Slug"):
        assert client.get(path).status_code == 404, path


def test_svg_is_xml_with_a_title_and_escaped_text(client, session, make_campaign):
    make_campaign("esc", title='Ben & Jerry\'s <"fund">')
    response = client.get("/widget/esc.svg?locale=en")
    assert response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    title = root.find("{http://www.w3.org/2000/svg}title").text
    assert title == 'Ben & Jerry\'s <"fund">: $0 of $5,000, 0%'
    style = root.find("{http://www.w3.org/2000/svg}style").text
    assert hash_source(style) in response.headers["Content-Security-Policy"]


def test_png_is_an_image(client, demo):
    response = client.get("/widget/demo.png")
    assert response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == (720, 216)


def test_embed_script_is_small_and_never_parses_api_text_as_html(client):
    response = client.get("/embed.js")
    assert response.mimetype == "text/javascript"
    assert len(gzip.compress(response.data)) <= 4 * 1024
    script = response.get_data(as_text=True)
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    assert "attachShadow" in script and "textContent" in script and "data-tracker-campaign" in script
    assert 'customElements.define("reader-support-widget"' in script


def test_oembed_for_a_campaign_url(client, demo):
    for url in ("http://127.0.0.1:5000/c/demo", "http://127.0.0.1:5000/widget/demo?variant=cta"):
        response = client.get("/oembed", query_string={"url": url, "format": "json"})
        assert response.status_code == 200
        data = response.get_json()
        assert data["type"] == "rich" and data["version"] == "1.0"
        assert data["provider_name"] == "Example News"
        assert data["html"].startswith('<iframe class="reader-support-widget" src="http://127.0.0.1:5000/widget/demo?')
        assert (data["width"], data["height"]) == VARIANT_SIZES["cta" if "cta" in url else "card"]


def test_oembed_honours_maxwidth(client, demo):
    data = client.get("/oembed?url=http://127.0.0.1:5000/c/demo&maxwidth=300&maxheight=100").get_json()
    assert (data["width"], data["height"]) == (300, 100)


@pytest.mark.parametrize("url", [
    "https://evil.example/c/demo", "http://127.0.0.1:5000/admin", "http://127.0.0.1:5000/c/missing",
    "http://127.0.0.1:5000/c/demo/extra", "http://127.0.0.1:5001/c/demo", "javascript:alert(1)", ""])
def test_oembed_refuses_other_urls(client, demo, url):
    assert client.get("/oembed", query_string={"url": url}).status_code == 404


def test_oembed_xml_is_not_implemented(client, demo):
    assert client.get("/oembed?url=http://127.0.0.1:5000/c/demo&format=xml").status_code == 501


def test_demo_article_has_the_widget_beside_it_and_the_cta_under_it(client, demo):
    response = client.get("/demo/article")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The configured site address, never the request's Host header (which anyone can send).
    assert 'src="http://127.0.0.1:5000/widget/demo?variant=cta"' in html
    assert 'src="http://127.0.0.1:5000/widget/demo?variant=card"' in html
    forged = client.get("/demo/article", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in forged
    assert html.index("variant=cta") < html.index("<aside>")
    assert client.get("/demo/article.css").mimetype == "text/css"


def test_embed_snippets_render_each_form(app):
    from tracker.web.embeds import iframe_code, image_code, script_code

    with app.test_request_context():
        for variant, (width, height) in VARIANT_SIZES.items():
            iframe = str(iframe_code("demo", variant, title="Goal", base="https://s.example"))
            assert f'src="https://s.example/widget/demo?variant={variant}"' in iframe
            assert f'width="{width}" height="{height}"' in iframe
            assert "style=" not in iframe and "frameborder" not in iframe  # works under a strict host CSP
        script = str(script_code("demo", refresh=60, base="https://s.example"))
        assert '<script src="https://s.example/embed.js" async></script>' in script
        assert '<div data-tracker-campaign="demo" data-refresh="60"></div>' in script
        image = str(image_code("demo", alt='Our "goal"', image="png", base="https://s.example"))
        assert 'src="https://s.example/widget/demo.png" alt="Our &#34;goal&#34;"' in image


def test_options_an_output_ignores_make_no_new_rendering(client, demo):
    """A PNG has no variants and cannot follow the reader's theme: those options give the same answer."""
    plain = client.get("/widget/demo.png").headers["ETag"]
    for query in ("variant=bar", "variant=cta", "theme=auto", "variant=bar&theme=auto"):
        assert client.get(f"/widget/demo.png?{query}").headers["ETag"] == plain, query
    svg = client.get("/widget/demo.svg").headers["ETag"]
    assert client.get("/widget/demo.svg?variant=cta").headers["ETag"] == svg


def test_query_accents_are_rounded_to_4096_colours(client, demo):
    """16.7 million accents were 16.7 million renderings; nearby colours now share one."""
    from tracker.widget.options import quantised

    assert quantised("#ff8800") == "#ff8800"  # the documented example stays itself
    assert quantised("#1f6feb") == "#2277ee"
    etag = client.get("/widget/demo.svg?accent=ff8800").headers["ETag"]
    assert client.get("/widget/demo.svg?accent=fe8901").headers["ETag"] == etag
    assert client.get("/widget/demo.svg?accent=ff9900").headers["ETag"] != etag


def test_uncached_renderings_spend_a_budget_per_address_and_readers_do_not_notice(clean_db, settings_factory,
                                                                                   demo):
    app = create_app(settings_factory(**{"widget.render_budget_per_minute": 10, "widget.process_cache_seconds": 0}))
    attacker, reader = app.test_client(), app.test_client()
    documented = ["/widget/demo", "/widget/demo?variant=cta", "/widget/demo.svg", "/widget/demo.png"]
    for url in documented:
        assert reader.get(url, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    statuses = [attacker.get(f"/widget/demo.svg?accent={i * 17:02x}0000",
                             environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code for i in range(14)]
    assert statuses[:10] == [200] * 10 and set(statuses[10:]) == {429}
    refused = attacker.get("/widget/demo.png?accent=123456", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert refused.headers["Retry-After"] == "60"
    assert refused.mimetype == "image/png"  # an image's error is an image, not an HTML page inside <img>
    # The embeds' readers hit the render cache: any number of page views, never a 429.
    for _ in range(30):
        for url in documented:
            assert reader.get(url, environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    app.extensions["tracker_engine"].dispose()


def test_a_reader_is_never_refused_because_the_ledger_keeps_changing(clean_db, settings_factory, demo):
    """The rehearsal found it: gifts arriving twice a second made every plain widget request a new
    rendering, and one reader polling it was refused with 429. Only renderings a client chose
    (options, amounts) spend the budget."""
    from tracker.campaigns.operations import get_campaign
    from tracker.donations.ledger import record_donation
    from tracker.money import Money

    app = create_app(settings_factory(**{"widget.render_budget_per_minute": 2, "widget.process_cache_seconds": 0}))
    reader = app.test_client()
    with app.extensions["tracker_db"]() as session:
        campaign = get_campaign(session, "demo")
        for number in range(6):
            record_donation(session, campaign, Money.parse("1", "USD"), actor=CLI, external_id=f"busy-{number}")
            session.commit()
            for url in ("/widget/demo.svg", "/api/v1/campaigns/demo"):
                assert reader.get(url, environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code == 200
    app.extensions["tracker_engine"].dispose()


def test_with_the_limits_storage_away_readers_still_get_the_widget(clean_db, settings_factory, demo):
    """The rehearsal stopped Redis for 30 s and readers got 500s: the render budget bypassed the
    limiter's fallback. Now an unreachable storage lets the rendering through (and says so once)."""
    app = create_app(settings_factory(**{"redis.url": "redis://127.0.0.1:1/0"}))
    reader = app.test_client()
    for url in ("/widget/demo.svg?accent=123456", "/widget/demo.svg?accent=654321", "/api/v1/campaigns/demo"):
        assert reader.get(url).status_code == 200
    app.extensions["tracker_engine"].dispose()

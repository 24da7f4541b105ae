"""Every embed form on a page from another origin, in headless Chromium: amounts, ARIA values, isolation."""

from __future__ import annotations

import pytest
from browser import LiveServer
from playwright.sync_api import expect

from tracker.audit import Actor
from tracker.demo import load_demo
from tracker.donations.ledger import record_donation
from tracker.money import Money

pytestmark = pytest.mark.e2e

NBSP = "\u00a0"

#: A host page on another origin, with CSS that would wreck the widget if it could reach it.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A news site</title>
<style>
  body {{ font-family: Georgia, serif; margin: 24px; }}
  p, a, span, h2 {{ color: #ff0000 !important; font-size: 30px !important; }}
  .row {{ display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }}
  iframe {{ border: 0; }}
</style></head>
<body>
  <h1>An article on another site</h1>
  <div class="row">
    <iframe id="card" src="{app}/widget/demo?variant=card" title="Support progress" width="360" height="196"></iframe>
    <iframe id="cta-de" src="{app}/widget/demo?variant=cta&amp;locale=de&amp;theme=dark" title="Unterstützen"
            width="360" height="168"></iframe>
    <div><div id="by-data" data-tracker-campaign="demo" data-locale="en" data-refresh="60"></div></div>
    <div><reader-support-widget id="by-element" campaign="demo" locale="de" variant="cta" accent="#ff8800">
    </reader-support-widget></div>
    <a href="{app}/c/demo"><img id="svg" src="{app}/widget/demo.svg?locale=en" alt="Support progress"
                                width="360" height="108"></a>
    <img id="png" src="{app}/widget/demo.png?locale=de" alt="Fortschritt" width="360" height="108">
  </div>
  <script src="{app}/embed.js" async></script>
</body></html>
"""


@pytest.fixture()
def demo(session):
    """The reference page's campaign, in the live server's database."""
    campaign = load_demo(session)
    session.commit()
    return campaign


@pytest.fixture()
def host_site(live_server):
    """A second server, on another port (so another origin), serving the host page."""

    def host_app(environ, start_response):
        body = HOST_PAGE.format(app=live_server.url).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    with LiveServer(host_app) as server:
        yield server


def watch_for_errors(page):
    """Console errors (CSP violations land there) and uncaught exceptions, favicon requests aside."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def bar_values(locator):
    return {name: locator.get_attribute(name)
            for name in ("aria-valuemin", "aria-valuemax", "aria-valuenow", "aria-valuetext")}


def test_every_embed_form_on_another_origin(demo, session, live_server, host_site, page, artifacts):
    errors = watch_for_errors(page)
    page.emulate_media(reduced_motion="reduce")  # also makes the screenshot show the final bar
    page.clock.install()  # timers under the test's control, for the live refresh below
    page.goto(host_site.url)
    assert host_site.port != live_server.port

    # The iframe: the widget's own page, framed by another origin.
    card = page.frame_locator("#card")
    bar = card.locator('[role="progressbar"]')
    assert bar_values(bar) == {"aria-valuemin": "0", "aria-valuemax": "5000", "aria-valuenow": "2160",
                               "aria-valuetext": "$2,160 of $5,000, 43%"}
    assert card.locator(".now").text_content() == "$2,160"
    assert card.locator(".tl").all_text_contents() == ["$0", "$2,500", "$5,000"]
    assert card.locator("a.btn").text_content() == "Support us"
    # Its inline stylesheet is allowed by its CSP hash: the button has the accent colour.
    assert card.locator("a.btn").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(31, 111, 235)"
    assert card.locator(".fi").evaluate("e => getComputedStyle(e).animationName") == "none"  # reduced motion
    cta = page.frame_locator("#cta-de")
    assert cta.locator('[role="progressbar"]').get_attribute("aria-valuetext") == (
        f"2.160{NBSP}$ von 5.000{NBSP}$, 43{NBSP}%")
    assert cta.locator(".tl").all_text_contents() == [f"0{NBSP}$", f"2.500{NBSP}$", f"5.000{NBSP}$"]
    assert cta.locator("p.cta").text_content() == "Gefällt Ihnen dieser Inhalt? Unterstützen Sie uns!"
    # Only the call to action is bold, not the ticks beside it.
    assert cta.locator(".tl").first.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    assert cta.locator("body").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(13, 17, 23)"

    # The script: Shadow DOM widgets fed by the JSON API across origins (locators pierce open shadow roots).
    scripted = page.locator('#by-data [role="progressbar"]')
    scripted.wait_for()
    assert bar_values(scripted) == {"aria-valuemin": "0", "aria-valuemax": "5000.00", "aria-valuenow": "2160.00",
                                    "aria-valuetext": "$2,160 of $5,000, 43%"}
    assert page.locator("#by-data .now").text_content() == "$2,160"
    assert page.locator("#by-data .tk").all_text_contents() == ["$0", "$2,500", "$5,000"]
    # The host's "p, a, span { color: red; font-size: 30px }" does not get in.
    assert page.locator("#by-data .now").evaluate("e => getComputedStyle(e).fontSize") != "30px"
    assert page.locator("#by-data a.btn").evaluate("e => getComputedStyle(e).color") == "rgb(255, 255, 255)"
    element = page.locator('#by-element [role="progressbar"]')
    element.wait_for()
    assert element.get_attribute("aria-valuetext") == f"2.160{NBSP}$ von 5.000{NBSP}$, 43{NBSP}%"
    assert page.locator("#by-element p.cta").text_content().startswith("Gefällt Ihnen")
    assert page.locator("#by-element a.btn").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 136, 0)"
    assert page.locator("#by-element a.btn").get_attribute("href") == "http://127.0.0.1:5000/c/demo"

    # The images: loaded across origins, and the SVG says the same figures to screen readers.
    for image in ("#svg", "#png"):
        page.locator(image).evaluate("e => e.decode()")
        assert page.locator(image).evaluate("e => e.naturalWidth") > 0, image
    svg = page.request.get(live_server.url + "/widget/demo.svg?locale=en").text()
    assert "<title id=\"t\">Keep our reporting independent: $2,160 of $5,000, 43%</title>" in svg
    assert ">$2,160</text>" in svg

    page.screenshot(path=str(artifacts / "embed-host-page.png"), full_page=True)

    # Live refresh (data-refresh="60"): a new donation appears without reloading the page.
    record_donation(session, demo, Money.parse("100", "USD"), actor=Actor.cli())
    session.commit()
    page.clock.run_for(61_000)
    expect(page.locator("#by-data .now")).to_have_text("$2,260")
    assert page.locator("#by-data [role=progressbar]").get_attribute("aria-valuenow") == "2260.00"
    expect(page.locator("#by-element .now")).to_have_text(f"2.160{NBSP}$")  # no refresh asked for there
    assert errors == []

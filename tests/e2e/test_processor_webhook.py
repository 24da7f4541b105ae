"""A Stripe-signed event arrives over HTTP and the widget on another site's page shows the new total."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from browser import LiveServer
from processor_helpers import fixture, processor_overrides, stripe_headers

from tracker import create_app
from tracker.demo import load_demo

pytestmark = pytest.mark.e2e

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A news site</title></head>
<body><h1>An article</h1>
<iframe id="card" src="{app}/widget/demo?variant=card" title="Support progress" width="360" height="196"></iframe>
</body></html>"""


@pytest.fixture()
def app(clean_db, settings_factory):
    """The app with its processor connections configured; widgets not cached, so the next view is fresh.

    (In production a gift shows everywhere within `widget.max_age` seconds, the caches' promise.)
    """
    app = create_app(settings_factory(**processor_overrides(), **{"widget.max_age": 0}))
    yield app
    app.extensions["tracker_engine"].dispose()


@pytest.fixture()
def host_site(live_server):
    def host_app(environ, start_response):
        body = HOST_PAGE.format(app=live_server.url).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    with LiveServer(host_app) as server:
        yield server


def test_a_stripe_payment_moves_the_bar_on_a_foreign_page(session, live_server, host_site, page):
    load_demo(session)
    session.commit()
    page.goto(host_site.url)
    card = page.frame_locator("#card")
    assert card.locator(".now").text_content() == "$2,160"

    event = fixture("stripe_checkout_session_completed.json")
    event["created"] = int(time.time())  # this month's gift: the demo campaign counts by month
    body = json.dumps(event)
    request = urllib.request.Request(f"{live_server.url}/hooks/stripe", data=body.encode(), method="POST",
                                     headers=stripe_headers(body))
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read())["state"] == "processed"

    page.reload()
    assert page.frame_locator("#card").locator(".now").text_content() == "$2,185"
    bar = page.frame_locator("#card").locator('[role="progressbar"]')
    assert bar.get_attribute("aria-valuenow") == "2185"

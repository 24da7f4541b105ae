"""This site's public addresses: one shape each, the configured site URL in production."""

from __future__ import annotations

from tracker.web.urls import campaign_url, oembed_discovery_url, public_base_url, widget_url


def test_the_oembed_discovery_url_points_at_the_campaign_page():
    assert oembed_discovery_url("spring-drive", base="https://news.example/support") == (
        "https://news.example/support/oembed?url=https%3A%2F%2Fnews.example%2Fsupport%2Fc%2Fspring-drive"
        "&format=json")


def test_outside_development_the_configured_url_wins_over_the_host_header(app):
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert public_base_url() == "http://127.0.0.1:5000"
        assert campaign_url("demo") == "http://127.0.0.1:5000/c/demo"
        assert widget_url("demo", ".svg", theme="dark") == "http://127.0.0.1:5000/widget/demo.svg?theme=dark"


def test_in_development_links_follow_the_address_served(clean_db, settings_factory):
    from tracker import create_app

    app = create_app(settings_factory(environment="development"))
    with app.test_request_context("/", base_url="http://127.0.0.1:5101"):
        assert campaign_url("demo") == "http://127.0.0.1:5101/c/demo"
    app.extensions["tracker_engine"].dispose()

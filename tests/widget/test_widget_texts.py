"""The admin's texts in the reader's language: widget HTML, SVG, PNG, JSON and oEmbed, with fallback."""

from __future__ import annotations

import pytest

GERMAN = {"de": {"title": "Unabhängig <bleiben> & mehr", "description": "Server & Kaffee"}}


@pytest.fixture()
def campaigns(session, make_campaign):
    """Two campaigns alike but for a German title (and label) on the first."""
    translated = make_campaign("translated", title="Stay independent", translations=GERMAN)
    translated.milestones[0].translations = {"de": {"label": "Halbzeit"}}
    make_campaign("plain", title="Stay independent")
    session.commit()
    return translated


@pytest.mark.parametrize("ask", [{"query_string": {"locale": "de"}}, {"headers": {"Accept-Language": "de-DE"}}])
def test_the_widget_page_shows_the_german_title_and_label_escaped(client, campaigns, ask):
    html = client.get("/widget/translated", **ask).data.decode()
    assert "Unabhängig &lt;bleiben&gt; &amp; mehr" in html and "<bleiben>" not in html
    assert "Halbzeit" in html and "Stay independent" not in html
    english = client.get("/widget/translated?locale=en").data.decode()
    assert "Stay independent" in english and "Halbzeit" not in english and "Halfway" in english


def test_without_a_german_text_the_default_is_shown(client, campaigns):
    html = client.get("/widget/plain?locale=de&variant=card").data.decode()
    assert "Stay independent" in html and "Halfway" in html


def test_the_svg_has_the_german_title(client, campaigns):
    svg = client.get("/widget/translated.svg?locale=de").data.decode()
    assert "Unabhängig &lt;bleiben&gt; &amp; mehr" in svg
    assert "Stay independent" in client.get("/widget/translated.svg?locale=en").data.decode()


def test_the_png_draws_the_german_title(client, campaigns):
    def png(slug, locale):
        return client.get(f"/widget/{slug}.png?locale={locale}").data

    assert png("translated", "en") == png("plain", "en")
    assert png("translated", "de") != png("plain", "de")


def test_the_json_and_oembed_answers_carry_the_german_texts(client, campaigns):
    data = client.get("/api/v1/campaigns/translated?locale=de").get_json()
    assert (data["title"], data["description"]) == ("Unabhängig <bleiben> & mehr", "Server & Kaffee")
    assert data["milestones"][0]["label"] == "Halbzeit"
    assert [t["title"] for t in data["formatted"]["ticks"]] == ["", "Halbzeit", ""]
    english = client.get("/api/v1/campaigns/translated", headers={"Accept-Language": "en"}).get_json()
    assert (english["title"], english["description"], english["milestones"][0]["label"]) == (
        "Stay independent", "", "Halfway")
    listed = client.get("/api/v1/campaigns", headers={"Accept-Language": "de"}).get_json()["campaigns"]
    assert {c["slug"]: c["title"] for c in listed} == {"translated": "Unabhängig <bleiben> & mehr",
                                                       "plain": "Stay independent"}
    url = "http://127.0.0.1:5000/c/translated"
    # oEmbed: `?locale=` chooses (a consumer's server has no reader's Accept-Language), else the default.
    german = client.get("/oembed", query_string={"url": url, "locale": "de"})
    assert german.get_json()["title"] == "Unabhängig <bleiben> & mehr"
    assert 'title="Unabhängig &lt;bleiben&gt; &amp; mehr"' in german.get_json()["html"]
    default = client.get("/oembed", query_string={"url": url}, headers={"Accept-Language": "de"})
    assert default.get_json()["title"] == "Stay independent"

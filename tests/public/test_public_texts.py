"""The support and campaign pages show the admin's texts in the reader's language, else the default ones."""

from __future__ import annotations

import pytest
from public_helpers import page_text

GERMAN = {"de": {"title": "Das Licht <anlassen>", "description": "Server & Kaffee"}}


@pytest.fixture()
def translated(session, make_campaign):
    campaign = make_campaign("lights", title="Keep the lights on", translations=GERMAN)
    campaign.milestones[0].translations = {"de": {"label": "Halbzeit"}}
    make_campaign("plain", title="Plain title")
    session.commit()
    return campaign


@pytest.mark.parametrize("ask", [{"query_string": {"locale": "de"}}, {"headers": {"Accept-Language": "de"}}])
def test_the_support_page_shows_german_texts_escaped(client, translated, ask):
    response = client.get("/support", **ask)
    html = response.data.decode()
    assert "Das Licht &lt;anlassen&gt;" in html and "<anlassen>" not in html
    text = page_text(response.data)
    assert "Server & Kaffee" in text and "Halbzeit" in text
    assert "Keep the lights on" not in text and "Plain title" in text  # no German text: the default


def test_the_campaign_page_shows_german_texts_and_english_ones_for_others(client, translated):
    german = page_text(client.get("/c/lights?locale=de").data)
    assert "Das Licht <anlassen>" in german and "Server & Kaffee" in german and "Halbzeit" in german
    html = client.get("/c/lights?locale=de").data.decode()
    assert "<title>Das Licht &lt;anlassen&gt; ·" in html
    english = page_text(client.get("/c/lights", headers={"Accept-Language": "en"}).data)
    assert "Keep the lights on" in english and "Halfway" in english and "Halbzeit" not in english

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


@pytest.fixture()
def german_support_app(clean_db, settings_factory):
    from tracker import create_app

    app = create_app(settings_factory(**{"site.support_text": "Keep us <free>",
                                         "site.support_texts": {"de": "Halten Sie uns <frei>"}}))
    yield app
    app.extensions["tracker_engine"].dispose()


def test_the_support_text_is_the_readers_language_one_else_the_default(german_support_app):
    client = german_support_app.test_client()
    german = client.get("/support", headers={"Accept-Language": "de"}).data.decode()
    assert "Halten Sie uns &lt;frei&gt;" in german and "Keep us" not in german
    english = client.get("/support?locale=en").data.decode()
    assert "Keep us &lt;free&gt;" in english and "Halten" not in english


@pytest.mark.parametrize(("texts", "problem"), [
    ({"fr": "Merci"}, "site.support_texts.fr: must be one of site.locales"),
    ({"en": "Thanks"}, "site.support_texts.en: must be one of site.locales"),
    ({"de": 5}, "site.support_texts.de: must be a string"),
    ("Danke", "site.support_texts: must be a table"),
])
def test_a_support_text_for_no_extra_locale_is_a_config_error(settings_factory, texts, problem):
    from tracker.config import ConfigError

    with pytest.raises(ConfigError, match=problem.replace(".", r"\.")):
        settings_factory(**{"site.support_texts": texts})

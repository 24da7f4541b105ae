"""The widget's domain side: options, figures per locale, contrast, versions, images, the render cache."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest
from babel.support import NullTranslations
from factories import at
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from widget_helpers import german

from tracker.audit import Actor
from tracker.campaigns.operations import set_status
from tracker.campaigns.progress import campaign_progress
from tracker.errors import NotFound
from tracker.models import utcnow
from tracker.widget.cache import RenderCache
from tracker.widget.colours import PALETTES, contrast_ratio, text_colour_on
from tracker.widget.drawing import png_font, render_png, render_svg
from tracker.widget.model import build_widget
from tracker.widget.options import WidgetOptions, widget_options
from tracker.widget.versions import VersionReader

NBSP = "\u00a0"


def model_for(session, campaign, locale="en", translations=None, now=None, **options):
    opts = WidgetOptions(variant=options.get("variant", "card"), theme=options.get("theme", "light"),
                         accent=options.get("accent", "#1f6feb"), locale=locale)
    progress = campaign_progress(session, campaign, now)
    return build_widget(campaign, progress, opts, translations or NullTranslations(), "https://news.example/c/x")


def test_invalid_options_fall_back_to_the_defaults():
    options = widget_options({"variant": "<b>", "theme": "neon", "accent": "red"}, None, "en")
    assert options == WidgetOptions("card", "light", "#1f6feb", "en")


def test_valid_options_are_kept_and_an_accent_may_omit_the_hash():
    options = widget_options({"variant": "cta", "theme": "dark", "accent": "FF8800"}, None, "de")
    assert options == WidgetOptions("cta", "dark", "#ff8800", "de")


def test_campaign_display_settings_are_the_fallback():
    options = widget_options({"theme": "??"}, {"theme": "auto", "accent": "#00aa00"}, "en")
    assert (options.theme, options.accent) == ("auto", "#00aa00")


def test_ticks_and_texts_in_english(session, demo):
    model = model_for(session, demo)
    assert list(model.tick_labels) == ["$0", "$2,500", "$5,000"]
    assert [t.position for t in model.bar.ticks] == [Decimal(0), Decimal(50), Decimal(100)]
    assert model.raised_text == "$2,160"
    assert model.valuetext == "$2,160 of $5,000, 43%"
    assert (model.valuenow, model.valuemax) == ("2160", "5000")
    assert model.fill == Decimal("43.2")


def test_ticks_and_texts_in_german(session, demo):
    model = model_for(session, demo, "de", german())
    assert list(model.tick_labels) == [f"0{NBSP}$", f"2.500{NBSP}$", f"5.000{NBSP}$"]
    assert model.valuetext == f"2.160{NBSP}$ von 5.000{NBSP}$, 43{NBSP}%"
    assert model.button_text == "Unterstützen Sie uns"
    assert model.cta_text.startswith("Gefällt Ihnen dieser Inhalt?")


def test_periodic_goal_shows_period_and_days_left(session, make_campaign):
    campaign = make_campaign("monthly", period="monthly", tz="Europe/Berlin")
    model = model_for(session, campaign, "de", german(), now=at("2026-11-25 10:00"))
    assert model.period_text == "November 2026"
    assert model.days_left == 6
    assert model.days_left_text == "noch 6 Tage"
    assert model.meta_text.startswith("November 2026 · noch 6 Tage")


def test_beyond_the_goal_the_bar_is_full_and_the_figures_stay_true(session, make_campaign,
                                                                   make_donation):
    campaign = make_campaign("over", milestones=(("2500", "Half"), ("5000", "Done")))
    make_donation(campaign, "6000")
    model = model_for(session, campaign)
    assert model.fill == 100
    assert model.valuenow == model.valuemax == "5000"
    assert model.valuetext == "$6,000 of $5,000, 120%"
    assert [t.kind for t in model.bar.ticks] == ["start", "milestone", "goal"]  # 5,000 is the goal's label


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_colours_pass_wcag_aa(theme):
    palette = PALETTES[theme]
    assert contrast_ratio(palette.text, palette.background) >= 4.5
    assert contrast_ratio(palette.muted, palette.background) >= 4.5
    # The fill against the track and the page: graphical objects need 3:1 (WCAG 1.4.11).
    assert contrast_ratio(palette.accent, palette.track) >= 3
    assert contrast_ratio(palette.accent, palette.background) >= 3
    assert contrast_ratio(text_colour_on(palette.accent), palette.accent) >= 4.5


def test_contrast_ratio_matches_known_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@given(st.integers(0, 0xFFFFFF))
def test_button_text_is_readable_on_any_accent(colour):
    accent = f"#{colour:06x}"
    assert contrast_ratio(text_colour_on(accent), accent) >= 4.5


def test_svg_escapes_every_text(session, make_campaign):
    title = 'Tom & Jerry <script>alert("x")</script>'
    campaign = make_campaign("escape", title=title, milestones=(("100", "<b>"),))
    svg = render_svg(model_for(session, campaign))
    assert "<script" not in svg
    root = ET.fromstring(svg)  # well-formed XML despite the hostile title
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text.startswith(title)
    assert title in [t.text for t in root.iter(f"{ns}text")]


def test_png_shows_the_fill_in_the_accent_colour(session, demo):
    png = render_png(model_for(session, demo, accent="#ff8800"))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (720, 216)
    y = 56 * 2  # the middle of the bar
    assert image.getpixel((80 * 2, y)) == (0xFF, 0x88, 0x00)  # inside the 43 % fill
    assert image.getpixel((300 * 2, y)) == (0xD0, 0xD7, 0xDE)  # the empty track


def _glyph(font, character):
    mask = font.getmask(character)
    return mask.size, bytes(mask)


@pytest.mark.parametrize("character", ["€", "£", "ü", "ß", "–", "Ж"])
def test_png_font_has_a_glyph_for_what_a_euro_or_german_or_russian_badge_shows(character):
    # An unmapped code point (a private-use one) draws the font's missing-glyph box: a
    # character drawn the same as it is not in the font.
    font = png_font(26)
    missing = _glyph(font, "\ue000")
    assert _glyph(font, character) != missing
    assert _glyph(font, character)[0][0] > 0


def test_png_draws_a_euro_title_unlike_the_missing_glyph_box(session, demo):
    demo.title = "Spenden in € für Жurnal"
    drawn = render_png(model_for(session, demo))
    demo.title = "Spenden in \ue000 f\ue000r \ue000urnal"
    boxes = render_png(model_for(session, demo))
    assert drawn != boxes


def test_version_changes_with_a_donation_an_edit_and_the_date(session, demo, make_donation):
    versions = VersionReader(session.get_bind())
    now = utcnow()
    first = versions.one("demo", now)
    assert versions.one("demo", now) == first
    assert (first.id, first.period, first.timezone) == (demo.id, "monthly", "Europe/Berlin")
    make_donation(demo, "5")
    second = versions.one("demo", now)
    assert second.key() != first.key()
    set_status(session, demo, "archived", actor=Actor.cli())
    session.commit()
    third = versions.one("demo", now)
    assert third.key() != second.key()
    assert versions.one("demo", now + timedelta(days=1)).key() != third.key()  # days left change
    assert versions.active(now) == ()


def test_versions_of_active_campaigns_in_list_order(session, make_campaign):
    for slug in ("first", "second"):
        make_campaign(slug)
    make_campaign("draft", status="draft")
    assert [v.slug for v in VersionReader(session.get_bind()).active(utcnow())] == ["first", "second"]


def test_version_of_a_draft_or_an_unknown_campaign_is_not_found(session, make_campaign):
    make_campaign("hidden", status="draft")
    for slug in ("hidden", "missing", "../etc"):
        with pytest.raises(NotFound):
            VersionReader(session.get_bind()).one(slug, at("2026-11-25 10:00"))


def test_render_cache_keeps_the_newest_entries():
    cache = RenderCache(size=2)
    calls = []
    for key in ("a", "b", "a", "c", "b"):
        cache.get_or_render(key, lambda key=key: calls.append(key) or key.upper())
    assert calls == ["a", "b", "c", "b"]  # "a" was a hit; "b" was evicted by "c"
    assert len(cache) == 2


@pytest.mark.parametrize("moment, key, today", [
    ("2026-11-30 22:59:59", "2026-10-31 23:00:00", "2026-11-30"),  # last second of November in Berlin
    ("2026-11-30 23:00:00", "2026-11-30 23:00:00", "2026-12-01"),  # December has begun there
    ("2026-03-29 00:30:00", "2026-02-28 23:00:00", "2026-03-29"),  # the night the clocks go forward
])
def test_period_key_and_local_date_follow_the_campaign_zone(session, make_campaign, moment, key, today):
    make_campaign("berlin", period="monthly", tz="Europe/Berlin")
    versions = VersionReader(session.get_bind())
    versions.one("berlin", at("2026-11-30 12:00"))  # a cached day must not leak into the next
    version = versions.one("berlin", at(moment))
    assert (version.period_key, version.today.isoformat()) == (at(key), today)


# --- goal states ---------------------------------------------------------------------------------


def test_below_the_goal_every_form_says_how_much_is_still_to_go(session, demo):
    from tracker.widget.model import widget_document

    model = model_for(session, demo)
    assert model.status_text == "$2,840 still to go" and not model.goal_reached
    assert model.meta_text.endswith("· $2,840 still to go")
    assert "$2,840 still to go" in render_svg(model)
    document = widget_document(model, demo, campaign_progress(session, demo))
    assert document["goal_reached"] is False
    assert document["remaining"] == {"amount": "2840.00", "minor": 284000, "currency": "USD"}
    assert document["formatted"]["status"] == "$2,840 still to go"
    in_german = model_for(session, demo, locale="de", translations=german())
    assert in_german.status_text == f"Noch 2.840{NBSP}$ bis zum Ziel"


def test_at_and_past_the_goal_the_widget_says_it_was_reached(session, demo, make_donation):
    make_donation(demo, "2840")
    assert model_for(session, demo).status_text == "Goal reached, thank you!"
    make_donation(demo, "600")
    model = model_for(session, demo)
    assert model.goal_reached and model.status_text == "Goal reached, thank you! $600 beyond it"
    assert model.percent_text == "112%" and model.fill == 100  # the percent says it; the bar cannot pass its end


def test_pending_gifts_are_a_lighter_segment_after_the_fill(session, demo, make_donation):
    make_donation(demo, "500", status="pending")
    model = model_for(session, demo)
    assert model.bar.pending == 10
    svg = ET.fromstring(render_svg(model))
    (segment,) = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if "pe" in e.get("class", "").split()]
    assert float(segment.get("width")) == pytest.approx(33.6, abs=0.2)  # 10 % of the 336 px bar
    image = Image.open(io.BytesIO(render_png(model)))
    fill, pending, track = (image.getpixel((x * 2, 56 * 2)) for x in (80, 180, 300))
    assert len({fill, pending, track}) == 3  # three colours: confirmed, pending, empty

"""The campaign form: every problem on one submit, milestone rules, the draft hint, texts in German."""

from __future__ import annotations

import io
import json

import pytest
from admin_helpers import field_errors
from factories import CLI, clean_database

from tracker.campaigns.operations import (
    CampaignInput,
    InvalidCampaign,
    MilestoneInput,
    get_campaign,
    save_campaign,
)
from tracker.donations.export import FORMAT, VERSION, export_json
from tracker.donations.imports import import_json
from tracker.models import Campaign
from tracker.money import Money

GOOD = {
    "title": "Keep the lights on", "slug": "lights", "description": "Servers and coffee",
    "target": "5000", "currency": "USD", "period": "monthly", "timezone": "Europe/Berlin",
    "starts_at": "2026-01-01T00:00", "ends_at": "", "status": "active",
    "milestones-0-amount": "2500", "milestones-0-label": "Halfway",
    "theme": "dark", "accent": "#aa3300", "show_donors": "y",
}

GERMAN = {"title_de": "Das Licht anlassen", "description_de": "Server und Kaffee",
          "milestones-0-label_de": "Halbzeit"}


def test_every_problem_of_the_form_is_shown_on_one_submit(admin, make_campaign, count):
    make_campaign("taken")
    response = admin.post("/admin/campaigns/new", data=GOOD | {
        "slug": "taken", "title": "", "accent": "red", "ends_at": "2025-06-01T00:00",
        "milestones-1-amount": "12,5", "milestones-2-amount": "9000", "milestones-2-label": "Beyond",
        "milestones-3-amount": "100", "milestones-3-label": ""})
    assert response.status_code == 422
    assert "give a title" in field_errors(response.data, "title")
    assert "is taken" in field_errors(response.data, "slug")
    assert "accent is a colour" in field_errors(response.data, "accent")
    assert "the end must come after the start" in field_errors(response.data, "ends_at")
    assert "use a dot for decimals" in field_errors(response.data, "milestones-1-amount")
    assert "above the goal" in field_errors(response.data, "milestones-2-amount")
    assert "give the milestone a label" in field_errors(response.data, "milestones-3-label")
    assert count(Campaign) == 1


def test_domain_rules_are_shown_even_when_the_goal_does_not_parse(admin, make_campaign):
    make_campaign("taken")
    response = admin.post("/admin/campaigns/new", data=GOOD | {"target": "12,5", "slug": "taken"})
    assert response.status_code == 422
    assert "use a dot for decimals" in field_errors(response.data, "target")
    assert "is taken" in field_errors(response.data, "slug")
    assert "above the goal" not in response.data.decode()  # the goal is unknown: not judged


@pytest.mark.parametrize(("row", "field", "message"), [
    ({"milestones-0-amount": "5000.01"}, "milestones-0-amount", "above the goal"),
    ({"milestones-0-label": "  "}, "milestones-0-label", "give the milestone a label"),
])
def test_a_milestone_above_the_goal_or_without_a_label_is_refused(admin, count, row, field, message):
    response = admin.post("/admin/campaigns/new", data=GOOD | row)
    assert response.status_code == 422
    assert message in field_errors(response.data, field)
    assert count(Campaign) == 0


def test_a_milestone_at_the_goal_labels_the_goal(admin, app_session):
    response = admin.post("/admin/campaigns/new", data=GOOD | {"milestones-0-amount": "5000"})
    assert response.status_code == 302, response.data
    assert [m.amount_minor for m in get_campaign(app_session, "lights").milestones] == [500000]


def test_the_domain_refuses_bad_milestones_with_every_problem(session):
    data = CampaignInput(slug="x", title="X", target=Money.parse("100", "USD"), milestones=[
        MilestoneInput(Money.parse("150", "USD"), "Too far"), MilestoneInput(Money.parse("50", "USD"), "")])
    with pytest.raises(InvalidCampaign) as refused:
        save_campaign(session, data, actor=CLI)
    assert [(p.field, p.message.split(":")[0]) for p in refused.value.problems] == [
        ("milestones-0-amount", "a milestone cannot be above the goal"),
        ("milestones-1-label", "give the milestone a label")]
    assert session.query(Campaign).count() == 0


def test_the_status_field_says_a_draft_is_not_public(admin):
    page = admin.get("/admin/campaigns/new").data.decode()
    assert 'value="draft" selected' in page or "selected value=\"draft\"" in page
    assert "readers get “not found” (404)" in page
    german = admin.get("/admin/campaigns/new", headers={"Accept-Language": "de"}).data.decode()
    assert "„nicht gefunden“ (404), bis sie aktiv ist" in german


def test_german_texts_are_saved_shown_again_and_cleared(admin, app_session):
    page = admin.get("/admin/campaigns/new").data.decode()
    assert 'name="title_de"' in page and 'name="milestones-0-label_de"' in page
    assert "Title in German (optional)" in page
    response = admin.post("/admin/campaigns/new", data=GOOD | GERMAN | {"title_de": "  Das Licht anlassen "})
    assert response.status_code == 302, response.data
    campaign = get_campaign(app_session, "lights")
    assert campaign.translations == {"de": {"title": "Das Licht anlassen", "description": "Server und Kaffee"}}
    assert campaign.milestones[0].translations == {"de": {"label": "Halbzeit"}}
    edit = admin.get("/admin/campaigns/lights/edit").data.decode()
    assert 'value="Das Licht anlassen"' in edit and 'value="Halbzeit"' in edit and "Server und Kaffee" in edit
    response = admin.post("/admin/campaigns/lights/edit", data=GOOD | {"description_de": "Nur Kaffee"})
    assert response.status_code == 302, response.data
    app_session.rollback()  # a fresh read of what the app committed
    campaign = get_campaign(app_session, "lights")
    assert campaign.translations == {"de": {"description": "Nur Kaffee"}}
    assert campaign.milestones[0].translations == {}
    assert (campaign.text("title", "de"), campaign.text("description", "de")) == ("Keep the lights on", "Nur Kaffee")


def test_a_german_label_without_an_amount_is_refused(admin, count):
    response = admin.post("/admin/campaigns/new", data=GOOD | {"milestones-1-label_de": "Anfang"})
    assert response.status_code == 422
    assert "give the milestone an amount" in field_errors(response.data, "milestones-1-amount")
    assert count(Campaign) == 0


def test_an_over_long_german_title_is_refused_next_to_its_field(admin, count):
    response = admin.post("/admin/campaigns/new", data=GOOD | {"title_de": "x" * 201})
    assert response.status_code == 422
    assert field_errors(response.data, "title_de")
    assert count(Campaign) == 0


def test_the_form_asks_for_the_texts_of_each_locale_but_the_default(app):
    from tracker.campaigns.forms import campaign_form

    with app.test_request_context("/admin/campaigns/new"):
        assert "title_de" not in campaign_form(("en",), "en")._fields
        both = campaign_form(("de", "en", "fr"), "de")
        assert both.extra_locales == ("en", "fr")
        assert str(both["description_fr"].label.text) == "Description in French (optional)"
        assert "label_en" in both.milestones[0].form._fields


def test_translations_in_the_domain_are_checked_and_cleaned(session):
    base = CampaignInput(slug="x", title="X", target=Money.parse("100", "USD"),
                         milestones=[MilestoneInput(Money.parse("50", "USD"), "Half", {"de": {"label": "Hälfte"}})])
    with pytest.raises(InvalidCampaign) as refused:
        save_campaign(session, CampaignInput(**{**base.__dict__, "translations": {
            "de": {"title": "x" * 201}, "no such": {"title": "y"}, "fr": {"colour": "rouge"}}}), actor=CLI)
    assert [p.field for p in refused.value.problems] == ["title_de", "translations", "translations"]
    campaign = save_campaign(session, CampaignInput(**{**base.__dict__, "translations": {
        "de": {"title": " Titel ", "description": "  "}, "fr": {"title": ""}}}), actor=CLI)
    assert campaign.translations == {"de": {"title": "Titel"}}
    assert campaign.milestones[0].translations == {"de": {"label": "Hälfte"}}
    # None keeps what the campaign and an existing milestone have (the CLI's edit passes none).
    kept = save_campaign(session, CampaignInput(slug="x", title="Y", target=Money.parse("100", "USD"),
                                                milestones=[MilestoneInput(Money.parse("50", "USD"), "Half")]),
                         actor=CLI, campaign=campaign)
    assert kept.translations == {"de": {"title": "Titel"}}
    assert kept.milestones[0].translations == {"de": {"label": "Hälfte"}}
    assert (kept.text("title", "de_AT"), kept.text("title", "en"), kept.text("title", None)) == ("Titel", "Y", "Y")
    assert kept.milestones[0].text("label", "de") == "Hälfte"


def test_a_backup_carries_the_translations_back(session, make_campaign, make_donation):
    campaign = make_campaign("lights", translations={"de": {"title": "Licht", "description": "Strom"}})
    campaign.milestones[0].translations = {"de": {"label": "Halbzeit"}}
    make_donation(campaign, "10")
    out = io.StringIO()
    export_json(session, out)
    backup = json.loads(out.getvalue())
    assert backup["campaigns"][0]["translations"] == {"de": {"title": "Licht", "description": "Strom"}}
    session.close()
    clean_database(session.get_bind())
    report = import_json(session, backup, actor=CLI)
    session.commit()
    assert report.errors == [] and report.created_campaigns == ["lights"]
    restored = get_campaign(session, "lights")
    assert restored.translations == {"de": {"title": "Licht", "description": "Strom"}}
    assert restored.milestones[0].translations == {"de": {"label": "Halbzeit"}}
    # A backup made before translations existed has none: the campaign comes back with none.
    for item in backup["campaigns"]:
        item.pop("translations")
        item["slug"] = "older"
        for milestone in item["milestones"]:
            milestone.pop("translations")
    backup["donations"] = []
    assert import_json(session, backup, actor=CLI).created_campaigns == ["older"]
    assert get_campaign(session, "older").translations == {}


def test_a_backup_with_bad_translations_reports_the_campaign_and_saves_nothing_of_it(session):
    backup = {"format": FORMAT, "version": VERSION, "campaigns": [{
        "slug": "x", "title": "X", "currency": "USD", "target": "100", "period": "once", "timezone": "UTC",
        "status": "active", "translations": ["de"], "milestones": [{"amount": "50", "label": "Half",
                                                                    "translations": {"de": {"label": 5}}}]}]}
    report = import_json(session, backup, actor=CLI)
    assert report.created_campaigns == [] and "translations" in report.errors[0][1]
    assert session.query(Campaign).count() == 0


def test_texts_of_a_locale_the_form_no_longer_offers_are_kept(session, make_campaign, app):
    from tracker.campaigns.forms import campaign_form

    campaign = make_campaign("lights", translations={"de": {"title": "Licht"}, "fr": {"title": "Lumière"}})
    campaign.milestones[0].translations = {"fr": {"label": "Moitié"}}
    session.commit()
    data = {key: value for key, value in GOOD.items()} | {"slug": "lights", "title_de": "Neues Licht"}
    with app.test_request_context("/admin/campaigns/lights/edit", method="POST", data=data):
        form = campaign_form(("en", "de"), "en")
        assert form.validate(), form.errors
        typed = form.to_input(campaign)
    assert typed.translations == {"fr": {"title": "Lumière"}, "de": {"title": "Neues Licht"}}
    assert typed.milestones[0].translations == {"fr": {"label": "Moitié"}}


def test_the_refusal_names_every_problem_for_the_cli(session):
    data = CampaignInput(slug="Bad Slug", title="", target=Money.parse("100", "USD"))
    with pytest.raises(InvalidCampaign, match="the slug uses lower-case letters.*; give a title"):
        save_campaign(session, data, actor=CLI)

"""Campaign pages: create, edit, archive, milestones, display options, embed codes; bad money input."""

from __future__ import annotations

import pytest
from admin_helpers import field_errors

from tracker.campaigns.operations import get_campaign
from tracker.models import Campaign

GOOD = {
    "title": "Keep the lights on", "slug": "lights", "description": "Servers and coffee",
    "target": "5000", "currency": "USD", "period": "monthly", "timezone": "Europe/Berlin",
    "starts_at": "2026-01-01T00:00", "ends_at": "", "status": "active",
    "milestones-0-amount": "2500", "milestones-0-label": "Halfway",
    "milestones-1-amount": "1,000.50", "milestones-1-label": "A start",
    "theme": "dark", "accent": "#aa3300", "show_donors": "y", "show_days_left": "y",
}


def test_create_campaign(admin, app_session):
    assert admin.get("/admin/campaigns/new").status_code == 200
    response = admin.post("/admin/campaigns/new", data=GOOD)
    assert response.status_code == 302, response.data
    assert response.headers["Location"] == "/admin/campaigns/lights"
    campaign = get_campaign(app_session, "lights")
    assert (campaign.target_minor, campaign.currency, campaign.period) == (500000, "USD", "monthly")
    assert campaign.timezone == "Europe/Berlin"
    # Typed in Berlin time: midnight on 1 January is 23:00 UTC the day before.
    assert campaign.starts_at.isoformat() == "2025-12-31T23:00:00+00:00"
    assert [(m.amount_minor, m.label) for m in campaign.milestones] == [(100050, "A start"), (250000, "Halfway")]
    assert campaign.display == {"theme": "dark", "accent": "#aa3300", "show_donors": True,
                                "show_pending": False, "show_days_left": True}
    page = admin.get("/admin/campaigns/lights")
    assert b"Keep the lights on" in page.data
    assert b"Set raised to" in page.data


@pytest.mark.parametrize(("target", "currency", "field", "message"), [
    ("12,50", "USD", "target", "use a dot for decimals: 12.50"),
    ("1e3", "USD", "target", "exponent notation is not accepted"),
    ("-5", "USD", "target", "the amount must be positive"),
    ("12.345", "USD", "target", "USD has 2 decimal places"),
    ("100", "", "currency", "choose a currency"),
    ("100", "XYZ", "currency", "unknown currency"),
    ("", "USD", "target", "enter an amount"),
    ("Infinity", "USD", "target", "is not a number"),
])
def test_bad_money_is_shown_next_to_the_field(admin, count, target, currency, field, message):
    response = admin.post("/admin/campaigns/new", data=GOOD | {"target": target, "currency": currency})
    assert response.status_code == 422
    assert message in field_errors(response.data, field)
    assert count(Campaign) == 0


def test_bad_milestone_and_domain_rule_errors_are_shown_next_to_fields(admin, make_campaign, count):
    make_campaign("taken")
    response = admin.post("/admin/campaigns/new", data=GOOD | {"milestones-1-amount": "12,5"})
    assert response.status_code == 422
    assert "use a dot for decimals" in field_errors(response.data, "milestones-1-amount")
    response = admin.post("/admin/campaigns/new", data=GOOD | {"slug": "taken"})
    assert response.status_code == 422
    assert "is taken" in field_errors(response.data, "slug")
    response = admin.post("/admin/campaigns/new", data=GOOD | {"accent": "red"})
    assert response.status_code == 422
    assert "accent is a colour" in field_errors(response.data, "accent")
    response = admin.post("/admin/campaigns/new", data=GOOD | {"ends_at": "2025-06-01T00:00"})
    assert "the end must come after the start" in field_errors(response.data, "ends_at")
    assert count(Campaign) == 1


def test_edit_campaign_keeps_what_is_not_changed(admin, make_campaign, app_session):
    make_campaign("demo", milestones=(("2500", "Halfway"),))
    page = admin.get("/admin/campaigns/demo/edit")
    assert b'value="5000.00"' in page.data and b'value="Halfway"' in page.data
    response = admin.post("/admin/campaigns/demo/edit", data=GOOD | {"slug": "demo", "title": "Renamed",
                                                                      "milestones-1-amount": "", "milestones-1-label": ""})
    assert response.status_code == 302
    campaign = get_campaign(app_session, "demo")
    assert campaign.title == "Renamed"
    assert [m.label for m in campaign.milestones] == ["Halfway"]
    response = admin.post("/admin/campaigns/demo/edit", data=GOOD | {"slug": "demo", "currency": "EUR"})
    assert response.status_code == 422
    assert "cannot change" in field_errors(response.data, "currency")


def test_archive_and_reactivate(admin, make_campaign, app_session, events):
    make_campaign("demo")
    response = admin.post("/admin/campaigns/demo/status", data={"status": "archived"})
    assert response.status_code == 302
    app_session.rollback()
    assert get_campaign(app_session, "demo").status == "archived"
    assert len(events("campaign.archived")) == 1
    assert admin.post("/admin/campaigns/demo/status", data={"status": "archived"}).status_code == 409


def test_embed_codes_and_preview(admin, make_campaign):
    make_campaign("demo", title="Demo <b>drive</b>")
    html = admin.get("/admin/campaigns/demo").data.decode()
    for snippet in ("/widget/demo", "/widget/demo.svg", "/api/v1/campaigns/demo", "[![Demo &lt;b&gt;drive&lt;/b&gt;]",
                    "data-tracker-campaign=&#34;demo&#34;", 'data-copy="embed-iframe"'):
        assert snippet in html, snippet
    assert "<b>drive</b>" not in html  # a title is text, never markup
    if any(rule.rule == "/widget/<slug>" for rule in admin.application.url_map.iter_rules()):
        assert '<iframe class="widget-preview" src="/widget/demo?v=' in html


def test_set_raised_to_records_an_adjustment(admin, make_campaign, make_donation, donations):
    campaign = make_campaign("demo")
    make_donation(campaign, "100")
    missing_reason = admin.post("/admin/campaigns/demo/raised", data={"amount": "250", "reason": ""})
    assert missing_reason.status_code == 422
    bad = admin.post("/admin/campaigns/demo/raised", data={"amount": "250,5", "reason": "bank"})
    assert bad.status_code == 422
    assert "use a dot" in field_errors(bad.data, "amount")
    response = admin.post("/admin/campaigns/demo/raised", data={"amount": "250", "reason": "bank statement"})
    assert response.status_code == 302
    adjustment = donations()[-1]
    assert (adjustment.source, adjustment.amount_minor, adjustment.reason) == ("adjustment", 15000, "bank statement")
    assert b"$250" in admin.get("/admin/campaigns/demo").data


def test_campaign_list_and_missing_campaign(admin, make_campaign):
    make_campaign("demo")
    assert b"/admin/campaigns/demo" in admin.get("/admin/campaigns").data
    assert admin.get("/admin/campaigns/nope").status_code == 404


def _preview_src(admin, slug):
    import re

    page = admin.get(f"/admin/campaigns/{slug}").get_data(as_text=True)
    return re.search(r'<iframe class="widget-preview" src="([^"]+)"', page).group(1).replace("&amp;", "&")


def test_widget_preview_is_a_new_address_whenever_its_figures_change(admin, demo, make_donation):
    first = _preview_src(admin, "demo")
    assert first.startswith("/widget/demo?v=")
    assert _preview_src(admin, "demo") == first  # unchanged figures: the browser may keep it
    before = admin.get(first).get_data(as_text=True)
    make_donation(demo, "100")
    second = _preview_src(admin, "demo")
    assert second != first
    after = admin.get(second)
    assert after.status_code == 200
    assert "2,260" in after.get_data(as_text=True) and "2,260" not in before


def test_goal_currency_is_read_only_on_the_edit_form_with_the_reason(admin, make_campaign):
    import re

    make_campaign("demo")
    page = admin.get("/admin/campaigns/demo/edit").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="currency"[^>]*>', page).group(0)
    assert "readonly" in tag and 'value="USD"' in tag and 'aria-describedby="currency-hint"' in tag
    hint = re.search(r'<small class="hint" id="currency-hint">([^<]+)</small>', page).group(1)
    assert "Cannot be changed" in hint and "kept in USD" in hint
    new = admin.get("/admin/campaigns/new").get_data(as_text=True)
    assert "readonly" not in re.search(r'<input[^>]*name="currency"[^>]*>', new).group(0)

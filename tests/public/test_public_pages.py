"""The support page and campaign pages, as a reader sees them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from public_helpers import CLI, page_text, parse_html

from tracker.accounts.operations import SERVER_SHELL
from tracker.campaigns.operations import set_status
from tracker.campaigns.progress import period_window
from tracker.coins import payment_uri
from tracker.demo import DEMO_BCH_ADDRESS, DEMO_BTC_ADDRESS
from tracker.donations.rates import record_rate
from tracker.models import utcnow
from tracker.payments.operations import PaymentMethodInput, save_payment_method


def test_support_page_shows_the_goal_like_the_reference_page(client, demo_site):
    response = client.get("/support")
    assert response.status_code == 200
    page, text = parse_html(response.data), page_text(response.data)
    assert page.find("h1")[0].text == "Support Example News"
    assert "Your support keeps our reporting independent and free to read." in text
    (bar,) = page.find(role="progressbar")
    assert (bar.attrs["aria-valuemin"], bar.attrs["aria-valuenow"], bar.attrs["aria-valuemax"]) == (
        "0", "2160.00", "5000.00")
    assert "$2,160 raised of $5,000" in text
    assert page.find("rect", class_="progress-fill")[0].attrs["width"] == "43.2%"
    assert page.find("line", class_="progress-tick")[0].attrs["x1"] == "50%"
    ticks = " ".join(page.find("ol", class_="progress-ticks")[0].text.split())
    assert ticks == "$0 $2,500 Halfway: hosting and tools are paid $5,000"
    assert "days left" in text


def test_each_address_is_shown_exactly_with_qr_copy_and_wallet_link(client, demo_site):
    page = parse_html(client.get("/support").data)
    for method in (demo_site.btc, demo_site.bch):
        code = page.by_id(f"address-{method.id}")
        assert code.tag == "code" and code.text == method.target  # the copied text is exact
        (img,) = [e for e in page.find("img") if e.attrs["src"].startswith(f"/qr/{method.id}.svg?v=")]
        assert method.target in img.attrs["alt"]
        (button,) = page.find("button", data_copy_target=f"address-{method.id}")
        assert "hidden" in button.attrs  # shown by support.js only: without JS it would do nothing
        # The wallet shows the label as who is paid: the publication, not the coin.
        uri = payment_uri(method.coin, method.target, label="Example News")
        assert page.find("a", href=uri)[0].text == f"Open in your {method.label} wallet"
    assert page.find("a", href="mailto:support@example.org")
    assert page.find("script", src="/static/js/support.js")


def test_presets_show_the_coin_amount_and_the_rates_age(client, demo_site):
    response = client.get("/support")
    page, text = parse_html(response.data), page_text(response.data)
    assert "$10 ≈ 0.00016667 BTC" in text
    assert "$10 ≈ 0.025 BCH" in text
    # The demo's rates are from the day before the month began, in the campaign's zone (Berlin).
    start, _end = period_window("monthly", "Europe/Berlin", utcnow())
    day = (start - timedelta(days=1)).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"Approximate, at the rate of {day:%B} {day.day}, {day.year}: 1 BTC = 60,000 USD." in text
    assert "Your wallet shows the exact amount before you send." in text
    uri = payment_uri("BTC", DEMO_BTC_ADDRESS, Decimal("0.00016667"), label="Example News")
    assert " ".join(page.find("a", href=uri)[0].text.split()) == "$10 ≈ 0.00016667 BTC"
    assert [a for a in page.find("a", class_="preset-qr") if "amount=0.00016667" in a.attrs["href"]]


def test_readers_see_a_plain_sentence_about_the_rate_not_where_it_came_from(client, session, demo_site):
    text = page_text(client.get("/support").data)
    for developer_words in ("demo:", "example rate", "rate from", "ago (", "(manual)"):
        assert developer_words not in text
    record_rate(session, "BTC", "USD", "61000", utcnow() - timedelta(minutes=5), "manual", CLI)
    session.commit()
    text = page_text(client.get("/support").data)
    assert "Approximate, at today's rate: 1 BTC = 61,000 USD. Your wallet shows the exact amount before you send." in text
    assert "manual" not in text
    german = page_text(client.get("/support?locale=de").data)
    assert "Ungefähr, zum heutigen Kurs: 1 BTC = 61.000 USD." in german
    day = (period_window("monthly", "Europe/Berlin", utcnow())[0] - timedelta(days=1)).astimezone(
        ZoneInfo("Europe/Berlin"))
    german_months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                     "Oktober", "November", "Dezember"]
    assert f"zum Kurs vom {day.day}. {german_months[day.month - 1]} {day.year}: 1 BCH = 400 USD." in german


def test_no_rate_means_no_presets_for_that_coin(client, session, add_method, make_campaign):
    make_campaign()
    add_method(label="Bitcoin")
    record_rate(session, "BCH", "USD", "400", utcnow() - timedelta(days=1), "desk", CLI)
    add_method("BCH", DEMO_BCH_ADDRESS, label="Bitcoin Cash")
    text = page_text(client.get("/support").data)
    assert "≈ 0.025 BCH" in text
    assert "BTC" not in text.split("Bitcoin Cash")[0].split("Ways to give")[1]  # no BTC preset, no error


def test_donor_wall_escapes_what_donors_typed_newest_first(client, session, demo_site, make_donation):
    make_donation(demo_site.campaign, "5", donor_name="<script>alert(1)</script>",
                 message='<img src=x onerror="alert(2)">', is_public=True)
    response = client.get("/support")
    assert b"<script>alert(1)" not in response.data
    assert b"<img src=x" not in response.data
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.data
    names = [" ".join(e.text.split()[:2]) for e in parse_html(response.data).find("p", class_="donor-name")]
    assert names[0].startswith("<script>alert(1)</script>")
    assert names[1].startswith("Satoshi fan") and names[-1].startswith("Anna K.")
    assert b"For the climate desk &lt;3" in response.data


def test_donor_wall_pages(client, session, make_campaign, make_donation):
    campaign = make_campaign()
    start = utcnow() - timedelta(days=2)
    for index in range(25):
        make_donation(campaign, "1", donor_name=f"Donor {index:02d}", is_public=True,
                     received_at=start + timedelta(minutes=index))
    first = parse_html(client.get("/support").data)
    assert len(first.find("li", class_="donor")) == 20
    (older,) = first.find("a", rel="next")
    assert older.attrs["href"].startswith("/support?older=") and older.attrs["href"].endswith("#donors")
    second = client.get(older.attrs["href"].split("#")[0])
    names = [e.text.split("\n")[0].strip() for e in parse_html(second.data).find("p", class_="donor-name")]
    assert names == [f"Donor {i:02d}" for i in range(4, -1, -1)]
    assert parse_html(second.data).find("a", rel="next") == [] and parse_html(second.data).find("a", rel="prev")
    for edited in ("abc", "2026-01-01T00:00:00~", "2026-01-01~5", "２０２６-01-01T00:00:00+00:00~1", "x" * 500):
        bad = client.get("/support", query_string={"older": edited})
        assert bad.status_code == 400, edited
        assert "this page link is not one of ours" in page_text(bad.data)


def test_pending_gifts_are_shown_apart(client, session, make_campaign, make_donation):
    campaign = make_campaign(target="1000", milestones=(("500", "Halfway"),))
    make_donation(campaign, "200")
    make_donation(campaign, "100", status="pending")
    response = client.get("/support")
    text = page_text(response.data)
    assert "$200 raised of $1,000" in text
    assert "$100 more is pending (1 gift not yet confirmed)" in text
    pending = parse_html(response.data).find("rect", class_="progress-pending")[0]
    assert (pending.attrs["x"], pending.attrs["width"]) == ("20%", "10%")


def test_support_page_with_an_empty_database(client):
    response = client.get("/support")
    assert response.status_code == 200
    text = page_text(response.data)
    assert "There is no active campaign right now." in text
    assert "No ways to give have been set up yet." in text
    assert "No supporters have chosen to appear here yet." in text
    assert not parse_html(response.data).find("img")


def test_only_active_campaigns_and_methods_are_listed(client, session, add_method, make_campaign):
    make_campaign("live", title="Live goal")
    make_campaign("sketch", title="Draft goal", status="draft")
    add_method(label="Old wallet", active=False)
    add_method("BCH", DEMO_BCH_ADDRESS, label="Bitcoin Cash")
    add_method("liberapay", "https://liberapay.example/news", kind="link", label="Liberapay")
    response = client.get("/support")
    text = page_text(response.data)
    assert "Live goal" in text and "Draft goal" not in text
    assert "Old wallet" not in text and DEMO_BTC_ADDRESS not in response.data.decode()
    assert parse_html(response.data).find("a", href="https://liberapay.example/news")[0].text == "Liberapay"


def test_campaign_page_has_the_same_parts_and_oembed_discovery(client, demo_site):
    response = client.get("/c/demo")
    assert response.status_code == 200
    page, text = parse_html(response.data), page_text(response.data)
    assert page.find("h1")[0].text == "Keep our reporting independent"
    assert "$2,160 raised of $5,000" in text
    assert page.by_id(f"address-{demo_site.btc.id}").text == demo_site.btc.target
    assert "Satoshi fan" in text
    (oembed,) = page.find("link", rel="alternate")
    assert oembed.attrs["type"] == "application/json+oembed"
    assert oembed.attrs["href"] == ("http://127.0.0.1:5000/oembed?url=http%3A%2F%2F127.0.0.1%3A5000%2Fc%2Fdemo"
                                    "&format=json")
    assert page.find("link", rel="canonical")[0].attrs["href"] == "http://127.0.0.1:5000/c/demo"


def test_campaign_page_shows_only_its_own_donors(client, session, demo_site, make_campaign, make_donation):
    other = make_campaign("other", title="Other goal")
    make_donation(other, "5", donor_name="Only here", is_public=True)
    assert "Only here" in page_text(client.get("/c/other").data)
    assert "Only here" not in page_text(client.get("/c/demo").data)
    assert "Only here" in page_text(client.get("/support").data)  # every active campaign's donors
    set_status(session, other, "archived", actor=CLI)
    session.commit()
    assert "Only here" not in page_text(client.get("/support").data)
    assert "Only here" in page_text(client.get("/c/other").data)


def test_archived_campaign_page_says_it_ended_and_drafts_are_not_found(client, session, make_campaign):
    ended = make_campaign("ended", title="Last year's drive")
    set_status(session, ended, "archived", actor=CLI)
    session.commit()
    make_campaign("secret", status="draft")
    response = client.get("/c/ended")
    assert response.status_code == 200
    assert "This campaign has ended." in page_text(response.data)
    for slug in ("secret", "no-such-goal"):
        missing = client.get(f"/c/{slug}")
        assert missing.status_code == 404
        assert "Not found" in page_text(missing.data)


def test_changing_an_address_changes_the_qr_image_url(client, session, demo_site):
    before = client.get("/support").data.decode()
    save_payment_method(session, PaymentMethodInput(
        kind="address", coin="BTC", target="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", label="Bitcoin"),
        actor=CLI, method=session.get(type(demo_site.btc), demo_site.btc.id), proof=SERVER_SHELL)
    session.commit()
    after = client.get("/support").data.decode()
    src = [e.attrs["src"] for e in parse_html(before).find("img") if e.attrs["src"].startswith(f"/qr/{demo_site.btc.id}.")]
    src_after = [e.attrs["src"] for e in parse_html(after).find("img")
                 if e.attrs["src"].startswith(f"/qr/{demo_site.btc.id}.")]
    assert src != src_after  # a cached image of the old address is never reused


def test_donor_dates_are_valid_time_elements_without_microseconds(client, demo_site, make_donation):
    import re

    make_donation(demo_site.campaign, "5", donor_name="Precise", is_public=True,
                  received_at=utcnow().replace(microsecond=123456))
    times = parse_html(client.get("/support").data).find("time")
    assert times
    for element in times:
        # HTML's "valid global date and time string" allows fractions, but the Nu checker and
        # readers gain nothing from them; seconds are enough.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", element.attrs["datetime"]), element.attrs


def test_addresses_carry_no_aria_label_that_a_code_element_may_not_have(client, demo_site):
    page = parse_html(client.get("/support").data)
    for element in page.find("code"):
        assert "aria-labelledby" not in element.attrs and "aria-label" not in element.attrs


def test_the_support_page_says_how_far_to_go_and_counts_supporters_like_the_widget(client, demo_site):
    text = page_text(client.get("/support").data)
    assert "$2,840 still to go · 40 supporters this period" in text
    # The percent is written as the widget writes it: whole, rounded down.
    assert "(43%)" in text and "43.2" not in text
    assert "43%" in client.get("/widget/demo").get_data(as_text=True)
    german = page_text(client.get("/support?locale=de").data)
    assert "Noch 2.840 $ bis zum Ziel · 40 Unterstützer*innen in diesem Zeitraum" in german
    assert "(43 %)" in german


def test_a_reached_goal_is_said_on_the_support_page(client, demo_site, make_donation):
    make_donation(demo_site.campaign, "3000")
    page = parse_html(client.get("/support").data)
    (status,) = page.find("p", class_="progress-status")
    assert " ".join(status.text.split()).startswith("Goal reached, thank you! $160 beyond it")


def test_donor_dates_are_the_days_of_the_campaigns_time_zone(client, make_campaign, make_donation):
    from datetime import datetime, timezone

    campaign = make_campaign("berlin", tz="Europe/Berlin")
    # 23:30 UTC on 30 November is 00:30 on 1 December in Berlin.
    make_donation(campaign, "5", donor_name="Late", is_public=True,
                  received_at=datetime(2026, 11, 30, 23, 30, tzinfo=timezone.utc))
    text = page_text(client.get("/c/berlin").data)
    assert "Late Dec 1, 2026" in text and "Nov 30, 2026" not in text


def test_readers_pages_have_a_footer_with_name_contact_and_a_privacy_line(clean_db, settings_factory, demo_site):
    from tracker import create_app

    default = create_app(settings_factory()).test_client()
    text = page_text(default.get("/support").data)
    assert "This page sets no cookies and loads nothing from other sites." in text
    assert "Diese Seite setzt keine Cookies" in page_text(default.get("/support?locale=de").data)
    configured = create_app(settings_factory(**{"site.contact": "desk@news.example",
                                                "site.privacy_note": "We keep no logs."})).test_client()
    page = parse_html(configured.get("/support").data)
    (footer,) = page.find("footer")
    assert page.find("a", href="mailto:desk@news.example") and "We keep no logs." in footer.text
    hostile = create_app(settings_factory(**{"site.contact": "javascript:alert(1)"})).test_client()
    assert b'href="javascript:' not in hostile.get("/support").data
    hidden = create_app(settings_factory(**{"site.show_footer": False})).test_client()
    assert not parse_html(hidden.get("/support").data).find("footer")

"""Domain queries behind the back office: daily totals per local day, chart geometry, pages."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tracker.admin.chart import daily_chart
from tracker.audit import Actor
from tracker.donations.ledger import refund_donation
from tracker.donations.queries import MAX_CHART_DAYS, DonationFilter, chart_days, daily_totals, find_donations
from tracker.web.embeds import embed_codes


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_daily_totals_follow_the_campaign_time_zone(session, make_campaign, make_donation):
    campaign = make_campaign("ny", period="monthly", tz="America/New_York")
    other = make_campaign("other", period="monthly")
    make_donation(campaign, "10", received_at=utc("2026-11-10 03:00"))   # 9 Nov, 22:00 in New York
    make_donation(campaign, "20", received_at=utc("2026-11-10 06:00"))   # 10 Nov, 01:00
    make_donation(campaign, "5", received_at=utc("2026-11-02 04:30"))    # 1 Nov, 23:30 (a 25-hour day)
    make_donation(campaign, "-3", received_at=utc("2026-11-10 07:00"), source="adjustment", reason="fee")
    refunded = make_donation(campaign, "1000", received_at=utc("2026-11-10 08:00"))
    refund_donation(session, refunded, actor=Actor.cli(), reason="test")
    make_donation(campaign, "7", received_at=utc("2026-11-11 12:00"), status="pending")
    make_donation(campaign, "40", received_at=utc("2026-10-31 12:00"))   # the previous month
    make_donation(other, "99", received_at=utc("2026-11-10 06:00"))
    session.commit()
    totals = daily_totals(session, campaign, now=utc("2026-11-12 15:00"))
    assert [t.day for t in totals] == [date(2026, 11, d) for d in range(1, 13)]
    by_day = {t.day.day: t.total.minor for t in totals}
    # "Set raised to" adjustments are not gifts: they are kept apart, never a best day.
    assert by_day[1] == 500 and by_day[9] == 1000 and by_day[10] == 2000
    assert sum(by_day.values()) == 3500
    assert [(t.day.day, t.adjusted.minor) for t in totals if t.adjusted] == [(10, -300)]
    assert {t.day.day: t.gifts for t in totals if t.gifts} == {1: 1, 9: 1, 10: 1}


def test_chart_days_are_bounded(make_campaign):
    yearly = make_campaign("yearly", period="yearly")
    days = chart_days(yearly, utc("2026-12-31 12:00"))
    assert len(days) == MAX_CHART_DAYS and days[-1] == date(2026, 12, 31)
    once = make_campaign("once", period="once")
    assert len(chart_days(once, utc("2026-12-31 12:00"))) == 30


def test_chart_geometry_draws_gifts_and_not_adjustments(session, make_campaign, make_donation):
    campaign = make_campaign("demo", period="monthly")
    make_donation(campaign, "30", received_at=utc("2026-11-01 10:00"))
    make_donation(campaign, "10", received_at=utc("2026-11-02 10:00"))
    make_donation(campaign, "-500", received_at=utc("2026-11-02 11:00"), source="adjustment", reason="fix")
    chart = daily_chart(daily_totals(session, campaign, now=utc("2026-11-03 10:00")), width=300, height=104)
    first, second, third = chart.bars
    assert first.y + first.height == chart.baseline == second.y + second.height
    assert first.height == pytest.approx(3 * second.height, abs=0.02)
    assert third.height == 0
    assert daily_chart([]) is None


def test_the_day_totals_stay_exact_through_corrections_refunds_and_a_new_time_zone(session, make_campaign,
                                                                                   make_donation):
    from tracker.campaigns.operations import CampaignInput, save_campaign
    from tracker.donations.ledger import correct_donation, verify_totals
    from tracker.money import Money

    campaign = make_campaign("demo", period="monthly")
    gift = make_donation(campaign, "30", received_at=utc("2026-11-01 23:30"))
    correct_donation(session, gift, campaign, actor=Actor.cli(), received_at=utc("2026-11-05 10:00"), reason="date")
    other = make_donation(campaign, "5", received_at=utc("2026-11-02 10:00"))
    refund_donation(session, other, actor=Actor.cli(), reason="test")
    assert verify_totals(session, campaign) == []
    save_campaign(session, CampaignInput(slug="demo", title="Demo", target=Money.parse("5000", "USD"),
                                         period="monthly", timezone="Asia/Tokyo", status="active"),
                  actor=Actor.cli(), campaign=campaign)
    assert verify_totals(session, campaign) == []


def test_find_donations_pages(session, make_campaign, make_donation):
    campaign = make_campaign("demo")
    for _ in range(5):
        make_donation(campaign, "1")
    gifts = [make_donation(campaign, "1", received_at=utc(f"2026-11-0{day} 10:00")) for day in (1, 2, 3)]
    first = find_donations(session, DonationFilter(campaign_id=campaign.id), per_page=3)
    assert first.newer is None and first.older is not None and len(first.items) == 3
    second = find_donations(session, DonationFilter(campaign_id=campaign.id), older_than=first.older, per_page=3)
    ids = [d.id for d in first.items + second.items]
    assert len(set(ids)) == 6 and second.older is not None  # newest first, no row twice
    third = find_donations(session, DonationFilter(campaign_id=campaign.id), older_than=second.older, per_page=3)
    assert [d.id for d in third.items] == [g.id for g in reversed(gifts)][1:] and third.older is None
    back = find_donations(session, DonationFilter(campaign_id=campaign.id), newer_than=second.newer, per_page=3)
    assert [d.id for d in back.items] == [d.id for d in first.items] and back.newer is None


def test_embed_codes_escape_the_title():
    codes = {c.key: c.code for c in embed_codes("demo", 'A "quoted" [title]', base="https://news.example")}
    assert codes["iframe"].startswith('<iframe class="reader-support-widget" src="https://news.example/widget/demo?variant=card" '
                                      'title="A &#34;quoted&#34;')
    assert codes["markdown"] == "[![A \"quoted\" title](https://news.example/widget/demo.svg)](https://news.example/c/demo)"
    assert codes["script"].startswith('<script src="https://news.example/embed.js" async></script>')
    assert codes["json"] == "https://news.example/api/v1/campaigns/demo"


def test_the_chart_has_a_value_axis_in_the_goal_currency_and_date_labels(session, make_campaign, make_donation):
    campaign = make_campaign("demo", period="monthly")
    make_donation(campaign, "120", received_at=utc("2026-11-03 10:00"))
    make_donation(campaign, "35.50", received_at=utc("2026-11-05 10:00"))
    totals = daily_totals(session, campaign, now=utc("2026-11-30 10:00"))
    chart = daily_chart(totals)
    assert [tick.text for tick in chart.ticks] == ["$0", "$50", "$100", "$150"]
    zero, *_, top = chart.ticks
    assert zero.y == chart.baseline and top.y < chart.bars[2].y  # the best bar stays under the top line
    # The bar of $120 reaches 120/150 of the way from the baseline to the top gridline.
    assert chart.baseline - chart.bars[2].y == pytest.approx(0.8 * (chart.baseline - top.y), abs=0.02)
    assert chart.plot_left > len("$150") * 10  # room for the longest amount left of the plot
    labels = [day.text for day in chart.days]
    assert labels == ["Nov 6", "Nov 12", "Nov 18", "Nov 24", "Nov 30"]  # today always has its date
    assert all(0 <= day.x <= chart.width for day in chart.days)
    assert (chart.maximum.minor, chart.best_day, chart.total.minor) == (12000, "Nov 3", 15550)
    german = daily_chart(totals, locale="de")
    assert [tick.text for tick in german.ticks][-1] == "150\u00a0$" and german.days[-1].text == "30. Nov."


def test_the_value_axis_steps_are_round_amounts():
    from tracker.admin.chart import nice_step

    assert [nice_step(span) for span in (0, 1, 7, 12000, 30000, 98000, 10**9)] == [
        1, 1, 2, 5000, 10000, 50000, 500_000_000]

"""Progress: period windows in the campaign's zone, days left, percent, milestones, past periods."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from factories import counting_statements, new_donation

from tracker.campaigns.progress import (
    campaign_progress,
    day_bounds,
    days_left,
    past_periods,
    percent_of,
    period_label,
    period_window,
)
from tracker.money import Money

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("period, tz, at, start, end", [
    # Month ends: January 31st belongs to January; February is 28 days in 2027.
    ("monthly", "UTC", utc(2027, 1, 31, 23, 59), utc(2027, 1, 1), utc(2027, 2, 1)),
    ("monthly", "UTC", utc(2027, 2, 15), utc(2027, 2, 1), utc(2027, 3, 1)),
    ("monthly", "UTC", utc(2028, 2, 29, 12), utc(2028, 2, 1), utc(2028, 3, 1)),
    # Berlin: midnight is 23:00 UTC in winter, 22:00 UTC in summer; March holds the DST switch.
    ("monthly", "Europe/Berlin", utc(2026, 3, 15), utc(2026, 2, 28, 23), utc(2026, 3, 31, 22)),
    # Winter time since October 25th: 23:30 UTC on Oct 31st is already November in Berlin,
    # 22:59 UTC is still October (whose start was in summer time, 22:00 UTC).
    ("monthly", "Europe/Berlin", utc(2026, 10, 31, 23, 30), utc(2026, 10, 31, 23), utc(2026, 11, 30, 23)),
    ("monthly", "Europe/Berlin", utc(2026, 10, 31, 22, 59), utc(2026, 9, 30, 22), utc(2026, 10, 31, 23)),
    ("quarterly", "America/New_York", utc(2026, 11, 25), utc(2026, 10, 1, 4), utc(2027, 1, 1, 5)),
    ("quarterly", "UTC", utc(2026, 3, 31, 23, 59), utc(2026, 1, 1), utc(2026, 4, 1)),
    ("yearly", "Asia/Kolkata", utc(2026, 12, 31, 18, 29), utc(2025, 12, 31, 18, 30), utc(2026, 12, 31, 18, 30)),
    ("yearly", "Asia/Kolkata", utc(2026, 12, 31, 18, 30), utc(2026, 12, 31, 18, 30), utc(2027, 12, 31, 18, 30)),
    # Santiago skips midnight when DST starts (September 6th 2026): the period starts at 01:00.
    ("monthly", "America/Santiago", utc(2026, 9, 10), utc(2026, 9, 1, 4), utc(2026, 10, 1, 3)),
])
def test_period_windows_follow_local_midnight(period, tz, at, start, end):
    assert period_window(period, tz, at) == (start, end)


def test_the_month_with_the_dst_change_is_an_hour_shorter_or_longer():
    start, end = period_window("monthly", "Europe/Berlin", utc(2026, 3, 10))
    assert end - start == timedelta(days=31, hours=-1)
    start, end = period_window("monthly", "Europe/Berlin", utc(2026, 10, 10))
    assert end - start == timedelta(days=31, hours=1)
    assert day_bounds(datetime(2026, 10, 25).date(), "Europe/Berlin")[1] - \
        day_bounds(datetime(2026, 10, 25).date(), "Europe/Berlin")[0] == timedelta(hours=25)


def test_once_has_no_window():
    assert period_window("once", "UTC", utc(2026, 1, 1)) is None


@pytest.mark.parametrize("end, now, tz, left", [
    (utc(2026, 12, 1), utc(2026, 11, 25, 10), "UTC", 6),      # 25th..30th
    (utc(2026, 12, 1), utc(2026, 11, 30, 23, 59), "UTC", 1),  # the last day still counts
    (utc(2026, 11, 30, 23), utc(2026, 11, 30, 22, 59), "Europe/Berlin", 1),
    (utc(2026, 12, 24, 18), utc(2026, 12, 24, 9), "UTC", 1),  # a deadline later today
    (utc(2026, 12, 24, 18), utc(2026, 12, 25, 9), "UTC", 0),  # past deadlines never go negative
    (None, utc(2026, 1, 1), "UTC", None),
])
def test_days_left(end, now, tz, left):
    assert days_left(end, now, tz) == left


@pytest.mark.parametrize("raised, target, percent", [
    (216000, 500000, Decimal("43.2")), (499999, 500000, Decimal("99.9")), (500000, 500000, Decimal("100")),
    (750000, 500000, Decimal("150")), (0, 500000, Decimal("0")), (-1000, 500000, Decimal("-0.2")),
])
def test_percent_is_rounded_down_and_may_pass_100(raised, target, percent):
    assert percent_of(raised, target) == percent


def test_period_labels():
    assert period_label("monthly", utc(2026, 10, 31, 23), "Europe/Berlin") == "November 2026"
    assert period_label("quarterly", utc(2026, 10, 1), "UTC") == "Q4 2026"
    assert period_label("yearly", utc(2026, 1, 1), "UTC") == "2026"


def test_progress_counts_confirmed_apart_from_pending_and_refunded(session, make_campaign):
    campaign = make_campaign(target="5000", milestones=(("2500", "Halfway"), ("4000", "Almost")))
    new_donation(session, campaign, "2000")
    new_donation(session, campaign, "160")
    new_donation(session, campaign, "300", status="pending")
    refunded = new_donation(session, campaign, "999")
    from factories import CLI

    from tracker.donations.ledger import refund_donation
    refund_donation(session, refunded, actor=CLI, reason="chargeback")
    session.commit()

    progress = campaign_progress(session, campaign)
    assert progress.raised == Money(216000, "USD")
    assert progress.pending == Money(30000, "USD")
    assert progress.percent == Decimal("43.2")
    assert progress.donors == 2
    assert progress.pending_count == 1
    assert [m.reached for m in progress.milestones] == [False, False]
    assert progress.next_milestone.label == "Halfway"
    assert progress.days_left is None

    new_donation(session, campaign, "400")
    progress = campaign_progress(session, campaign)
    assert [m.reached for m in progress.milestones] == [True, False]
    assert progress.next_milestone.label == "Almost"


def test_a_monthly_goal_starts_again_each_month_and_keeps_past_results(session, make_campaign):
    campaign = make_campaign(period="monthly", tz="Europe/Berlin", target="1000", milestones=())
    # 22:30 UTC on Sep 30th is already October in Berlin (summer time, UTC+2).
    new_donation(session, campaign, "100", received_at=utc(2026, 9, 30, 21, 30))
    new_donation(session, campaign, "250", received_at=utc(2026, 9, 30, 22, 30))
    new_donation(session, campaign, "40", received_at=utc(2026, 11, 2))

    now = utc(2026, 11, 25, 10)
    progress = campaign_progress(session, campaign, now)
    assert progress.raised == Money(4000, "USD")
    assert progress.donors == 1
    assert (progress.period_start, progress.period_end) == (utc(2026, 10, 31, 23), utc(2026, 11, 30, 23))
    assert progress.days_left == 6

    past = past_periods(session, campaign, now)
    assert [(p.start, p.raised.minor, p.donors) for p in past] == [
        (utc(2026, 9, 30, 22), 25000, 1), (utc(2026, 8, 31, 22), 10000, 1)]
    assert past[0].percent == Decimal("25")


def test_a_campaign_deadline_shortens_the_period(session, make_campaign):
    campaign = make_campaign(period="monthly", ends_at=utc(2026, 11, 20))
    progress = campaign_progress(session, campaign, utc(2026, 11, 18, 12))
    assert progress.period_end == utc(2026, 11, 20)
    assert progress.days_left == 2


def test_reading_progress_is_one_primary_key_lookup(session, make_campaign, engine):
    campaign = make_campaign()
    for amount in ("1", "2", "3"):
        new_donation(session, campaign, amount)
    _ = campaign.milestones  # loaded with the campaign, as get_campaign does
    with counting_statements(engine) as statements:
        campaign_progress(session, campaign)
    assert len(statements) == 1
    assert "FROM period_total" in statements[0]
    assert "WHERE period_total.campaign_id" in statements[0]


def test_the_bar_matches_the_reference_page(session, make_campaign, make_donation):
    campaign = make_campaign(target="5000", milestones=(("2500", "Halfway"),))
    make_donation(campaign, "2160")
    make_donation(campaign, "100", status="pending")
    bar = campaign_progress(session, campaign).bar
    assert (bar.fill, bar.pending) == (Decimal("43.2"), Decimal("2"))
    # The start and the goal always have a tick (a milestone past the goal is refused: test_campaign_views).
    assert [(t.kind, t.position, t.title, t.reached) for t in bar.ticks] == [
        ("start", Decimal(0), "", True), ("milestone", Decimal(50), "Halfway", False), ("goal", Decimal(100), "", False)]
    assert (bar.value_now, bar.value_max) == (Decimal(2160), Decimal(5000))


def test_the_bar_stays_within_its_track(session, make_campaign, make_donation):
    campaign = make_campaign(target="100", milestones=(("100", "Done"),))
    make_donation(campaign, "150")
    make_donation(campaign, "50", status="pending")
    bar = campaign_progress(session, campaign).bar
    assert (bar.fill, bar.pending, bar.value_now) == (Decimal(100), Decimal(0), Decimal(100))
    assert [(t.kind, t.title, t.reached) for t in bar.ticks] == [("start", "", True), ("goal", "Done", True)]
    below = make_campaign("below", target="100", milestones=())
    make_donation(below, "-20", source="adjustment", reason="test")
    bar = campaign_progress(session, below).bar
    assert (bar.fill, bar.value_now) == (Decimal(0), Decimal(0))


"""The ledger: record, convert, refund, correct, adjust; totals always agree with the entries."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from factories import CLI, at, new_campaign, new_donation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tracker.campaigns.operations import CampaignInput, save_campaign
from tracker.campaigns.progress import campaign_progress
from tracker.donations.ledger import (
    adjust_raised_to,
    confirm_donation,
    correct_donation,
    record_donation,
    refund_donation,
    verify_totals,
)
from tracker.donations.rates import NoExchangeRate, record_rate
from tracker.errors import Conflict, InvalidInput
from tracker.models import AuditEvent, Campaign, Donation, PeriodTotal
from tracker.money import Money

UTC = timezone.utc


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def raised(session, campaign):
    return campaign_progress(session, campaign).raised


def test_record_is_idempotent_on_source_and_external_id(session, make_campaign):
    campaign = make_campaign()
    first = record_donation(session, campaign, Money(1000, "USD"), actor=CLI, external_id="tx-1")
    again = record_donation(session, campaign, Money(1000, "USD"), actor=CLI, external_id="tx-1")
    other_source = record_donation(session, campaign, Money(1000, "USD"), actor=CLI, external_id="tx-1",
                                   source="import")
    session.commit()
    assert first.created and not again.created and other_source.created
    assert again.donation.id == first.donation.id
    assert session.scalar(select(func.count()).select_from(Donation)) == 2
    assert raised(session, campaign) == Money(2000, "USD")


def test_a_foreign_currency_is_converted_at_the_stored_rate_which_is_kept(session, make_campaign):
    campaign = make_campaign()
    record_rate(session, "BTC", "USD", "60000", utc(2026, 11, 1), "manual", CLI)
    record_rate(session, "BTC", "USD", "63250.12", utc(2026, 11, 20), "exchange X", CLI)
    donation = new_donation(session, campaign, "0.0015", "BTC", received_at=utc(2026, 11, 21))
    assert (donation.amount_minor, donation.currency) == (150000, "BTC")
    # 0.0015 × 63250.12 = 94.87518 → 94.88 (half-even, the only rounding in the ledger)
    assert (donation.goal_amount_minor, donation.goal_currency) == (9488, "USD")
    assert donation.rate == Decimal("63250.12")
    assert donation.rate_source == "exchange X"
    assert donation.rate_as_of == utc(2026, 11, 20)
    older = new_donation(session, campaign, "0.001", "BTC", received_at=utc(2026, 11, 5))
    assert older.goal_amount_minor == 6000 and older.rate == Decimal("60000")


def test_no_rate_is_a_clear_error_never_zero(session, make_campaign):
    campaign = make_campaign()
    record_rate(session, "BTC", "USD", "60000", utc(2026, 11, 20), "manual", CLI)
    with pytest.raises(NoExchangeRate, match="no BCH→USD exchange rate"):
        record_donation(session, campaign, Money(100, "BCH"), actor=CLI)
    with pytest.raises(NoExchangeRate, match="on or before 2026-11-19"):
        record_donation(session, campaign, Money(100, "BTC"), actor=CLI, received_at=utc(2026, 11, 19))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Donation)) == 0


def test_a_donation_too_small_to_convert_is_refused(session, make_campaign):
    campaign = make_campaign()
    record_rate(session, "BTC", "USD", "60000", utc(2026, 1, 1), "manual", CLI)
    with pytest.raises(InvalidInput, match="worth less than the smallest USD unit"):
        record_donation(session, campaign, Money(1, "BTC"), actor=CLI)


def test_bad_records_are_refused(session, make_campaign):
    campaign = make_campaign()
    with pytest.raises(InvalidInput, match="more than zero"):
        record_donation(session, campaign, Money(-5, "USD"), actor=CLI)
    with pytest.raises(InvalidInput, match="needs a reason"):
        record_donation(session, campaign, Money(-5, "USD"), actor=CLI, source="adjustment")
    with pytest.raises(InvalidInput, match="pending or confirmed"):
        record_donation(session, campaign, Money(5, "USD"), actor=CLI, status="refunded")
    with pytest.raises(InvalidInput, match="time zone"):
        record_donation(session, campaign, Money(5, "USD"), actor=CLI, received_at=datetime(2026, 1, 1))
    with pytest.raises(InvalidInput, match="too long"):
        record_donation(session, campaign, Money(5, "USD"), actor=CLI, donor_name="x" * 201)


def test_pending_then_confirmed_then_refunded(session, make_campaign):
    campaign = make_campaign()
    donation = new_donation(session, campaign, "50", status="pending")
    progress = campaign_progress(session, campaign)
    assert (progress.raised.minor, progress.pending.minor, progress.donors) == (0, 5000, 0)
    confirm_donation(session, donation, actor=CLI)
    progress = campaign_progress(session, campaign)
    assert (progress.raised.minor, progress.pending.minor, progress.donors) == (5000, 0, 1)
    with pytest.raises(Conflict):
        confirm_donation(session, donation, actor=CLI)
    with pytest.raises(InvalidInput, match="say why"):
        refund_donation(session, donation, actor=CLI, reason=" ")
    refund_donation(session, donation, actor=CLI, reason="donor asked")
    session.commit()
    progress = campaign_progress(session, campaign)
    assert (progress.raised.minor, progress.donors) == (0, 0)
    assert donation.status == "refunded" and session.get(Donation, donation.id) is not None
    with pytest.raises(Conflict, match="already refunded"):
        refund_donation(session, donation, actor=CLI, reason="again")
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["donation.confirm", "donation.refund"]


def test_set_raised_to_records_an_adjustment_of_the_difference(session, make_campaign):
    campaign = make_campaign()
    new_donation(session, campaign, "2000")
    adjustment = adjust_raised_to(session, campaign, Money(216000, "USD"), actor=CLI,
                                  reason="cash collected at the fair")
    session.commit()
    assert adjustment.source == "adjustment" and adjustment.goal_amount_minor == 16000
    assert raised(session, campaign) == Money(216000, "USD")
    down = adjust_raised_to(session, campaign, Money(200000, "USD"), actor=CLI, reason="double count")
    assert down.amount_minor == -16000
    assert raised(session, campaign) == Money(200000, "USD")
    # Adjustments are not donors.
    assert campaign_progress(session, campaign).donors == 1
    assert adjust_raised_to(session, campaign, Money(200000, "USD"), actor=CLI, reason="no-op") is None
    with pytest.raises(InvalidInput, match="goal currency"):
        adjust_raised_to(session, campaign, Money(1, "EUR"), actor=CLI, reason="x")


def test_correcting_a_donation_moves_it_between_periods(session, make_campaign):
    campaign = make_campaign(period="monthly")
    donation = new_donation(session, campaign, "10", received_at=utc(2026, 10, 31, 12))
    correct_donation(session, donation, campaign, actor=CLI, amount=Money(2500, "USD"),
                     received_at=utc(2026, 11, 2), reason="typo in the amount and date")
    session.commit()
    assert campaign_progress(session, campaign, utc(2026, 11, 10)).raised.minor == 2500
    assert campaign_progress(session, campaign, utc(2026, 10, 10)).raised.minor == 0
    assert verify_totals(session, campaign) == []
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "donation.correct")).one()
    assert event.before["amount_minor"] == 1000 and event.after["amount_minor"] == 2500


def test_changing_a_campaigns_period_rebuilds_its_totals(session, make_campaign):
    campaign = make_campaign(period="monthly")
    new_donation(session, campaign, "10", received_at=utc(2026, 1, 15))
    new_donation(session, campaign, "20", received_at=utc(2026, 2, 15))
    assert campaign_progress(session, campaign, utc(2026, 2, 20)).raised.minor == 2000
    save_campaign(session, CampaignInput(
        slug=campaign.slug, title=campaign.title, target=Money(campaign.target_minor, "USD"),
        period="yearly", status="active"), actor=CLI, campaign=campaign)
    session.commit()
    assert campaign_progress(session, campaign, utc(2026, 2, 20)).raised.minor == 3000
    assert verify_totals(session, campaign) == []
    assert session.scalar(select(func.count()).select_from(PeriodTotal)) == 1


operations = st.lists(st.tuples(
    st.sampled_from(["record", "pending", "confirm", "refund", "adjust", "correct"]),
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=0, max_value=60),
), min_size=1, max_size=25)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_kept_totals_always_agree_with_the_ledger(session, ops):
    campaign = session.scalar(select(Campaign).where(Campaign.slug == "fuzz")) or new_campaign(
        session, "fuzz", period="monthly", milestones=())
    donations: list[Donation] = []
    for op, amount, day in ops:
        when = utc(2026, 9, 1) + (utc(2026, 9, 2) - utc(2026, 9, 1)) * day
        try:
            if op in ("record", "pending"):
                donations.append(record_donation(
                    session, campaign, Money(amount, "USD"), actor=CLI, received_at=when,
                    status="pending" if op == "pending" else "confirmed").donation)
            elif op == "confirm" and donations:
                confirm_donation(session, donations[amount % len(donations)], actor=CLI)
            elif op == "refund" and donations:
                refund_donation(session, donations[amount % len(donations)], actor=CLI, reason="r")
            elif op == "adjust":
                adjust_raised_to(session, campaign, Money(amount, "USD"), actor=CLI, reason="a", now=when)
            elif op == "correct" and donations:
                correct_donation(session, donations[amount % len(donations)], campaign, actor=CLI,
                                 amount=Money(amount, "USD"), received_at=when, reason="c")
        except (Conflict, InvalidInput):
            pass
    problems = verify_totals(session, campaign)
    session.rollback()
    assert problems == []


def test_a_typed_gift_in_another_currency_waits_for_its_exact_conversion_to_be_confirmed(session, make_campaign):
    from tracker.donations.ledger import RateNotConfirmed, record_typed_donation
    from tracker.donations.rates import record_rate

    campaign = make_campaign("demo")
    record_rate(session, "EUR", "USD", "1.10", at("2026-11-01 00:00"), "manual", CLI)
    typed = dict(actor=CLI, reference=None, form_key="page-1", received_at=at("2026-11-02 10:00"))
    with pytest.raises(RateNotConfirmed) as shown:
        record_typed_donation(session, campaign, Money.parse("10", "EUR"), shown_rate=None, **typed)
    assert shown.value.conversion.converted == Money.parse("11", "USD")
    # A newer rate entered in between changes the key: the old confirmation no longer counts.
    record_rate(session, "EUR", "USD", "1.20", at("2026-11-02 09:00"), "manual", CLI)
    with pytest.raises(RateNotConfirmed) as again:
        record_typed_donation(session, campaign, Money.parse("10", "EUR"), shown_rate=shown.value.key, **typed)
    recorded = record_typed_donation(session, campaign, Money.parse("10", "EUR"), shown_rate=again.value.key, **typed)
    assert (recorded.created, recorded.donation.goal_amount_minor) == (True, 1200)
    # The same form page sent twice is one gift; a bank reference is its own key.
    twice = record_typed_donation(session, campaign, Money.parse("10", "EUR"), shown_rate=again.value.key, **typed)
    assert not twice.created and twice.donation.external_id == "form:page-1"
    by_reference = record_typed_donation(session, campaign, Money.parse("5", "USD"), shown_rate=None,
                                         **{**typed, "reference": " TX-9 "})
    assert by_reference.donation.external_id == "ref:TX-9"

"""The support page's domain functions: presets at stored rates, the donor wall, the bar, QR payloads."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tracker.accounts.operations import SERVER_SHELL
from tracker.audit import Actor
from tracker.coins import payment_uri
from tracker.demo import DEMO_BCH_ADDRESS, DEMO_BTC_ADDRESS
from tracker.donations.ledger import refund_donation
from tracker.donations.rates import record_rate
from tracker.errors import InvalidQuery, NotFound
from tracker.money import Money
from tracker.payments.operations import PaymentMethodInput, save_payment_method
from tracker.public.page import (
    DONORS_PER_PAGE,
    address_groups,
    coin_amount,
    donor_wall,
    latest_coin_rate,
    payment_options,
    qr_payment_uri,
    support_page,
)

CLI = Actor.cli()
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def add_method(session, kind="address", coin="BTC", target=DEMO_BTC_ADDRESS, label="Bitcoin", active=True):
    method = save_payment_method(session, PaymentMethodInput(
        kind=kind, coin=coin, target=target, label=label, active=active), actor=CLI, proof=SERVER_SHELL)
    session.commit()
    return method


def add_rate(session, base="BTC", quote="USD", rate="60000", as_of=None, source="test desk"):
    record_rate(session, base, quote, rate, as_of or NOW - timedelta(days=3), source, CLI)
    session.commit()


# --- reading the address ---------------------------------------------------------------------


@pytest.mark.parametrize("address", [DEMO_BTC_ADDRESS, DEMO_BCH_ADDRESS, ETH_ADDRESS])
def test_address_groups_join_back_to_the_exact_address(address):
    groups = address_groups(address)
    assert "".join(groups) == address
    assert all(len(group) <= 4 for group in groups if not group.endswith(":"))


def test_address_groups_keep_the_cashaddr_prefix_whole():
    assert address_groups(DEMO_BCH_ADDRESS)[:2] == ("bitcoincash:", "qpm2")


# --- page numbers ------------------------------------------------------------------------------


def test_a_cursor_goes_into_a_link_and_back_exactly():
    from tracker.paging import Cursor

    cursor = Cursor(NOW, 123)
    assert Cursor.parse(cursor.text()) == cursor


@pytest.mark.parametrize("text", ["", "x", "2026-11-25T12:00:00~1", "2026-11-25T12:00:00+00:00~", "~5",
                                  "2026-11-25T12:00:00+00:00~\u0663", "2026-11-25T12:00:00+00:00~" + "1" * 11])
def test_an_edited_cursor_is_a_400(text):
    from tracker.paging import Cursor

    with pytest.raises(InvalidQuery) as caught:
        Cursor.parse(text)
    assert caught.value.status == 400


# --- rates and presets -------------------------------------------------------------------------


def test_no_stored_rate_means_no_rate(session):
    assert latest_coin_rate(session, "BTC", "USD", NOW) is None


def test_the_newest_rate_at_the_time_wins_in_either_direction(session):
    add_rate(session, "BTC", "USD", "50000", NOW - timedelta(days=10))
    add_rate(session, "USD", "BTC", "0.00002", NOW - timedelta(days=2))  # 1 BTC = 50,000 USD too
    add_rate(session, "BTC", "USD", "90000", NOW + timedelta(days=1))  # not yet known at NOW
    rate = latest_coin_rate(session, "BTC", "USD", NOW)
    assert rate is not None
    assert rate.per_coin == Decimal(50000)
    assert rate.as_of == NOW - timedelta(days=2)
    add_rate(session, "BTC", "USD", "60000", NOW - timedelta(hours=1))
    assert latest_coin_rate(session, "BTC", "USD", NOW).per_coin == Decimal(60000)


def test_coin_amount_rounds_to_the_coins_places(session):
    add_rate(session)
    rate = latest_coin_rate(session, "BTC", "USD", NOW)
    # 10 / 60,000 = 0.000166666…: eight places, half-even.
    assert coin_amount(Money.parse("10", "USD"), rate) == Money(16667, "BTC")
    assert coin_amount(Money.parse("0.01", "USD"), rate) == Money(17, "BTC")


def test_an_amount_too_small_for_the_coin_has_no_preset(session):
    add_rate(session, rate="90000000000")
    assert coin_amount(Money.parse("0.01", "USD"), latest_coin_rate(session, "BTC", "USD", NOW)) is None


def test_presets_convert_at_the_latest_rate_and_link_the_exact_uri(session):
    add_rate(session)
    method = add_method(session)
    (option,) = payment_options(session, presets=("10", "25"), currency="USD", now=NOW, payee="Example News")
    assert [p.coin_amount.plain() for p in option.presets] == ["0.00016667", "0.00041667"]
    first = option.presets[0]
    assert first.amount == Money.parse("10", "USD")
    assert first.amount_text == "0.00016667"
    assert first.payment_uri == payment_uri("BTC", method.target, Decimal("0.00016667"), label="Example News")
    assert first.rate_age == timedelta(days=3)
    assert (first.rate_date, first.rate_today) == (date(2026, 11, 22), False)
    assert first.rate.source == "test desk"
    assert option.payment_uri == payment_uri("BTC", method.target, label="Example News")


def test_the_wallet_label_names_the_publication_not_the_coin(session):
    method = add_method(session, label="Bitcoin")
    (option,) = payment_options(session, now=NOW, payee="Die Zeitung & Co: 100% Leser")
    # BIP21/BIP321: the label is who is paid, percent-encoded as UTF-8.
    assert option.payment_uri == f"bitcoin:{method.target}?label=Die%20Zeitung%20%26%20Co%3A%20100%25%20Leser"
    assert "Bitcoin" not in option.payment_uri
    (unlabelled,) = payment_options(session, now=NOW)
    assert unlabelled.payment_uri == f"bitcoin:{method.target}"


def test_a_rate_of_today_in_the_campaigns_zone_is_todays(session):
    add_rate(session, as_of=datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))  # 25 Nov in Berlin, 24 Nov in UTC
    add_method(session)
    (berlin,) = payment_options(session, presets=("10",), currency="USD", now=NOW, zone="Europe/Berlin")
    assert (berlin.presets[0].rate_date, berlin.presets[0].rate_today) == (date(2026, 11, 25), True)
    (utc,) = payment_options(session, presets=("10",), currency="USD", now=NOW)
    assert (utc.presets[0].rate_date, utc.presets[0].rate_today) == (date(2026, 11, 24), False)


def test_ether_presets_use_its_nine_stored_places(session):
    add_rate(session, "ETH", "USD", "3000")
    add_method(session, coin="ETH", target=ETH_ADDRESS, label="Ether")
    (option,) = payment_options(session, presets=("10",), currency="USD", now=NOW)
    assert option.presets[0].amount_text == "0.003333333"


def test_a_coin_without_a_rate_is_listed_without_presets(session):
    add_rate(session)
    add_method(session)
    add_method(session, coin="BCH", target=DEMO_BCH_ADDRESS, label="Bitcoin Cash")
    btc, bch = payment_options(session, presets=("10",), currency="USD", now=NOW)
    assert len(btc.presets) == 1
    assert bch.presets == ()
    assert bch.payment_uri.startswith("bitcoincash:qpm2")


def test_presets_that_are_not_amounts_in_the_goal_currency_are_left_out(session):
    add_rate(session, "BTC", "JPY", "9000000")
    add_method(session)
    (option,) = payment_options(session, presets=("abc", "10.5", "1000"), currency="JPY", now=NOW)
    assert [p.amount for p in option.presets] == [Money.parse("1000", "JPY")]


def test_options_are_the_active_methods_in_order(session):
    add_method(session)
    add_method(session, coin="BCH", target=DEMO_BCH_ADDRESS, label="Bitcoin Cash", active=False)
    add_method(session, kind="email", coin="email", target="give@example.org", label="Write to us")
    add_method(session, kind="link", coin="liberapay", target="https://liberapay.example/news", label="Liberapay")
    options = payment_options(session, now=NOW)
    assert [o.method.kind for o in options] == ["address", "email", "link"]
    assert options[1].payment_uri is None and options[1].presets == ()


# --- donor wall ----------------------------------------------------------------------------------


def test_the_donor_wall_shows_public_confirmed_donors_newest_first(session, make_campaign, make_donation):
    campaign = make_campaign()
    other = make_campaign("other")
    make_donation(campaign, "5", donor_name="Old", is_public=True, received_at=NOW - timedelta(days=2))
    make_donation(campaign, "5", donor_name="New", message="<b>hi</b>", is_public=True,
                 received_at=NOW - timedelta(days=1))
    make_donation(campaign, "5", donor_name="Private", is_public=False)
    make_donation(campaign, "5", donor_name="Pending", is_public=True, status="pending")
    refunded = make_donation(campaign, "5", donor_name="Refunded", is_public=True)
    refund_donation(session, refunded, actor=CLI, reason="asked for it back")
    session.commit()
    make_donation(campaign, "5", is_public=True)  # public, but nothing to show
    make_donation(other, "5", donor_name="Elsewhere", is_public=True)
    wall = donor_wall(session, [campaign.id])
    assert [e.name for e in wall.items] == ["New", "Old"]
    assert wall.items[0].message == "<b>hi</b>"  # kept as typed: the template escapes it
    assert (wall.newer, wall.older) == (None, None)


def test_the_donor_wall_pages_by_twenty_from_cursor_to_cursor(session, make_campaign, make_donation):
    campaign = make_campaign()
    for index in range(45):
        make_donation(campaign, "1", donor_name=f"Donor {index:02d}", is_public=True,
                     received_at=NOW - timedelta(hours=100 - index))
    first = donor_wall(session, [campaign.id])
    assert DONORS_PER_PAGE == 20
    assert first.items[0].name == "Donor 44" and len(first.items) == 20 and first.newer is None
    second = donor_wall(session, [campaign.id], older_than=first.older)
    last = donor_wall(session, [campaign.id], older_than=second.older)
    assert [e.name for e in last.items] == [f"Donor {i:02d}" for i in range(4, -1, -1)] and last.older is None
    assert donor_wall(session, [campaign.id], newer_than=last.newer).items == second.items


def test_the_donor_wall_of_no_campaign_is_empty(session):
    assert donor_wall(session, []).items == ()


def test_support_page_with_an_empty_database(session):
    page = support_page(session, [], presets=("10",), now=NOW)
    assert (page.cards, page.options, page.donors.items, page.preset_currency) == ((), (), (), None)


# --- QR payloads ---------------------------------------------------------------------------------


def test_qr_payload_is_the_stored_address_uri_with_the_amount(session):
    method = add_method(session, label="Bitcoin")
    assert qr_payment_uri(session, method.id, payee="Café du coin") == payment_uri(
        "BTC", DEMO_BTC_ADDRESS, label="Café du coin")
    assert qr_payment_uri(session, method.id, "0.0001", payee="Café du coin") == (
        f"bitcoin:{DEMO_BTC_ADDRESS}?amount=0.0001&label=Caf%C3%A9%20du%20coin")


@pytest.mark.parametrize("amount, reason", [
    ("abc", "is not an amount"),
    ("-1", "must be positive"),
    ("0", "more than zero"),
    ("100000001", "too large"),
    ("9" * 40, "too large"),
    ("0.000000001", "8 decimal places"),
    ("1e-4", "exponent notation"),
    ("NaN", "not a number"),
    ("", "enter an amount"),
    ("1" * 100, "too long"),
])
def test_qr_payload_refuses_bad_amounts_with_a_reason(session, amount, reason):
    method = add_method(session)
    with pytest.raises(InvalidQuery) as caught:
        qr_payment_uri(session, method.id, amount)
    assert caught.value.status == 400
    assert reason in caught.value.message
    assert "Bitcoin amount" in caught.value.message


def test_qr_payloads_exist_only_for_active_stored_addresses(session):
    inactive = add_method(session, active=False)
    email = add_method(session, kind="email", coin="email", target="give@example.org")
    for method_id in (inactive.id, email.id, 12345, 0, 2**31, 10**30):
        with pytest.raises(NotFound):
            qr_payment_uri(session, method_id)



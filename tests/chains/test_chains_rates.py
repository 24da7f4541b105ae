"""Market rates from Kraken, Coinbase and the ECB, replayed from their documented answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from chain_helpers import FIXTURES, fixture
from sqlalchemy import select

from tracker.chains.backend import JsonClient
from tracker.chains.rates_sources import ecb, refresh_rates
from tracker.donations.rates import find_rate
from tracker.models import ExchangeRate

NOW = datetime(2024, 1, 5, 18, 0, tzinfo=timezone.utc)


@pytest.fixture()
def in_use(make_campaign, add_method):
    make_campaign("news", currency="USD")
    add_method("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4")


def _rates(session):
    session.expire_all()
    return {(r.base, r.quote, r.source): r for r in session.scalars(select(ExchangeRate))}


def test_kraken_last_trade_is_stored_with_source_and_time_once(session, replay, settings_factory, in_use):
    replay.answer("/0/public/Ticker?pair=XBTUSD", fixture("rates/kraken_ticker.json"))
    settings = settings_factory(**{"rates.coins": "kraken"})
    assert refresh_rates(session, settings, clients={"kraken": JsonClient(replay.url)}, now=NOW) == 1
    session.commit()
    rate = _rates(session)[("BTC", "USD", "Kraken ticker")]
    assert (rate.rate, rate.as_of) == (Decimal("30303.2"), NOW)
    # Run again within refresh_minutes: nothing is fetched or stored twice.
    assert refresh_rates(session, settings, clients={"kraken": JsonClient(replay.url)},
                         now=NOW + timedelta(minutes=5)) == 0
    assert replay.requests.count("/0/public/Ticker?pair=XBTUSD") == 1


def test_coinbase_spot_price(session, replay, settings_factory, in_use):
    replay.answer("/v2/prices/BTC-USD/spot", fixture("rates/coinbase_spot.json"))
    settings = settings_factory(**{"rates.coins": "coinbase"})
    assert refresh_rates(session, settings, clients={"coinbase": JsonClient(replay.url)}, now=NOW) == 1
    assert _rates(session)[("BTC", "USD", "Coinbase spot")].rate == Decimal("1020.25")


@pytest.mark.parametrize("answer", [
    {"error": ["EQuery:Unknown asset pair"]},
    {"error": [], "result": {"XXBTZUSD": {"c": ["-5", "1"]}}},
    {"error": [], "result": {"XXBTZUSD": {"c": [30303.2, "1"]}}},
    {"error": [], "result": {"XXBTZUSD": {"c": ["1e5", "1"]}}},
    {"error": [], "result": {"A": {"c": ["1", "1"]}, "B": {"c": ["2", "1"]}}},
], ids=["error", "negative", "float", "exponent", "two pairs"])
def test_a_bad_ticker_is_refused_and_nothing_is_stored(session, replay, settings_factory, in_use, answer, caplog):
    replay.answer("/0/public/Ticker?pair=XBTUSD", answer)
    settings = settings_factory(**{"rates.coins": "kraken"})
    assert refresh_rates(session, settings, clients={"kraken": JsonClient(replay.url)}, now=NOW) == 0
    assert _rates(session) == {}
    assert "rates: BTC→USD from kraken" in caplog.text


def test_ecb_reference_rates_and_their_inverse(session, replay, settings_factory, in_use):
    replay.answer("/", (FIXTURES / "rates/eurofxref-daily.xml").read_text())
    settings = settings_factory(**{"rates.fiat": "ecb"})
    assert refresh_rates(session, settings, clients={"ecb": JsonClient(replay.url + "/")}, now=NOW) == 2
    session.commit()
    rates = _rates(session)
    fixing = datetime(2024, 1, 5, 13, 15, tzinfo=timezone.utc)
    assert (rates[("EUR", "USD", "ECB reference rate")].rate, rates[("EUR", "USD", "ECB reference rate")].as_of) == (
        Decimal("1.0921"), fixing)
    assert rates[("USD", "EUR", "ECB reference rate (inverse)")].rate == Decimal("0.915667063456")
    assert ("EUR", "JPY", "ECB reference rate") not in rates  # no campaign counts in yen


def test_the_ecb_file_with_entities_is_refused():
    from tracker.chains.backend import RefusedAnswer

    with pytest.raises(RefusedAnswer, match="DOCTYPE"):
        ecb('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')


def test_a_rate_typed_by_hand_wins_for_its_time(session, rate):
    rate("BTC", "USD", "30000", NOW - timedelta(minutes=10), source="Kraken ticker")
    rate("BTC", "USD", "31000", NOW - timedelta(minutes=5), source="manual")
    rate("BTC", "USD", "32000", NOW + timedelta(minutes=10), source="Kraken ticker")
    assert find_rate(session, "BTC", "USD", NOW).rate == Decimal("31000")

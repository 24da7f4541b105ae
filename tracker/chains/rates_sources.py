"""Market rates from public sources: Kraken's or Coinbase's ticker for coins, the ECB's reference rates for fiat.

Each is stored as an `ExchangeRate` with its source and time, like a rate typed by hand; the
ledger converts a gift at the newest rate at or before its time, so a rate an admin enters
for a moment is the one used for gifts of that moment, until the next rate.

Sources and answers (the shapes the tests replay):

* Kraken REST API, *Get Ticker Information*: `GET /0/public/Ticker?pair=XBTUSD` answers
  `{"error": [], "result": {"XXBTZUSD": {"a": [...], "b": [...], "c": ["<last price>", "<lot>"], …}}}`.
  Kraken names bitcoin XBT and dogecoin XDG.
* Coinbase API, *Get Spot Price*: `GET /v2/prices/BTC-USD/spot` answers
  `{"data": {"amount": "<price>", "currency": "USD", "base": "BTC"}}`.
* ECB, euro foreign exchange reference rates, `eurofxref-daily.xml`: a gesmes envelope with
  `<Cube time="YYYY-MM-DD"><Cube currency="USD" rate="1.0921"/>…`, one unit of EUR in each
  currency, set at 14:15 CET on TARGET working days.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Actor
from ..config import Settings
from ..donations.rates import parse_rate, record_rate
from ..errors import DomainError
from ..models import Campaign, ExchangeRate, PaymentMethod, utcnow
from ..money import is_crypto
from .backend import BackendError, JsonClient, RefusedAnswer, log, want_dict, want_list, want_str

KRAKEN_URL = "https://api.kraken.com"
COINBASE_URL = "https://api.coinbase.com"
ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
FEED = Actor(name="rates feed")
#: Kraken's names for the coins whose code differs from ours.
KRAKEN_NAMES = {"BTC": "XBT", "DOGE": "XDG"}
#: The ECB's reference rates are set at 14:15 CET (13:15 UTC).
ECB_FIXING = timedelta(hours=13, minutes=15)


@dataclass(frozen=True)
class Quote:
    base: str
    quote: str
    rate: Decimal
    as_of: datetime
    source: str


def _price(text: Any, what: str) -> Decimal:
    try:
        return parse_rate(want_str(text, what))
    except DomainError:
        raise RefusedAnswer(f"{what} is not a price: {text!r:.40}") from None


def kraken(client: JsonClient, coin: str, fiat: str, now: datetime) -> Quote:
    pair = f"{KRAKEN_NAMES.get(coin, coin)}{fiat}"
    answer = want_dict(client.get(f"/0/public/Ticker?pair={pair}"), "Kraken's answer")
    errors = want_list(answer.get("error", []), "Kraken's errors", limit=20)
    if errors:
        raise RefusedAnswer(f"Kraken refused {pair}: {str(errors[0])[:200]}")
    result = want_dict(answer.get("result"), "Kraken's result")
    if len(result) != 1:
        raise RefusedAnswer(f"Kraken answered {len(result)} pairs for {pair}")
    ticker = want_dict(next(iter(result.values())), f"Kraken's ticker for {pair}")
    last = want_list(ticker.get("c"), f"Kraken's last trade for {pair}", limit=2)
    return Quote(coin, fiat, _price(last[0] if last else None, f"Kraken's {pair} price"), now, "Kraken ticker")


def coinbase(client: JsonClient, coin: str, fiat: str, now: datetime) -> Quote:
    data = want_dict(want_dict(client.get(f"/v2/prices/{coin}-{fiat}/spot"), "Coinbase's answer").get("data"),
                     "Coinbase's data")
    if data.get("currency") != fiat or data.get("base", coin) != coin:
        raise RefusedAnswer(f"asked Coinbase for {coin}-{fiat}, it answered {data.get('base')}-{data.get('currency')}")
    return Quote(coin, fiat, _price(data.get("amount"), f"Coinbase's {coin}-{fiat} price"), now, "Coinbase spot")


def ecb(text: str) -> list[Quote]:
    """EUR→X and X→EUR from the ECB's daily XML (the inverse rounded to 12 significant digits)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # no entity tricks: the real file has neither
        raise RefusedAnswer("the ECB's file declares a DOCTYPE or entities")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise RefusedAnswer("the ECB's file is not XML") from None
    days = [cube for cube in root.iter() if cube.tag.endswith("Cube") and cube.get("time")]
    if len(days) != 1:
        raise RefusedAnswer(f"the ECB's daily file holds {len(days)} days")
    day = days[0]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day.get("time", "")):
        raise RefusedAnswer("the ECB's date is malformed")
    as_of = datetime.fromisoformat(day.get("time", "")).replace(tzinfo=timezone.utc) + ECB_FIXING
    quotes = []
    for cube in day:
        currency = cube.get("currency") or ""
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise RefusedAnswer(f"the ECB's file names a currency {currency[:10]!r}")
        rate = _price(cube.get("rate"), f"the ECB's EUR→{currency} rate")
        inverse = (Decimal(1) / rate).quantize(Decimal(10) ** (min(0, (Decimal(1) / rate).adjusted() - 11)),
                                               rounding=ROUND_HALF_EVEN)
        quotes.append(Quote("EUR", currency, rate, as_of, "ECB reference rate"))
        quotes.append(Quote(currency, "EUR", inverse.normalize(), as_of, "ECB reference rate (inverse)"))
    return quotes


def currencies_in_use(session: Session) -> tuple[list[str], list[str]]:
    """(coins of the address methods, fiat goal currencies of the campaigns that are not archived)."""
    coins = sorted(set(session.scalars(select(PaymentMethod.coin).where(PaymentMethod.kind == "address"))))
    goals = sorted({c for c in session.scalars(select(Campaign.currency).where(Campaign.status != "archived"))
                    if not is_crypto(c)})
    return coins, goals


def _store(session: Session, quote: Quote) -> bool:
    """Store a quote once (the same source, pair and time twice is one rate)."""
    exists = session.scalar(select(ExchangeRate.id).where(
        ExchangeRate.base == quote.base, ExchangeRate.quote == quote.quote, ExchangeRate.as_of == quote.as_of,
        ExchangeRate.source == quote.source))
    if exists is not None:
        return False
    record_rate(session, quote.base, quote.quote, quote.rate, quote.as_of, quote.source, FEED)
    session.flush()
    return True


def _fresh(session: Session, base: str, quote: str, source: str, since: datetime) -> bool:
    return session.scalar(select(ExchangeRate.id).where(
        ExchangeRate.base == base, ExchangeRate.quote == quote, ExchangeRate.source == source,
        ExchangeRate.as_of > since).limit(1)) is not None


def refresh_rates(session: Session, settings: Settings, *, clients: dict[str, JsonClient] | None = None,
                  now: datetime | None = None) -> int:
    """Fetch and store the rates of every coin in use and every goal currency; how many were stored.

    Pairs fetched less than `rates.refresh_minutes` ago are skipped, so the job may run often.
    A source that fails is logged and skipped: the other pairs still refresh.
    """
    now = (now or utcnow()).replace(second=0, microsecond=0)
    clients = clients or {}
    coins, goals = currencies_in_use(session)
    since = now - timedelta(minutes=settings.rates.refresh_minutes)
    stored = 0
    fetchers: dict[str, tuple[str, Callable[[JsonClient, str, str, datetime], Quote], str]] = {
        "kraken": (KRAKEN_URL, kraken, "Kraken ticker"), "coinbase": (COINBASE_URL, coinbase, "Coinbase spot")}
    if settings.rates.coins:
        url, fetch, source = fetchers[settings.rates.coins]
        client = clients.get(settings.rates.coins) or JsonClient(url)
        for coin in coins:
            for fiat in goals:
                if _fresh(session, coin, fiat, source, since):
                    continue
                try:
                    stored += _store(session, fetch(client, coin, fiat, now))
                except BackendError as exc:
                    log.warning("rates: %s→%s from %s: %s", coin, fiat, settings.rates.coins, exc)
    if settings.rates.fiat == "ecb" and goals:
        client = clients.get("ecb") or JsonClient(ECB_URL)
        try:
            for quote in ecb(client.text("")):
                if quote.base in goals or quote.quote in goals:
                    stored += _store(session, quote)
        except BackendError as exc:
            log.warning("rates: the ECB's reference rates: %s", exc)
    return stored

"""Exchange rates: recorded by hand (or later by a feed), looked up for conversions."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import Actor, record_event
from ..errors import InvalidInput, NotFound
from ..models import ExchangeRate
from ..money import MAX_MINOR, Money, exponent, normalize_currency

# re.ASCII: a rate is typed with 0-9; Decimal would also read Arabic-Indic or full-width digits.
_RATE = re.compile(r"\d{1,15}(?:\.\d{1,18})?", re.ASCII)


class NoExchangeRate(NotFound):
    """No rate is stored for a pair at a time: a conversion is refused, never zero."""


def parse_rate(text: object) -> Decimal:
    """A positive, finite, plain decimal rate ("63250.12"); refuses floats and exponents."""
    if isinstance(text, float):
        raise TypeError("rates are never floats: pass a string or Decimal")
    if isinstance(text, Decimal):
        text = format(text, "f") if text.is_finite() else "nan"
    if not isinstance(text, str) or not _RATE.fullmatch(text.strip()):
        raise InvalidInput(f"{text!r} is not a rate: write a positive decimal such as 63250.12", field="rate")
    rate = Decimal(text.strip())
    if rate <= 0:
        raise InvalidInput("a rate must be more than zero", field="rate")
    return rate


def record_rate(session: Session, base: str, quote: str, rate: object, as_of: datetime,
                source: str, actor: Actor) -> ExchangeRate:
    """Store "1 `base` = `rate` `quote` as of `as_of`, according to `source`"."""
    base, quote = normalize_currency(base), normalize_currency(quote)
    if base == quote:
        raise InvalidInput("a rate needs two different currencies", field="quote")
    if as_of.tzinfo is None:
        raise InvalidInput("the rate's time needs a time zone", field="as_of")
    source = (source or "").strip()
    if not source:
        raise InvalidInput("say where the rate comes from", field="source")
    existing = session.scalar(select(ExchangeRate).where(
        ExchangeRate.base == base, ExchangeRate.quote == quote,
        ExchangeRate.as_of == as_of, ExchangeRate.source == source))
    if existing is not None:
        raise InvalidInput(f"{source} already has a {base}→{quote} rate at that time", field="as_of")
    entry = ExchangeRate(base=base, quote=quote, rate=parse_rate(rate), as_of=as_of, source=source[:200])
    session.add(entry)
    record_event(session, actor, "exchange_rate.create", entry)
    return entry


def find_rate(session: Session, base: str, quote: str, at: datetime) -> ExchangeRate:
    """The latest `base`→`quote` rate at or before `at`, or NoExchangeRate."""
    rate = session.scalar(
        select(ExchangeRate)
        .where(ExchangeRate.base == base, ExchangeRate.quote == quote, ExchangeRate.as_of <= at)
        .order_by(ExchangeRate.as_of.desc(), ExchangeRate.id.desc())
        .limit(1))
    if rate is None:
        raise NoExchangeRate(
            f"no {base}→{quote} exchange rate on or before {at:%Y-%m-%d %H:%M} UTC: "
            f"add one under Exchange rates (or with `tracker rate`)", field="currency")
    return rate


@dataclass(frozen=True)
class Conversion:
    amount: Money
    converted: Money
    rate: ExchangeRate | None


def convert(session: Session, amount: Money, currency: str, at: datetime) -> Conversion:
    """`amount` in `currency` at the rate of `at`, rounded half-even to `currency`'s minor unit."""
    currency = normalize_currency(currency)
    if amount.currency == currency:
        return Conversion(amount, amount, None)
    return convert_at(amount, currency, find_rate(session, amount.currency, currency, at))


class RateBook:
    """Every stored rate of the pairs asked for, read once: conversions of a bulk import cost no query each."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pairs: dict[tuple[str, str], tuple[list[datetime], list[ExchangeRate]]] = {}

    def find(self, base: str, quote: str, at: datetime) -> ExchangeRate:
        """As `find_rate`: the latest rate at or before `at` (the newest id wins a tie), or NoExchangeRate."""
        if (base, quote) not in self._pairs:
            rates = list(self._session.scalars(
                select(ExchangeRate).where(ExchangeRate.base == base, ExchangeRate.quote == quote)
                .order_by(ExchangeRate.as_of, ExchangeRate.id)))
            self._pairs[(base, quote)] = ([r.as_of for r in rates], rates)
        times, rates = self._pairs[(base, quote)]
        index = bisect_right(times, at)
        if index == 0:
            return find_rate(self._session, base, quote, at)  # raises the usual NoExchangeRate
        return rates[index - 1]

    def convert(self, amount: Money, currency: str, at: datetime) -> Conversion:
        """As `convert`, from the book."""
        currency = normalize_currency(currency)
        if amount.currency == currency:
            return Conversion(amount, amount, None)
        return convert_at(amount, currency, self.find(amount.currency, currency, at))


def convert_at(amount: Money, currency: str, rate: ExchangeRate) -> Conversion:
    """`amount` in `currency` at `rate`, rounded half-even to `currency`'s minor unit."""
    # The donation keeps its original amount and the rate, so this rounding can always be
    # explained: it is the only one in the ledger, and it happens once, when recorded. The
    # precision is wide enough for the largest amount times the largest rate, so a huge
    # product is refused below instead of failing inside Decimal.
    places = exponent(currency)
    with localcontext() as context:
        context.prec = 80
        scaled = (amount.to_decimal() * rate.rate).scaleb(places)
        if abs(scaled) > MAX_MINOR:
            raise InvalidInput(f"{amount} converts to more than the largest amount allowed", field="amount")
        minor = int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if minor == 0:
        raise InvalidInput(f"{amount} is worth less than the smallest {currency} unit at "
                           f"{rate.rate} {currency}/{amount.currency}", field="amount")
    if abs(minor) > MAX_MINOR:
        raise InvalidInput(f"{amount} converts to more than the largest amount allowed", field="amount")
    return Conversion(amount, Money(minor, currency), rate)

"""Exact money: integer minor units plus a currency code; strict parsing, Babel formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
    parse_decimal,
)

from .errors import InvalidInput

#: Cryptocurrencies and their minor-unit exponents. ETH is kept in gwei (9 places), not
#: wei (18): 2**63 wei is only 9.2 ETH, while 2**63 gwei is 9.2 billion ETH, so sums fit
#: a signed 64-bit column. An amount finer than a gwei is refused, never rounded.
CRYPTO_EXPONENTS: dict[str, int] = {"BTC": 8, "BCH": 8, "LTC": 8, "DOGE": 8, "XMR": 12, "ETH": 9}

#: Largest single amount, in minor units: 10**16 is 100 trillion USD, 100 million BTC or
#: 10,000 XMR. A ledger would need 900+ such amounts to reach 2**63, the column's limit.
MAX_MINOR = 10**16

#: ISO 4217 codes that are no one's money: "no currency", testing, precious metals, SDRs and
#: bond units. A goal in them would be meaningless, so they are refused like unknown codes.
NOT_MONEY = frozenset({"XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA"})
_FIAT = frozenset(list_currencies()) - NOT_MONEY
# re.ASCII: \d would otherwise take Arabic-Indic and other digits, which Decimal reads too;
# amounts are typed with 0-9 here, and anything else deserves a question, not a guess.
_PLAIN_AMOUNT = re.compile(r"[+-]?(\d+)(?:\.(\d+))?", re.ASCII)
_GROUPED_AMOUNT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_CURRENCY_CODE = re.compile(r"[A-Z]{3,5}")


class MoneyError(InvalidInput, ValueError):
    """An amount or currency that cannot be accepted; the message is meant for people."""

    # Also a ValueError: callers that parse many values (imports, config) may catch either.
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


def normalize_currency(code: object) -> str:
    """Upper-case ISO 4217 or supported crypto code, or MoneyError."""
    if not isinstance(code, str) or not code.strip():
        raise MoneyError("choose a currency")
    code = code.strip().upper()
    if not _CURRENCY_CODE.fullmatch(code) or (code not in _FIAT and code not in CRYPTO_EXPONENTS):
        raise MoneyError(f"unknown currency {code!r}: use an ISO 4217 code such as USD or EUR, "
                         f"or one of {', '.join(sorted(CRYPTO_EXPONENTS))}")
    return code


def exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit (ISO 4217 via Babel, or CRYPTO_EXPONENTS)."""
    code = normalize_currency(currency)
    if code in CRYPTO_EXPONENTS:
        return CRYPTO_EXPONENTS[code]
    return get_currency_precision(code)


def is_crypto(currency: str) -> bool:
    return normalize_currency(currency) in CRYPTO_EXPONENTS


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `minor` units of `currency` (cents for USD, satoshis for BTC)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money needs an int of minor units, not {type(self.minor).__name__}")
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    # construction -----------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: object, currency: str, *, allow_zero: bool = False,
              allow_negative: bool = False) -> Money:
        """Parse a plain amount such as "12.50" or "1,234.50"; refuse anything inexact or unsure."""
        return parse_amount(text, currency, allow_zero=allow_zero, allow_negative=allow_negative)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        """Exact conversion from a Decimal in major units; refuses extra places."""
        if not isinstance(value, Decimal):
            raise TypeError(f"Money.from_decimal needs a Decimal, not {type(value).__name__}")
        if not value.is_finite():
            raise MoneyError("the amount is not a number")
        places = exponent(currency)
        minor = value.scaleb(places)
        if minor != minor.to_integral_value():
            raise MoneyError(_too_many_places(currency, places, value))
        return _checked(cls(int(minor), currency))

    # arithmetic ---------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency} without a conversion")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

    def __bool__(self) -> bool:
        return self.minor != 0

    # output -------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        """The amount in major units, exact."""
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def plain(self) -> str:
        """Machine form with exactly the currency's places: "12.50", "0.00010000", "-3"."""
        places = exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, frac = divmod(abs(self.minor), 10**places)
        return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"

    def format(self, locale: str = "en_US", *, trim_whole: bool = True) -> str:
        return format_money(self, locale, trim_whole=trim_whole)

    def __str__(self) -> str:
        return f"{self.plain()} {self.currency}"


def _too_many_places(currency: str, places: int, text: object) -> str:
    if places == 0:
        return f"{currency} has no decimal places: {text} cannot be recorded exactly (amounts are never rounded)"
    return (f"{currency} has {places} decimal place{'s' if places != 1 else ''}: "
            f"{text} cannot be recorded exactly (amounts are never rounded)")


def _checked(money: Money, *, allow_zero: bool = True, allow_negative: bool = True) -> Money:
    if abs(money.minor) > MAX_MINOR:
        limit = Money(MAX_MINOR, money.currency).plain()
        raise MoneyError(f"the amount is too large: at most {limit} {money.currency}")
    if money.minor < 0 and not allow_negative:
        raise MoneyError("the amount must be positive")
    if money.minor == 0 and not allow_zero:
        raise MoneyError("the amount must be more than zero")
    return money


def parse_amount(text: object, currency: str, *, allow_zero: bool = False,
                 allow_negative: bool = False) -> Money:
    """Parse user input into Money, with a clear MoneyError for anything inexact or ambiguous.

    Accepts "12", "12.5", "12.50", "1,234.50" and "1,234,567" (the comma can only be a
    grouping there). Refuses floats, NaN and Infinity, exponent notation, a decimal comma
    ("12,50"), a lone comma group ("1,234": a thousand to some readers, 1.234 to others),
    more places than the currency has, and amounts above MAX_MINOR.
    """
    currency = normalize_currency(currency)
    if isinstance(text, float):
        raise TypeError("amounts are never floats: pass a string, int or Decimal")
    if isinstance(text, bool):
        raise TypeError("amounts are never booleans")
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise MoneyError("the amount is not a number")
        money = Money.from_decimal(text, currency)
        return _checked(money, allow_zero=allow_zero, allow_negative=allow_negative)
    if not isinstance(text, str):
        raise TypeError(f"cannot parse an amount from {type(text).__name__}")

    raw = text.strip()
    if not raw:
        raise MoneyError("enter an amount")
    lowered = raw.lower().lstrip("+-")
    if lowered in ("nan", "inf", "infinity", "snan") or lowered.startswith(("nan", "inf")):
        raise MoneyError(f"{raw!r} is not a number")
    if re.fullmatch(r"[+-]?[\d.]*\d[eE][+-]?\d+", raw, re.ASCII):
        example = _spell_out(raw)
        raise MoneyError("exponent notation is not accepted: write the amount out in full"
                         + (f", e.g. {example}" if example else ""))
    if _GROUPED_AMOUNT.fullmatch(raw) and ("." in raw or raw.count(",") >= 2):
        raw = raw.replace(",", "")
    elif re.fullmatch(r"[+-]?\d+,\d+", raw, re.ASCII):
        whole, frac = raw.split(",")
        if len(frac) == 3:
            raise MoneyError(f"{raw!r} is ambiguous: write {whole}{frac} for the whole number "
                             f"or {whole}.{frac} with a dot for decimals")
        raise MoneyError(f"use a dot for decimals: {whole}.{frac}")
    match = _PLAIN_AMOUNT.fullmatch(raw)
    if not match:
        raise MoneyError(f"{text.strip()!r} is not an amount: use digits and a dot, e.g. 12.50")
    places = exponent(currency)
    fraction = match.group(2) or ""
    if len(fraction.rstrip("0")) > places:
        raise MoneyError(_too_many_places(currency, places, text.strip()))
    try:
        value = Decimal(raw)
    except InvalidOperation:  # the pattern above makes this unreachable; keep the message honest
        raise MoneyError(f"{text.strip()!r} is not an amount") from None
    if len(match.group(1)) > 30:
        raise MoneyError(f"the amount is too large: at most {Money(MAX_MINOR, currency).plain()} {currency}")
    money = Money(int(value.scaleb(places)), currency)
    return _checked(money, allow_zero=allow_zero, allow_negative=allow_negative)


def _spell_out(raw: str) -> str:
    """`raw` written without an exponent, when that is short enough to be a useful example."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return ""
    if not value.is_finite() or abs(value) >= 10**20 or (value and abs(value) < Decimal("1e-12")):
        return ""
    return format(value, "f")


def _locale(locale: str | Locale) -> Locale:
    if isinstance(locale, Locale):
        return locale
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def format_money(money: Money, locale: str | Locale = "en_US", *, trim_whole: bool = True) -> str:
    """Format for a reader's locale: en_US "$5,000", de_DE "5.000 $", crypto "0.00012 BTC".

    Whole amounts drop their ".00" when `trim_whole`, as on the reference page ("2,160 $");
    other amounts show exactly the currency's places, so nothing is ever rounded away.
    """
    loc = _locale(locale)
    value = money.to_decimal()
    if money.currency in CRYPTO_EXPONENTS:
        # Babel has no symbol or precision for crypto: show every significant place.
        number = format_decimal(value.normalize() if value else Decimal(0), locale=loc,
                                decimal_quantization=False)
        return f"{number}\u00a0{money.currency}"
    pattern = loc.currency_formats["standard"].pattern
    if trim_whole and money.minor % 10 ** exponent(money.currency) == 0:
        pattern = re.sub(r"\.0+", "", pattern)
        return format_currency(value, money.currency, format=pattern, locale=loc, currency_digits=False)
    return format_currency(value, money.currency, locale=loc)


def parse_formatted(text: str, currency: str, locale: str | Locale = "en_US") -> Money:
    """Parse an amount as `format_money` writes it for `locale` (symbol, grouping, decimal sign)."""
    loc = _locale(locale)
    currency = normalize_currency(currency)
    stripped = text.replace(currency, "")
    symbol = get_currency_symbol(currency, locale=loc)
    if symbol:
        stripped = stripped.replace(symbol, "")
    # Bidi marks (Arabic, Hebrew locales) are layout hints, not part of the number.
    stripped = re.sub("[\u200e\u200f\u061c]", "", stripped).strip(" \u00a0\u202f")
    negative = stripped.startswith(("-", "\u2212"))
    stripped = stripped.lstrip("-\u2212").strip(" \u00a0\u202f")
    try:
        value = parse_decimal(stripped, locale=loc, strict=True)
    except NumberFormatError as exc:
        raise MoneyError(f"{text!r} is not an amount in {loc}: {exc}") from None
    return Money.from_decimal(-value if negative else value, currency)

"""Form fields and helpers every back-office form shares: exact money, currencies, local dates, buttons."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..money import Money, MoneyError, normalize_currency

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def options(pairs: Any) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs or plain values."""
    return [SelectChoice(*pair) if isinstance(pair, tuple) else SelectChoice(pair) for pair in pairs]


class CurrencyField(StringField):
    """A currency code; an empty or unknown code gets a clear message."""

    #: The normalised code once the form validated.
    data: str

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        if validation_stopped:
            return
        try:
            self.data = normalize_currency(self.data or "")
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None


class MoneyField(StringField):
    """An amount typed as text, parsed exactly by Money.parse into `.money` (never float, never rounded)."""

    # The currency comes from the form's `currency_field`: a field, or a fixed code attribute.

    def __init__(self, label: str | None = None, validators: Any = None, *, currency_field: str = "currency",
                 allow_zero: bool = False, allow_negative: bool = False, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.currency_field, self.allow_zero, self.allow_negative = currency_field, allow_zero, allow_negative
        self.money: Money | None = None

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        self.money = None
        if validation_stopped:
            return
        source = getattr(form, self.currency_field)
        currency = source.data if hasattr(source, "data") else source
        try:
            currency = normalize_currency(currency or "")
        except MoneyError:
            return  # the currency field says what is wrong; an amount cannot be judged without it
        if not (self.data or "").strip():
            raise ValidationError("enter an amount")
        try:
            self.money = Money.parse(self.data, currency, allow_zero=self.allow_zero,
                                     allow_negative=self.allow_negative)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None

    @property
    def value(self) -> Money:
        """The parsed amount, once the form validated (a view that asks earlier has a bug)."""
        if self.money is None:
            raise RuntimeError(f"{self.name} was read before the form validated")
        return self.money


#: Typed dates must fall in these years: moving year 1 or 9999 across a time zone (or a day
#: further, for an inclusive "to" date) leaves Python's datetime range, a 500 instead of a message.
FIRST_YEAR, LAST_YEAR = 1900, 9998


def plausible_year(form: Any, field: Any) -> None:
    """Validator of date and date-time fields: a year from FIRST_YEAR to LAST_YEAR."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"enter a date between the years {FIRST_YEAR} and {LAST_YEAR}")


def local_datetime(value: datetime | None, tz: str) -> datetime | None:
    """A naive date-time typed in zone `tz`, as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def as_local_input(value: datetime | None, tz: str) -> datetime | None:
    """An aware UTC date-time as the naive local value a datetime-local input shows."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None, second=0, microsecond=0)


def day_start(day: Any, *, days: int = 0) -> datetime | None:
    """UTC midnight of `day` (+ `days`), for date filters."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days), time(0), tzinfo=timezone.utc)


class ActionForm(FlaskForm):
    """A button: no fields but the CSRF token."""


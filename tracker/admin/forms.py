"""Back-office forms: parsing and field-level checks only; the rules live in the domain modules."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError

from ..campaigns import DISPLAY_DEFAULTS, THEMES, CampaignInput, MilestoneInput
from ..coins import COINS
from ..models import CAMPAIGN_STATUSES, DONATION_SOURCES, DONATION_STATUSES, PERIODS, ROLES
from ..money import Money, MoneyError, normalize_currency
from ..payments import PaymentMethodInput
from ..rates import Conversion
from ..reports import AuditFilter, DonationFilter
from ..users import MIN_PASSWORD

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
TIMEZONES = sorted(available_timezones())
NETWORKS = sorted({network for coin in COINS.values() for network in coin.networks})


def options(pairs: Any) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs or plain values."""
    return [SelectChoice(*pair) if isinstance(pair, tuple) else SelectChoice(pair) for pair in pairs]


class CurrencyField(StringField):
    """A currency code; an empty or unknown code gets a clear message."""

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


class LoginForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("enter your e-mail address"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("enter your password")])
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField("Code from your authenticator app", validators=[DataRequired("enter the 6-digit code")])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button: no fields but the CSRF token."""


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("enter your current password")])
    new_password = PasswordField("New password", validators=[
        DataRequired("choose a new password"),
        Length(min=MIN_PASSWORD, message=f"use at least {MIN_PASSWORD} characters")])
    new_password_again = PasswordField("New password again", validators=[
        EqualTo("new_password", message="the two new passwords differ")])


class TotpEnableForm(FlaskForm):
    code = StringField("Code shown by the app", validators=[DataRequired("enter the 6-digit code")])


class TotpDisableForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired("enter your password")])
    code = StringField("Current code", validators=[DataRequired("enter the 6-digit code")])


class MilestoneForm(Form):
    amount = StringField("Amount")
    label = StringField("Label", validators=[Length(max=200)])


class CampaignForm(FlaskForm):
    slug = StringField("Slug (URL name)", validators=[DataRequired("choose a slug"), Length(max=64)])
    title = StringField("Title", validators=[DataRequired("give a title"), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    target = MoneyField("Goal per period")
    currency = CurrencyField("Goal currency", default="USD")
    period = SelectField("Period", choices=options([(p, p.capitalize() if p != "once" else "One-off") for p in PERIODS]))
    timezone = SelectField("Time zone", choices=options(TIMEZONES), default="UTC")
    starts_at = DateTimeLocalField("Starts (in the campaign's time zone)", format=DATETIME_FORMATS,
                                   validators=[Optional(), plausible_year])
    ends_at = DateTimeLocalField("Ends", format=DATETIME_FORMATS, validators=[Optional(), plausible_year])
    status = SelectField("Status", choices=options([(s, s.capitalize()) for s in CAMPAIGN_STATUSES]), default="draft")
    milestones = FieldList(FormField(MilestoneForm), min_entries=4, max_entries=20)
    theme = SelectField("Widget theme", choices=options([(t, t.capitalize()) for t in THEMES]),
                        default=DISPLAY_DEFAULTS["theme"])
    accent = StringField("Accent colour", default=DISPLAY_DEFAULTS["accent"])
    show_donors = BooleanField("Show the number of donors", default=DISPLAY_DEFAULTS["show_donors"])
    show_pending = BooleanField("Show pending amounts", default=DISPLAY_DEFAULTS["show_pending"])
    show_days_left = BooleanField("Show days left", default=DISPLAY_DEFAULTS["show_days_left"])

    def validate(self, extra_validators: Any = None) -> bool:
        """Check every field, then each milestone amount in the goal currency."""
        valid = super().validate(extra_validators)
        self.parsed_milestones: list[MilestoneInput] = []
        if self.currency.errors:
            return False
        for entry in self.milestones:
            amount, label = entry.form.amount, entry.form.label
            if not (amount.data or "").strip():
                if (label.data or "").strip():
                    amount.errors = [*amount.errors, "give the milestone an amount"]
                    valid = False
                continue
            try:
                parsed = Money.parse(amount.data, self.currency.data)
            except MoneyError as exc:
                amount.errors = [*amount.errors, str(exc)]
                valid = False
                continue
            self.parsed_milestones.append(MilestoneInput(parsed, label.data or ""))
        if any(entry.errors for entry in self.milestones):
            # FieldList gathers its errors while validating: gather them again with ours.
            self.milestones.errors = [entry.errors for entry in self.milestones]
        return valid

    def load(self, campaign: Any) -> None:
        """Fill the form from a campaign (GET of the edit page)."""
        tz = campaign.timezone
        self.process(obj=None, data={
            "slug": campaign.slug, "title": campaign.title, "description": campaign.description,
            "target": Money(campaign.target_minor, campaign.currency).plain(), "currency": campaign.currency,
            "period": campaign.period, "timezone": tz, "status": campaign.status,
            "starts_at": as_local_input(campaign.starts_at, tz), "ends_at": as_local_input(campaign.ends_at, tz),
            "milestones": [{"amount": Money(m.amount_minor, campaign.currency).plain(), "label": m.label}
                           for m in campaign.milestones],
            **{key: campaign.display.get(key, default) for key, default in DISPLAY_DEFAULTS.items()},
        })
        while len(self.milestones) < len(campaign.milestones) + 2:
            self.milestones.append_entry()

    def to_input(self) -> CampaignInput:
        tz = self.timezone.data
        assert self.target.money is not None
        return CampaignInput(
            slug=self.slug.data.strip(), title=self.title.data, description=self.description.data or "",
            target=self.target.money, period=self.period.data, timezone=tz, status=self.status.data,
            starts_at=local_datetime(self.starts_at.data, tz), ends_at=local_datetime(self.ends_at.data, tz),
            milestones=self.parsed_milestones,
            display={"theme": self.theme.data, "accent": (self.accent.data or "").strip(),
                     "show_donors": self.show_donors.data, "show_pending": self.show_pending.data,
                     "show_days_left": self.show_days_left.data})


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=options(CAMPAIGN_STATUSES))


class RaisedToForm(FlaskForm):
    """"Set raised to…": the total wanted in the goal currency, which the view puts in `currency`."""

    amount = MoneyField("Raised so far should be", allow_zero=True)
    reason = StringField("Reason", validators=[DataRequired("say why the total is adjusted"), Length(max=500)])

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency


class DonationForm(FlaskForm):
    campaign = SelectField("Campaign", coerce=int, validators=[InputRequired("choose a campaign")])
    amount = MoneyField("Amount")
    currency = CurrencyField("Currency")
    received_at = DateTimeLocalField("Received (campaign's time zone; empty: now)", format=DATETIME_FORMATS,
                                     validators=[Optional(), plausible_year])
    status = SelectField("Status", choices=options([("confirmed", "Confirmed"), ("pending", "Pending")]))
    donor_name = StringField("Donor name", validators=[Length(max=200)])
    message = TextAreaField("Message", validators=[Length(max=2000)])
    is_public = BooleanField("The donor agreed to be listed publicly")
    reference = StringField("Reference (bank or transaction id)", validators=[Length(max=150)])
    #: One key per form page load: submitting the same form twice records one donation.
    form_key = HiddenField()
    #: Set on the confirm step: the exchange rate the admin was shown.
    shown_rate = HiddenField()

    def confirms(self, conversion: Conversion) -> bool:
        """True when no conversion is needed or the admin was shown exactly this one (else remember it)."""
        if conversion.rate is None:
            return True
        key = f"{conversion.rate.id}:{conversion.amount}:{conversion.converted}"
        seen = self.shown_rate.data == key
        self.shown_rate.data = key
        return seen

    def external_id(self) -> str:
        reference = (self.reference.data or "").strip()
        return f"ref:{reference}" if reference else f"form:{self.form_key.data}"


class DonationEditForm(FlaskForm):
    amount = MoneyField("Amount")
    currency = CurrencyField("Currency")
    received_at = DateTimeLocalField("Received (campaign's time zone)", format=DATETIME_FORMATS,
                                     validators=[DataRequired("give the date received"), plausible_year])
    donor_name = StringField("Donor name", validators=[Length(max=200)])
    message = TextAreaField("Message", validators=[Length(max=2000)])
    is_public = BooleanField("The donor agreed to be listed publicly")
    reason = StringField("Reason for the correction", validators=[DataRequired("say why"), Length(max=500)])


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired("say why"), Length(max=500)])


class ImportUploadForm(FlaskForm):
    file = FileField("Donations CSV")


class ImportConfirmForm(FlaskForm):
    #: The previewed CSV text, base64 (so browsers cannot rewrite its line ends).
    payload = HiddenField(validators=[DataRequired()])
    signature = HiddenField(validators=[DataRequired()])


class PaymentMethodForm(FlaskForm):
    kind = SelectField("Kind", choices=options([("address", "Coin address"), ("link", "Link"), ("email", "Contact e-mail")]))
    coin = StringField("Coin (BTC, BCH, ETH…) or channel name", validators=[Length(max=16)])
    network = SelectField("Network", choices=options(NETWORKS), default="mainnet")
    target = StringField("Address, https:// link or e-mail", validators=[DataRequired("enter the address"),
                                                                         Length(max=300)])
    label = StringField("Label", validators=[Length(max=200)])
    active = BooleanField("Shown to readers", default=True)
    #: The re-authentication step, shown when an address or link would change.
    password = PasswordField("Your password")
    code = StringField("Current two-factor code")
    confirmed = HiddenField()

    def to_input(self) -> PaymentMethodInput:
        return PaymentMethodInput(kind=self.kind.data, coin=self.coin.data or "", target=self.target.data or "",
                                  label=self.label.data or "", network=self.network.data,
                                  active=self.active.data)


class MoveForm(FlaskForm):
    direction = SelectField(choices=options([("-1", "up"), ("1", "down")]))


class RateForm(FlaskForm):
    base = CurrencyField("1 unit of", default="BTC")
    quote = CurrencyField("is worth, in", default="USD")
    rate = StringField("Rate", validators=[DataRequired("enter the rate, e.g. 63250.12")])
    as_of = DateTimeLocalField("As of (UTC)", format=DATETIME_FORMATS,
                               validators=[DataRequired("give the date"), plausible_year])
    source = StringField("Source", default="manual", validators=[DataRequired("say where the rate comes from"),
                                                                Length(max=200)])


class UserCreateForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("enter an e-mail address"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("choose a password")])
    role = SelectField("Role", choices=options(ROLES), default="admin")


class UserUpdateForm(FlaskForm):
    role = SelectField("Role", choices=options(ROLES))
    active = SelectField("Account", choices=options([("1", "active"), ("0", "deactivated")]))


class DonationFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    campaign = SelectField("Campaign", coerce=int, default=0)
    status = SelectField("Status", choices=options([("", "any"), *[(s, s) for s in DONATION_STATUSES]]), default="")
    source = SelectField("Source", choices=options([("", "any"), *[(s, s) for s in DONATION_SOURCES]]), default="")
    date_from = DateField("Received from", validators=[Optional(), plausible_year])
    date_to = DateField("to (inclusive)", validators=[Optional(), plausible_year])
    page = IntegerField(default=1, validators=[Optional()])

    def to_filter(self) -> DonationFilter:
        return DonationFilter(campaign_id=self.campaign.data or None, status=self.status.data or None,
                              source=self.source.data or None, received_from=day_start(self.date_from.data),
                              received_until=day_start(self.date_to.data, days=1))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    entity = SelectField("Entity", default="")
    action = StringField("Action (e.g. payment_method)")
    actor = StringField("User")
    date_from = DateField("From", validators=[Optional(), plausible_year])
    date_to = DateField("to (inclusive)", validators=[Optional(), plausible_year])
    page = IntegerField(default=1, validators=[Optional()])

    def to_filter(self) -> AuditFilter:
        return AuditFilter(entity=self.entity.data or None, action=(self.action.data or "").strip() or None,
                           actor=(self.actor.data or "").strip() or None, since=day_start(self.date_from.data),
                           until=day_start(self.date_to.data, days=1))

"""Forms for recording, correcting, refunding, filtering and importing donations, and for exchange rates."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..models import DONATION_SOURCES, DONATION_STATUSES
from ..web.forms import DATETIME_FORMATS, CurrencyField, MoneyField, day_start, options, plausible_year
from .queries import DonationFilter


class DonationForm(FlaskForm):
    # A select without an empty first option always has a value: HTML's `required` would be
    # meaningless there (and is invalid markup), so only the server checks it.
    campaign = SelectField("Campaign", coerce=int, validators=[InputRequired("choose a campaign")],
                           render_kw={"required": False})
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
    #: For a processor's export (Stripe, PayPal, Open Collective, or a mapped file), which names no campaign.
    campaign = StringField("Campaign slug (for a processor's export)", validators=[Length(max=100)])
    #: One COLUMN=FIELD per line, for a CSV of no known format.
    columns = TextAreaField("Column map (COLUMN=FIELD, one a line)", validators=[Length(max=2000)])
    source = SelectField("Source (with a column map)", default="import",
                         choices=options([(s, s) for s in ("import", "kofi", "givewp", "paypal", "stripe",
                                                           "opencollective", "csv")]))


class ImportConfirmForm(FlaskForm):
    #: The previewed CSV text, base64 (so browsers cannot rewrite its line ends).
    payload = HiddenField(validators=[DataRequired()])
    signature = HiddenField(validators=[DataRequired()])


class RateForm(FlaskForm):
    base = CurrencyField("1 unit of", default="BTC")
    quote = CurrencyField("is worth, in", default="USD")
    rate = StringField("Rate", validators=[DataRequired("enter the rate, e.g. 63250.12")])
    as_of = DateTimeLocalField("As of (UTC)", format=DATETIME_FORMATS,
                               validators=[DataRequired("give the date"), plausible_year])
    source = StringField("Source", default="manual", validators=[DataRequired("say where the rate comes from"),
                                                                Length(max=200)])


class DonationFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    campaign = SelectField("Campaign", coerce=int, default=0)
    status = SelectField("Status", choices=options([("", "any"), *[(s, s) for s in DONATION_STATUSES]]), default="")
    source = SelectField("Source", choices=options([("", "any"), *[(s, s) for s in DONATION_SOURCES]]), default="")
    date_from = DateField("Received from", validators=[Optional(), plausible_year])
    date_to = DateField("to (inclusive)", validators=[Optional(), plausible_year])

    def to_filter(self) -> DonationFilter:
        return DonationFilter(campaign_id=self.campaign.data or None, status=self.status.data or None,
                              source=self.source.data or None, received_from=day_start(self.date_from.data),
                              received_until=day_start(self.date_to.data, days=1))


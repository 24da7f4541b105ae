"""The campaign form (goal, period, dates, milestones, display) and its small companions."""
from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..models import CAMPAIGN_STATUSES, PERIODS
from ..money import Money, MoneyError
from ..web.forms import (
    DATETIME_FORMATS,
    CurrencyField,
    MoneyField,
    as_local_input,
    local_datetime,
    options,
    plausible_year,
)
from ..widget.options import DISPLAY_DEFAULTS, THEMES
from .operations import CampaignInput, MilestoneInput

TIMEZONES = sorted(available_timezones())


class MilestoneForm(Form):
    amount = StringField("Amount")
    label = StringField("Label", validators=[Length(max=200)])


class CampaignForm(FlaskForm):
    slug = StringField("Slug (URL name)", validators=[DataRequired("choose a slug"), Length(max=64)])
    title = StringField("Title", validators=[DataRequired("give a title"), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    target = MoneyField("Goal per period")
    currency = CurrencyField("Goal currency", default="USD")
    period = SelectField("Period", choices=options(
        [(p, p.capitalize() if p != "once" else "One-off") for p in PERIODS]))
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


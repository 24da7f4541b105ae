"""The campaign form (goal, period, dates, milestones, display) and its small companions."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, Sequence
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
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

from ..errors import InvalidInput
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
from .operations import MILESTONE_TRANSLATED_FIELDS, TRANSLATED_FIELDS, CampaignInput, MilestoneInput

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

    #: Locales besides the default one whose texts the form asks for ("de"); set by campaign_form.
    extra_locales: tuple[str, ...] = ()

    def validate(self, extra_validators: Any = None) -> bool:
        """Check every field, then each milestone amount in the goal currency."""
        valid = super().validate(extra_validators)
        self.parsed_milestones: list[MilestoneInput] = []
        #: The form row of each parsed milestone, to put a domain refusal next to it.
        self.milestone_rows: list[int] = []
        if self.currency.errors:
            return False
        for row, entry in enumerate(self.milestones):
            amount, label = entry.form.amount, entry.form.label
            if not (amount.data or "").strip():
                if (label.data or "").strip() or self._milestone_translations(entry.form):
                    amount.errors = [*amount.errors, "give the milestone an amount"]
                    valid = False
                continue
            try:
                parsed = Money.parse(amount.data, self.currency.data)
            except MoneyError as exc:
                amount.errors = [*amount.errors, str(exc)]
                valid = False
                continue
            self.parsed_milestones.append(
                MilestoneInput(parsed, label.data or "", self._milestone_translations(entry.form)))
            self.milestone_rows.append(row)
        self._gather_milestone_errors()
        return valid

    def _gather_milestone_errors(self) -> None:
        if any(entry.errors for entry in self.milestones):
            # FieldList gathers its errors while validating: gather them again with ours.
            self.milestones.errors = [entry.errors for entry in self.milestones]

    def _milestone_translations(self, row: Any) -> dict[str, dict[str, str]]:
        return _texts(row, MILESTONE_TRANSLATED_FIELDS, self.extra_locales)

    def show_problems(self, problems: Sequence[InvalidInput]) -> None:
        """Put each of the domain's refusals next to its field, unless that field already has an error."""
        for problem in problems:
            field = self._field_named(problem.field or "")
            if field is None:
                if problem.message not in self.form_errors:
                    self.form_errors.append(problem.message)
            elif not field.errors:
                field.errors = [*field.errors, problem.message]
        self._gather_milestone_errors()

    def _field_named(self, name: str) -> Any:
        """The field a domain problem names: `title`, `title_de`, `milestones-<n>-label` (n-th parsed one)."""
        if name.startswith("milestones-"):
            _, index, sub = (name.split("-", 2) + ["", ""])[:3]
            rows = getattr(self, "milestone_rows", [])
            if not index.isdigit() or int(index) >= len(rows):
                return None
            return self.milestones[rows[int(index)]].form._fields.get(sub)
        return self._fields.get(name)

    def load(self, campaign: Any) -> None:
        """Fill the form from a campaign (GET of the edit page)."""
        tz = campaign.timezone
        self.process(obj=None, data={
            "slug": campaign.slug, "title": campaign.title, "description": campaign.description,
            "target": Money(campaign.target_minor, campaign.currency).plain(), "currency": campaign.currency,
            "period": campaign.period, "timezone": tz, "status": campaign.status,
            "starts_at": as_local_input(campaign.starts_at, tz), "ends_at": as_local_input(campaign.ends_at, tz),
            "milestones": [{"amount": Money(m.amount_minor, campaign.currency).plain(), "label": m.label,
                            **_fields_of(m.translations, MILESTONE_TRANSLATED_FIELDS, self.extra_locales)}
                           for m in campaign.milestones],
            **{key: campaign.display.get(key, default) for key, default in DISPLAY_DEFAULTS.items()},
            **_fields_of(campaign.translations, TRANSLATED_FIELDS, self.extra_locales),
        })
        while len(self.milestones) < len(campaign.milestones) + 2:
            self.milestones.append_entry()

    def to_input(self, existing: Any = None) -> CampaignInput:
        """The values typed, once validated; after a failed validation, what parsed (the domain's
        rules then run on it so every problem shows at once, those of fields in error left out).

        The texts of locales the form does not ask for (no longer in site.locales) are kept from
        `existing`, the campaign edited, and from its milestone at the same amount.
        """
        tz = self.timezone.data if self.timezone.data in TIMEZONES else "UTC"
        kept = {m.amount_minor: m.translations for m in existing.milestones} if existing is not None else {}
        milestones = [replace(m, translations=self._keep_others(kept.get(m.amount.minor), m.translations))
                      for m in getattr(self, "parsed_milestones", [])]
        target = self.target.money
        if target is None:  # unparsed: its own error is shown; a stand-in no goal rule refuses
            currency = self.currency.data if not self.currency.errors else "USD"
            target = max((m.amount for m in milestones), key=lambda m: m.minor, default=Money(1, currency))

        def local(moment: Any) -> Any:
            return local_datetime(moment, tz) if not self.starts_at.errors and not self.ends_at.errors else None

        return CampaignInput(
            slug=(self.slug.data or "").strip(), title=self.title.data or "",
            description=self.description.data or "",
            target=target, period=self.period.data, timezone=tz, status=self.status.data,
            starts_at=local(self.starts_at.data), ends_at=local(self.ends_at.data),
            milestones=milestones,
            display={"theme": self.theme.data, "accent": (self.accent.data or "").strip(),
                     "show_donors": self.show_donors.data, "show_pending": self.show_pending.data,
                     "show_days_left": self.show_days_left.data},
            translations=self._keep_others(existing.translations if existing is not None else None,
                                           _texts(self, TRANSLATED_FIELDS, self.extra_locales)))

    def _keep_others(self, stored: dict[str, dict[str, str]] | None,
                     typed: Any) -> dict[str, dict[str, str]]:
        others = {locale: texts for locale, texts in (stored or {}).items() if locale not in self.extra_locales}
        return {**others, **(typed or {})}


def _texts(form: Any, fields: dict[str, int], locales: Sequence[str]) -> dict[str, dict[str, str]]:
    """{locale: {field: text}} from the form's `<field>_<locale>` fields, empty texts left out."""
    found = {locale: {name: form[f"{name}_{locale}"].data.strip() for name in fields
                      if (form[f"{name}_{locale}"].data or "").strip()} for locale in locales}
    return {locale: texts for locale, texts in found.items() if texts}


def _fields_of(translations: dict[str, dict[str, str]], fields: dict[str, int],
               locales: Sequence[str]) -> dict[str, str]:
    """The form data `{"title_de": "…"}` of stored translations."""
    return {f"{name}_{locale}": (translations or {}).get(locale, {}).get(name, "")
            for locale in locales for name in fields}


def language_name(locale: str) -> str:
    """"German" for "de", in the admin's English; the code itself when Babel does not know it."""
    try:
        return str(Locale.parse(locale).get_display_name("en"))
    except (UnknownLocaleError, ValueError):
        return locale


@lru_cache(maxsize=8)
def _form_class(extra_locales: tuple[str, ...]) -> type[CampaignForm]:
    """CampaignForm with optional fields for each extra locale's texts (title_de, label_de…)."""
    if not extra_locales:
        return CampaignForm
    row_fields: dict[str, Any] = {}
    fields: dict[str, Any] = {"extra_locales": extra_locales}
    for locale in extra_locales:
        language = language_name(locale)
        row_fields[f"label_{locale}"] = StringField(f"Label in {language}", validators=[Length(max=200)])
        fields[f"title_{locale}"] = StringField(f"Title in {language} (optional)", validators=[Length(max=200)])
        fields[f"description_{locale}"] = TextAreaField(f"Description in {language} (optional)",
                                                        validators=[Length(max=5000)])
    row_class = type("TranslatedMilestoneForm", (MilestoneForm,), row_fields)
    fields["milestones"] = FieldList(FormField(row_class), min_entries=4, max_entries=20)
    return type("TranslatedCampaignForm", (CampaignForm,), fields)


def campaign_form(locales: Sequence[str], default_locale: str, **kwargs: Any) -> CampaignForm:
    """The campaign form with a field per text for every locale of `locales` but the default."""
    extra = tuple(locale for locale in locales if locale != default_locale)
    return _form_class(extra)(**kwargs)


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=options(CAMPAIGN_STATUSES))


class RaisedToForm(FlaskForm):
    """"Set raised to…": the total wanted in the goal currency, which the view puts in `currency`."""

    amount = MoneyField("Raised so far should be", allow_zero=True)
    reason = StringField("Reason", validators=[DataRequired("say why the total is adjusted"), Length(max=500)])

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency


"""Campaigns (goals): create, edit, milestones, archive; every change audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..audit import Actor, record_event, snapshot
from ..donations.ledger import rebuild_totals
from ..errors import Conflict, InvalidInput, NotFound
from ..models import CAMPAIGN_STATUSES, PERIODS, Campaign, Milestone, utcnow
from ..money import Money, MoneyError, normalize_currency
from ..widget.options import validate_display

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
#: Slugs that name admin pages (/admin/campaigns/new): a campaign there could never be opened.
RESERVED_SLUGS = frozenset({"new"})


#: Texts an admin may give in other locales, with the longest each may be (as the default's).
TRANSLATED_FIELDS = {"title": 200, "description": 5000}
MILESTONE_TRANSLATED_FIELDS = {"label": 200}
#: A locale's name as the settings write it: "de", "pt_BR".
LOCALE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")

#: {locale: {field: text}}
Translations = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class MilestoneInput:
    amount: Money
    label: str
    #: The label in other locales, {"de": {"label": "…"}}; None keeps what an existing
    #: milestone at this amount has.
    translations: Translations | None = None


@dataclass(frozen=True)
class CampaignInput:
    """Validated-by-type values for a campaign; `save_campaign` checks the rules."""

    slug: str
    title: str
    target: Money
    period: str = "once"
    timezone: str = "UTC"
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    status: str = "draft"
    milestones: Sequence[MilestoneInput] = ()
    display: dict[str, Any] | None = None
    #: Title and description in other locales, {"de": {"title": "…"}}; None keeps the campaign's.
    translations: Translations | None = None


def get_campaign(session: Session, slug: str, *, public: bool = False) -> Campaign:
    """Load a campaign by slug (only active or archived ones when `public`), or NotFound."""
    query = select(Campaign).where(Campaign.slug == slug).options(selectinload(Campaign.milestones))
    if public:
        query = query.where(Campaign.status != "draft")
    campaign = session.scalar(query)
    if campaign is None:
        raise NotFound(f"there is no campaign {slug!r}")
    return campaign


def list_campaigns(session: Session, *, statuses: Sequence[str] = CAMPAIGN_STATUSES) -> list[Campaign]:
    return list(session.scalars(
        select(Campaign).where(Campaign.status.in_(statuses))
        .options(selectinload(Campaign.milestones)).order_by(Campaign.created_at, Campaign.id)))


class InvalidCampaign(InvalidInput):
    """Every problem of a campaign at once, each as an InvalidInput naming its field.

    Its message lists them all, for the CLI and the import report; forms show each by its field.
    """

    def __init__(self, problems: Sequence[InvalidInput]) -> None:
        super().__init__("; ".join(dict.fromkeys(p.message for p in problems)), field=problems[0].field)
        self.problems = tuple(problems)


def campaign_problems(session: Session, data: CampaignInput, existing: Campaign | None) -> list[InvalidInput]:
    """Everything wrong with `data`, each naming its field (`milestones-<n>-amount` for the n-th milestone's)."""
    problems: list[InvalidInput] = []

    def refuse(message: str, field: str) -> None:
        problems.append(InvalidInput(message, field=field))

    try:
        normalize_currency(data.target.currency)
    except MoneyError as exc:
        refuse(str(exc), "currency")
    if data.slug in RESERVED_SLUGS:
        refuse(f"the slug {data.slug!r} is taken by a page of the admin: choose another", "slug")
    elif not SLUG.fullmatch(data.slug):
        refuse("the slug uses lower-case letters, digits and hyphens (at most 64)", "slug")
    else:
        clash = session.scalar(select(Campaign.id).where(Campaign.slug == data.slug))
        if clash is not None and (existing is None or clash != existing.id):
            refuse(f"the slug {data.slug!r} is taken", "slug")
    if not data.title.strip() or len(data.title) > 200:
        refuse("give a title of at most 200 characters", "title")
    if len(data.description) > 5000:
        refuse("the description has at most 5000 characters", "description")
    if data.target.minor <= 0:
        refuse("the goal must be more than zero", "target")
    if data.period not in PERIODS:
        refuse(f"the period is one of {', '.join(PERIODS)}", "period")
    if data.status not in CAMPAIGN_STATUSES:
        refuse(f"the status is one of {', '.join(CAMPAIGN_STATUSES)}", "status")
    try:
        if data.timezone not in available_timezones():
            raise ZoneInfoNotFoundError(data.timezone)
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        refuse(f"unknown time zone {data.timezone!r}: use a name like Europe/Berlin", "timezone")
    for moment, field in ((data.starts_at, "starts_at"), (data.ends_at, "ends_at")):
        if moment is not None and moment.tzinfo is None:
            refuse("dates need a time zone", field)
    if (data.starts_at and data.ends_at and data.starts_at.tzinfo and data.ends_at.tzinfo
            and data.ends_at <= data.starts_at):
        refuse("the end must come after the start", "ends_at")
    if existing is not None and existing.currency != data.target.currency:
        refuse("the goal currency cannot change once a campaign exists: its ledger is kept in it", "currency")
    if data.display is not None:
        try:
            validate_display(data.display)
        except InvalidInput as exc:
            problems.append(exc)
    problems.extend(_translation_problems(data.translations, TRANSLATED_FIELDS, ""))
    seen: set[Money] = set()
    for index, milestone in enumerate(data.milestones):
        field, amount = f"milestones-{index}-", milestone.amount
        if amount.currency != data.target.currency:
            refuse("milestones are in the goal currency", field + "amount")
        elif amount.minor <= 0:
            refuse("milestones must be more than zero", field + "amount")
        elif amount.minor > data.target.minor:
            # The bar ends at the goal: a milestone past it would never be shown.
            refuse("a milestone cannot be above the goal: raise the goal or lower the milestone", field + "amount")
        elif amount in seen:
            refuse("two milestones have the same amount", field + "amount")
        seen.add(amount)
        if not milestone.label.strip():
            refuse("give the milestone a label: readers see it beside its tick", field + "label")
        elif len(milestone.label.strip()) > 200:
            refuse("a milestone label has at most 200 characters", field + "label")
        problems.extend(_translation_problems(milestone.translations, MILESTONE_TRANSLATED_FIELDS, field))
    return problems


def _translation_problems(translations: Translations | None, fields: Mapping[str, int],
                          prefix: str) -> list[InvalidInput]:
    """Unknown locales or fields and over-long texts; the field is named like `title_de`."""
    problems: list[InvalidInput] = []
    if translations is not None and not isinstance(translations, Mapping):
        return [InvalidInput("the translations are a mapping of locale to texts", field=f"{prefix}translations")]
    for locale, texts in (translations or {}).items():
        if not isinstance(locale, str) or not LOCALE.fullmatch(locale) or not isinstance(texts, Mapping):
            problems.append(InvalidInput(f"unknown locale {locale!r} in the translations",
                                         field=f"{prefix}translations"))
            continue
        for name, value in texts.items():
            if name not in fields or not isinstance(value, str):
                problems.append(InvalidInput(f"unknown translated text {name!r}", field=f"{prefix}translations"))
            elif len(value.strip()) > fields[name]:
                problems.append(InvalidInput(f"at most {fields[name]} characters", field=f"{prefix}{name}_{locale}"))
    return problems


def _clean_translations(translations: Translations) -> dict[str, dict[str, str]]:
    """The translations stripped, empty texts and locales without any left out."""
    cleaned = {locale: {name: value.strip() for name, value in texts.items() if value.strip()}
               for locale, texts in translations.items()}
    return {locale: texts for locale, texts in sorted(cleaned.items()) if texts}


def save_campaign(session: Session, data: CampaignInput, *, actor: Actor,
                  campaign: Campaign | None = None) -> Campaign:
    """Create a campaign, or update `campaign`, from `data`; audited, flushed, not committed.

    Refused with InvalidCampaign, which carries every problem, before anything changes.
    """
    problems = campaign_problems(session, data, campaign)
    if problems:
        raise InvalidCampaign(problems)
    before = snapshot(campaign) if campaign is not None else None
    before_milestones = _milestone_list(campaign) if campaign is not None else None
    moves_periods = campaign is not None and (
        campaign.period != data.period or campaign.timezone != data.timezone)
    if campaign is None:
        campaign = Campaign(currency=data.target.currency)
        session.add(campaign)
    campaign.slug = data.slug
    campaign.title = data.title.strip()
    campaign.description = data.description.strip()
    campaign.target_minor = data.target.minor
    campaign.period = data.period
    campaign.timezone = data.timezone
    campaign.starts_at = data.starts_at
    campaign.ends_at = data.ends_at
    campaign.status = data.status
    campaign.display = validate_display(data.display if data.display is not None else campaign.display)
    if data.translations is not None:
        campaign.translations = _clean_translations(data.translations)
    campaign.updated_at = utcnow()
    wanted = {m.amount.minor: m for m in data.milestones}
    for milestone in list(campaign.milestones):
        if milestone.amount_minor not in wanted:
            campaign.milestones.remove(milestone)
        else:
            _fill_milestone(milestone, wanted.pop(milestone.amount_minor))
    session.flush()
    for amount, given in sorted(wanted.items()):
        campaign.milestones.append(_fill_milestone(Milestone(amount_minor=amount, translations={}), given))
    session.flush()
    session.refresh(campaign, ["milestones"])
    if moves_periods:
        rebuild_totals(session, campaign)
    after = snapshot(campaign) | {"milestones": _milestone_list(campaign)}
    if before is not None:
        before = before | {"milestones": before_milestones}
    record_event(session, actor, "campaign.update" if before else "campaign.create", campaign,
                 before=before, after=after)
    return campaign


def _fill_milestone(milestone: Milestone, given: MilestoneInput) -> Milestone:
    milestone.label = given.label.strip()
    if given.translations is not None:
        milestone.translations = _clean_translations(given.translations)
    return milestone


def _milestone_list(campaign: Campaign) -> list[list[Any]]:
    return [[m.amount_minor, m.label, *([m.translations] if m.translations else [])] for m in campaign.milestones]


def set_status(session: Session, campaign: Campaign, status: str, *, actor: Actor) -> Campaign:
    """Activate, archive or return a campaign to draft."""
    if status not in CAMPAIGN_STATUSES:
        raise InvalidInput(f"the status is one of {', '.join(CAMPAIGN_STATUSES)}", field="status")
    if campaign.status == status:
        raise Conflict(f"the campaign is already {status}")
    before = snapshot(campaign)
    campaign.status = status
    campaign.updated_at = utcnow()
    record_event(session, actor, f"campaign.{status}", campaign, before=before)
    return campaign

"""Campaigns (goals): create, edit, milestones, archive; every change audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence
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


@dataclass(frozen=True)
class MilestoneInput:
    amount: Money
    label: str


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


def _check(session: Session, data: CampaignInput, existing: Campaign | None) -> None:
    if data.slug in RESERVED_SLUGS:
        raise InvalidInput(f"the slug {data.slug!r} is taken by a page of the admin: choose another",
                           field="slug")
    if not SLUG.fullmatch(data.slug):
        raise InvalidInput("the slug uses lower-case letters, digits and hyphens (at most 64)", field="slug")
    clash = session.scalar(select(Campaign.id).where(Campaign.slug == data.slug))
    if clash is not None and (existing is None or clash != existing.id):
        raise InvalidInput(f"the slug {data.slug!r} is taken", field="slug")
    if not data.title.strip() or len(data.title) > 200:
        raise InvalidInput("give a title of at most 200 characters", field="title")
    if data.target.minor <= 0:
        raise InvalidInput("the goal must be more than zero", field="target")
    if data.period not in PERIODS:
        raise InvalidInput(f"the period is one of {', '.join(PERIODS)}", field="period")
    if data.status not in CAMPAIGN_STATUSES:
        raise InvalidInput(f"the status is one of {', '.join(CAMPAIGN_STATUSES)}", field="status")
    try:
        if data.timezone not in available_timezones():
            raise ZoneInfoNotFoundError(data.timezone)
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {data.timezone!r}: use a name like Europe/Berlin",
                           field="timezone") from None
    for moment, field in ((data.starts_at, "starts_at"), (data.ends_at, "ends_at")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("dates need a time zone", field=field)
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise InvalidInput("the end must come after the start", field="ends_at")
    amounts = [m.amount for m in data.milestones]
    if existing is not None and existing.currency != data.target.currency:
        raise InvalidInput("the goal currency cannot change once a campaign exists: "
                           "its ledger is kept in it", field="currency")
    for amount in amounts:
        if amount.currency != data.target.currency:
            raise InvalidInput("milestones are in the goal currency", field="milestones")
        if amount.minor <= 0:
            raise InvalidInput("milestones must be more than zero", field="milestones")
    if len(set(amounts)) != len(amounts):
        raise InvalidInput("two milestones have the same amount", field="milestones")


def save_campaign(session: Session, data: CampaignInput, *, actor: Actor,
                  campaign: Campaign | None = None) -> Campaign:
    """Create a campaign, or update `campaign`, from `data`; audited, flushed, not committed."""
    try:
        normalize_currency(data.target.currency)
    except MoneyError as exc:
        raise InvalidInput(str(exc), field="currency") from None
    _check(session, data, campaign)
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
    campaign.updated_at = utcnow()
    wanted = {m.amount.minor: m.label.strip()[:200] for m in data.milestones}
    for milestone in list(campaign.milestones):
        if milestone.amount_minor not in wanted:
            campaign.milestones.remove(milestone)
        else:
            milestone.label = wanted.pop(milestone.amount_minor)
    session.flush()
    for amount, label in sorted(wanted.items()):
        campaign.milestones.append(Milestone(amount_minor=amount, label=label))
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


def _milestone_list(campaign: Campaign) -> list[list[Any]]:
    return [[m.amount_minor, m.label] for m in campaign.milestones]


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

"""The "by article" report: confirmed gifts and their total per `ref` of one campaign, period by period.

A gift's `ref` is the article it is attributed to: the fresh address handed out for it
(chains.receiving), `?ref=` on the support page, or a processor's metadata. One grouped read of
the ledger over the `ix_donation_campaign_ref` index; adjustments and unattributed gifts apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Campaign, Donation
from ..money import Money


@dataclass
class ArticlePeriod:
    #: Start (UTC) of the campaign period; 1970-01-01 for a one-off campaign.
    start: datetime
    gifts: int
    total: Money


@dataclass
class ArticleRow:
    ref: str
    gifts: int
    total: Money
    periods: list[ArticlePeriod] = field(default_factory=list)


def by_article(session: Session, campaign: Campaign, *, ref: str | None = None) -> list[ArticleRow]:
    """Per article (largest total first), its confirmed gifts and total, and the same per period (newest first)."""
    query = (select(Donation.ref, Donation.period_start, func.count(), func.sum(Donation.goal_amount_minor))
             .where(Donation.campaign_id == campaign.id, Donation.ref.is_not(None), Donation.status == "confirmed",
                    Donation.source != "adjustment")
             .group_by(Donation.ref, Donation.period_start))
    if ref is not None:
        query = query.where(Donation.ref == ref)
    rows: dict[str, ArticleRow] = {}
    for article, start, gifts, total in session.execute(query):
        if article is None:  # excluded by the query; tells the type checker
            continue
        row = rows.setdefault(article, ArticleRow(article, 0, Money.zero(campaign.currency)))
        amount = Money(int(total), campaign.currency)
        row.gifts += gifts
        row.total = row.total + amount
        row.periods.append(ArticlePeriod(start, gifts, amount))
    for row in rows.values():
        row.periods.sort(key=lambda period: period.start, reverse=True)
    return sorted(rows.values(), key=lambda row: (-row.total.minor, row.ref))

"""The "by article" report: confirmed gifts and their total per `ref` of one campaign, period by period.

A gift's `ref` is the article it is attributed to: the fresh address handed out for it
(chains.receiving), `?ref=` on the support page, or a processor's metadata. Read from the
`article_total` rows the ledger keeps (one per article and period), not summed over the
gifts; adjustments and unattributed gifts are not in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ArticleTotal, Campaign
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
    query = (select(ArticleTotal.ref, ArticleTotal.period_start, ArticleTotal.gift_count, ArticleTotal.gifts_minor)
             .where(ArticleTotal.campaign_id == campaign.id, ArticleTotal.gift_count > 0))
    if ref is not None:
        query = query.where(ArticleTotal.ref == ref)
    rows: dict[str, ArticleRow] = {}
    for article, start, gifts, total in session.execute(query):
        row = rows.setdefault(article, ArticleRow(article, 0, Money.zero(campaign.currency)))
        amount = Money(int(total), campaign.currency)
        row.gifts += gifts
        row.total = row.total + amount
        row.periods.append(ArticlePeriod(start, gifts, amount))
    for row in rows.values():
        row.periods.sort(key=lambda period: period.start, reverse=True)
    return sorted(rows.values(), key=lambda row: (-row.total.minor, row.ref))

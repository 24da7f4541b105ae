"""Admin pages of the chains: each watcher's status, the payments seen, derived addresses, the by-article report."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from ..admin.blueprint import bp
from ..campaigns.operations import get_campaign
from ..config import CHAIN_BACKENDS
from ..donations.by_article import by_article
from ..models import ChainPayment, ChainWatcher, PaymentMethod, utcnow
from ..web import db, settings
from ..web.access import requires
from .receiving import addresses_of, gap_reached
from .watcher import required_confirmations, watched_coins

#: Payments listed on the chains page.
LATEST = 50


@bp.get("/chains")
@requires("viewer")
def chains() -> str:
    """Each watched coin's last good answer and last error, the latest payments seen, the derived addresses."""
    session, config = db(), settings()
    coins = watched_coins(config)
    statuses = {coin: session.get(ChainWatcher, coin) for coin in coins}
    payments = list(session.scalars(select(ChainPayment).order_by(ChainPayment.first_seen_at.desc(),
                                                                  ChainPayment.id.desc()).limit(LATEST)))
    keys = list(session.scalars(select(PaymentMethod).where(PaymentMethod.kind == "xpub").order_by(PaymentMethod.id)))
    return render_template(
        "admin/chains.html", coins=coins, statuses=statuses, payments=payments, now=utcnow(),
        depth={coin: required_confirmations(config, coin) for coin in coins},
        unwatched=[c.upper() for c in CHAIN_BACKENDS if c.upper() not in coins],
        keys=[(key, addresses_of(session, key), gap_reached(session, key, config.chains.gap_limit)) for key in keys],
        gap_limit=config.chains.gap_limit)


@bp.get("/campaigns/<slug>/articles")
@requires("viewer")
def campaign_articles(slug: str) -> str:
    """The by-article report of one campaign: confirmed gifts and total per article, period by period."""
    campaign = get_campaign(db(), slug)
    return render_template("admin/articles.html", campaign=campaign, rows=by_article(db(), campaign))

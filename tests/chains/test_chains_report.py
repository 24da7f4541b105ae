"""The by-article report: the admin page, the JSON API for one campaign; the chains admin page."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from factories import new_campaign

from tracker.audit import Actor
from tracker.donations.by_article import by_article
from tracker.donations.ledger import record_donation
from tracker.models import ChainWatcher
from tracker.money import Money

WATCHER = Actor(name="test")


def _gift(session, campaign, amount, ref, *, when, status="confirmed", key):
    record_donation(session, campaign, Money.parse(amount, "USD"), actor=WATCHER, source="chain", external_id=key,
                    status=status, received_at=when, ref=ref)


def _ledger(session):
    campaign = new_campaign(session, "news", period="monthly")
    nov, dec = datetime(2026, 11, 20, tzinfo=timezone.utc), datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    _gift(session, campaign, "100", "article-one", when=nov, key="a")
    _gift(session, campaign, "20", "article-one", when=dec, key="b")
    _gift(session, campaign, "30", "article-two", when=dec, key="c")
    _gift(session, campaign, "999", "article-two", when=dec, key="d", status="pending")  # not counted yet
    _gift(session, campaign, "5", None, when=dec, key="e")  # not attributed
    session.commit()
    return campaign


def test_gifts_and_totals_per_article_period_by_period(session):
    campaign = _ledger(session)
    rows = by_article(session, campaign)
    assert [(r.ref, r.gifts, str(r.total)) for r in rows] == [("article-one", 2, "120.00 USD"),
                                                             ("article-two", 1, "30.00 USD")]
    assert [(p.start.month, p.gifts, p.total.minor) for p in rows[0].periods] == [(12, 1, 2000), (11, 1, 10000)]


def test_the_article_totals_are_kept_by_the_ledger_and_read_without_the_gifts(session, engine):
    from factories import CLI, counting_statements

    from tracker.donations.ledger import (
        confirm_donation,
        correct_donation,
        rebuild_totals,
        refund_donation,
        verify_totals,
    )
    from tracker.models import ArticleTotal, Donation

    campaign = _ledger(session)
    gifts = {d.external_id: d for d in session.query(Donation)}
    confirm_donation(session, gifts["d"], actor=CLI)  # the pending 999 now counts for article two
    refund_donation(session, gifts["a"], actor=CLI, reason="chargeback")  # November's 100 no longer does
    correct_donation(session, gifts["b"], campaign, actor=CLI, reason="typo", amount=Money.parse("25", "USD"))
    session.commit()
    assert verify_totals(session, campaign) == []
    with counting_statements(engine) as statements:
        rows = by_article(session, campaign)
    assert [(r.ref, r.gifts, str(r.total)) for r in rows] == [("article-two", 2, "1029.00 USD"),
                                                             ("article-one", 1, "25.00 USD")]
    assert statements and not any("FROM donation" in statement for statement in statements), statements
    # A total out of step with the ledger is reported; rebuilding puts it right.
    session.query(ArticleTotal).filter(ArticleTotal.ref == "article-two").update({"gift_count": 7})
    session.commit()
    assert any("article article-two" in problem for problem in verify_totals(session, campaign))
    rebuild_totals(session, campaign)
    session.commit()
    assert verify_totals(session, campaign) == []


def test_the_json_api_gives_one_campaigns_articles(client, session):
    _ledger(session)
    answer = client.get("/api/v1/campaigns/news/articles")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    data = answer.get_json()
    assert data["currency"] == "USD"
    assert [(a["ref"], a["gifts"], a["total"]) for a in data["articles"]] == [("article-one", 2, "120.00"),
                                                                             ("article-two", 1, "30.00")]
    one = client.get("/api/v1/campaigns/news/articles?ref=article-two").get_json()
    assert [a["ref"] for a in one["articles"]] == ["article-two"]
    assert client.get("/api/v1/campaigns/news/articles?ref=a%20b").status_code == 400
    assert client.get("/api/v1/campaigns/nope/articles").status_code == 404


def test_the_admin_report_and_the_chains_page(admin, session):
    _ledger(session)
    session.add(ChainWatcher(coin="BTC", last_error="127.0.0.1/blocks/tip/height could not be reached", failures=3,
                             updated_at=datetime.now(timezone.utc)))
    session.commit()
    page = admin.get("/admin/campaigns/news/articles").get_data(as_text=True)
    assert "article-one" in page and "$120" in page and "article-two" in page
    assert "999" not in page
    chains = admin.get("/admin/chains")
    assert chains.status_code == 200
    assert "No coin is watched" in chains.get_data(as_text=True)


def test_the_report_needs_a_signed_in_user(client, session):
    _ledger(session)
    assert client.get("/admin/campaigns/news/articles").status_code in (302, 401, 403)


def test_the_chains_page_shows_each_watchers_last_good_answer_and_error(clean_db, settings_factory, make_user,
                                                                        session):
    from datetime import timedelta

    from factories import PASSWORD

    from tracker import create_app

    app = create_app(settings_factory(**{"chains.btc.backend": "esplora", "chains.btc.url": "http://127.0.0.1:9"}))
    app.config["WTF_CSRF_ENABLED"] = False
    now = datetime.now(timezone.utc)
    session.add(ChainWatcher(coin="BTC", last_success_at=now - timedelta(minutes=14), failures=2,
                             last_error="127.0.0.1/blocks/tip/height could not be reached", updated_at=now))
    session.commit()
    try:
        client = app.test_client()
        make_user(email="admin@example.org", role="viewer")
        assert client.post("/admin/login", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 302
        page = client.get("/admin/chains").get_data(as_text=True)
        text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
        assert "BTC watcher: last good answer 14 min ago" in text
        assert "2 failed pass(es) in a row: 127.0.0.1/blocks/tip/height could not be reached" in text
        assert "counts at 2 confirmations" in text
    finally:
        app.extensions["tracker_engine"].dispose()


def test_the_widget_tells_what_readers_of_an_article_gave(client, session):
    _ledger(session)
    page = client.get("/widget/news?ref=article-one&show=article")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Readers of this article gave $120" in text
    assert 'href="http://127.0.0.1:5000/c/news?ref=article-one"' in text  # "Support us" keeps the article
    german = client.get("/widget/news?ref=article-two&show=article", headers={"Accept-Language": "de"})
    assert "Leserinnen und Leser dieses Artikels gaben 30\xa0$" in german.get_data(as_text=True)
    plain = client.get("/widget/news?ref=article-one").get_data(as_text=True)
    assert "Readers of this article" not in plain
    assert client.get("/widget/news?ref=%3Cscript%3E&show=article").status_code == 400


def test_the_images_show_what_readers_of_an_article_gave_when_asked(client, session):
    _ledger(session)
    svg = client.get("/widget/news.svg?ref=article-one&show=article").get_data(as_text=True)
    assert "Readers of this article gave $120" in svg
    assert "Readers of this article" not in client.get("/widget/news.svg").get_data(as_text=True)
    png = client.get("/widget/news.png?ref=article-one&show=article")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data != client.get("/widget/news.png").data

"""Fresh addresses from an extended public key: one per article, the next once paid, the gap limit, attribution."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from chain_helpers import fixture
from sqlalchemy import select

from tracker.chains.receiving import clean_ref, gap_reached, receiving_address
from tracker.chains.watcher import watch_coin
from tracker.errors import InvalidQuery
from tracker.models import DerivedAddress, Donation

VECTORS = fixture("bip32_bip84_vectors.json")
ZPUB = VECTORS["bip84"]["account_zpub"]
FIRST, SECOND = VECTORS["bip84"]["receiving"]


@pytest.fixture()
def key_method(add_method):
    return add_method("BTC", ZPUB, kind="xpub", label="Bitcoin")


def test_each_article_gets_its_own_address_and_keeps_it_until_paid(session, key_method):
    one = receiving_address(session, key_method, "article-one", gap_limit=20)
    again = receiving_address(session, key_method, "article-one", gap_limit=20)
    other = receiving_address(session, key_method, "https://news.example/2026/other", gap_limit=20)
    session.commit()
    assert (one.address.address, one.address.derivation_index) == (FIRST, 0)
    assert again.address.id == one.address.id
    assert (other.address.address, other.address.derivation_index) == (SECOND, 1)
    one.address.paid_at = datetime.now(timezone.utc)
    session.commit()
    after = receiving_address(session, key_method, "article-one", gap_limit=20)
    assert after.address.derivation_index == 2 and after.address.address not in (FIRST, SECOND)


def test_never_more_unpaid_addresses_than_the_gap_limit(session, key_method):
    handed = [receiving_address(session, key_method, f"article-{i}", gap_limit=3) for i in range(5)]
    session.commit()
    assert [h.own for h in handed] == [True, True, True, False, False]
    assert len(session.scalars(select(DerivedAddress)).all()) == 3
    assert gap_reached(session, key_method, 3)
    # Beyond the gap, an article shares an existing address instead of deriving one past the wallet's view.
    assert handed[3].address.derivation_index in (0, 1, 2)


@pytest.mark.parametrize("text, expected", [
    ("  my-article  ", "my-article"),
    ("2026/12/chains", "2026/12/chains"),
    ("HTTPS://News.Example/a/b/?utm_source=x#top", "https://news.example/a/b"),
    ("", None),
    (None, None),
])
def test_refs_are_cleaned(text, expected):
    assert clean_ref(text) == expected


@pytest.mark.parametrize("text, message", [
    ("x" * 201, "too long"),
    ("a b", "spaces"),
    ("<script>", "slug"),
    ("javascript:alert(1)", "slug"),
    ("https://", "full URL"),
    ("a\u202eb", "control"),
])
def test_bad_refs_are_refused_with_the_reason(text, message):
    with pytest.raises(InvalidQuery, match=message):
        clean_ref(text)


def _paying(address: str, txid: str, value: int) -> dict:
    tx = copy.deepcopy(fixture("esplora/address_txs.json")[0])  # a mempool gift in output 1
    tx["txid"] = txid
    tx["vout"][1]["scriptpubkey_address"] = address
    tx["vout"][1]["value"] = value
    return tx


def test_gifts_to_two_articles_addresses_are_attributed_apart(session, replay, settings_factory, make_campaign,
                                                            key_method, rate):
    make_campaign("news", currency="USD")
    rate("BTC", "USD", "50000", datetime.now(timezone.utc) - timedelta(hours=1))
    one = receiving_address(session, key_method, "article-one", gap_limit=20).address
    two = receiving_address(session, key_method, "article-two", gap_limit=20).address
    session.commit()
    replay.answer("/blocks/tip/height", "600000")
    replay.answer(f"/address/{one.address}/txs", [_paying(one.address, "1" * 64, 100000)])
    replay.answer(f"/address/{two.address}/txs", [_paying(two.address, "2" * 64, 20000)])
    settings = settings_factory(**{"chains.btc.backend": "esplora", "chains.btc.url": replay.url})
    result = watch_coin(session, settings, "BTC")
    session.commit()
    assert result.ok and result.recorded == 2, result.summary()
    gifts = {d.ref: d.goal_amount_minor for d in session.scalars(select(Donation))}
    assert gifts == {"article-one": 50_00, "article-two": 10_00}
    session.expire_all()
    assert session.get(DerivedAddress, one.id).paid_at is not None
    # article-one's address is paid: its readers now get the next one; article-two's too.
    assert receiving_address(session, key_method, "article-one", gap_limit=20).address.derivation_index == 2


def test_the_support_page_shows_the_articles_address_never_the_key(client, session, key_method):
    from factories import new_campaign

    new_campaign(session, "news")
    page = client.get("/support?ref=article-one")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert FIRST[:4] in text and "".join(FIRST[i:i + 4] for i in range(0, len(FIRST), 4)) in text.replace(
        "</span><span>", "")
    assert ZPUB not in text and ZPUB[:20] not in text
    other = client.get("/support?ref=article-two").get_data(as_text=True)
    assert SECOND[:8] in other.replace("</span><span>", "")
    derived = session.scalars(select(DerivedAddress).where(DerivedAddress.ref == "article-one")).one()
    qr = client.get(f"/qr/{key_method.id}.svg?d={derived.id}")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert client.get(f"/qr/{key_method.id}.svg").status_code == 404  # the key has no QR code of its own
    assert client.get(f"/qr/{key_method.id}.svg?d=x").status_code == 400


def test_a_bad_ref_on_the_support_page_is_a_400_with_the_reason(client, session, key_method):
    response = client.get("/support?ref=" + "x" * 300)
    assert response.status_code == 400
    assert "too long" in response.get_data(as_text=True)
    assert session.scalars(select(DerivedAddress)).all() == []

"""QR images: served only for stored, active addresses; a real decoder reads back the exact payment URI."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import zxingcpp
from markupsafe import escape
from PIL import Image
from public_helpers import mainnet_addresses

from tracker import create_app
from tracker.coins import COINS, payment_uri
from tracker.qr import qr_svg

ADDRESSES = mainnet_addresses()


def decode_png(data: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def test_every_coin_has_a_test_address():
    assert set(ADDRESSES) == set(COINS)


#: A publication's name that needs percent-encoding in a URI (UTF-8, "&", ":", spaces).
PAYEE = "Café Zeitung: dons & Spenden"


@pytest.mark.parametrize("coin", sorted(COINS))
def test_png_decodes_to_the_exact_payment_uri(settings_factory, clean_db, add_method, coin):
    app = create_app(settings_factory(**{"site.name": PAYEE}))
    client = app.test_client()
    method = add_method(coin, ADDRESSES[coin], label="Our coin address")
    response = client.get(f"/qr/{method.id}.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    # The label a wallet shows as the payee is the publication's name (EIP-681 has none for Ether).
    expected = payment_uri(coin, method.target, label=PAYEE)
    assert decode_png(response.data) == expected
    assert "Our%20coin" not in expected
    with_amount = client.get(f"/qr/{method.id}.png?amount=0.0001")
    assert decode_png(with_amount.data) == payment_uri(coin, method.target, Decimal("0.0001"), label=PAYEE)
    assert decode_png(with_amount.data) != expected
    page = client.get(f"/qr/{method.id}?amount=0.0001").get_data(as_text=True)
    assert f'href="{escape(payment_uri(coin, method.target, Decimal("0.0001"), label=PAYEE))}"' in page
    assert f"Open in your {COINS[coin].name} wallet" in page
    app.extensions["tracker_engine"].dispose()


def test_svg_is_the_qr_module_drawing_of_the_uri(client, demo_site):
    response = client.get(f"/qr/{demo_site.btc.id}.svg?amount=0.00016667")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    uri = payment_uri("BTC", demo_site.btc.target, Decimal("0.00016667"), label="Example News")
    assert response.data.decode() == qr_svg(uri)


def test_an_address_in_the_url_is_never_drawn(client, demo_site):
    attacker = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    response = client.get(f"/qr/{demo_site.btc.id}.png?address={attacker}&target={attacker}")
    assert decode_png(response.data) == payment_uri("BTC", demo_site.btc.target, label="Example News")
    assert client.get(f"/qr/{attacker}.png").status_code == 404


def test_qr_images_are_cacheable_with_a_strong_etag(client, demo_site):
    response = client.get(f"/qr/{demo_site.btc.id}.svg")
    assert response.headers["Cache-Control"] in ("public, max-age=3600", "max-age=3600, public")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and len(etag) == 34  # strong (no W/ prefix), known before drawing
    again = client.get(f"/qr/{demo_site.btc.id}.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    png = client.get(f"/qr/{demo_site.btc.id}.png", headers={"If-None-Match": etag})
    assert png.status_code == 200 and png.headers["ETag"] != etag
    other_amount = client.get(f"/qr/{demo_site.btc.id}.svg?amount=0.001", headers={"If-None-Match": etag})
    assert other_amount.status_code == 200


@pytest.mark.parametrize("amount, reason", [
    ("abc", "'abc' is not an amount"),
    ("-0.1", "the amount must be positive"),
    ("123456789012345678901234567890", "the amount is too large"),
    ("0.000000001", "BTC has 8 decimal places"),
    ("0", "more than zero"),
])
def test_bad_amounts_are_a_400_with_the_reason(client, demo_site, amount, reason):
    response = client.get(f"/qr/{demo_site.btc.id}.svg", query_string={"amount": amount})
    assert response.status_code == 400
    # An <img> gets an image saying what is wrong, never an HTML page it cannot show.
    assert response.mimetype == "image/svg+xml"
    assert reason in response.get_data(as_text=True).replace("&#x27;", "'")
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_xmr_takes_twelve_places_and_eth_nine(client, add_method):
    xmr = add_method("XMR", ADDRESSES["XMR"])
    eth = add_method("ETH", ADDRESSES["ETH"])
    assert client.get(f"/qr/{xmr.id}.png?amount=0.000000000001").status_code == 200
    assert client.get(f"/qr/{eth.id}.png?amount=0.000000001").status_code == 200
    assert client.get(f"/qr/{eth.id}.png?amount=0.0000000001").status_code == 400


def test_only_active_address_methods_have_qr_codes(client, add_method, demo_site):
    inactive = add_method(target="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", label="Retired", active=False)
    for path in (f"/qr/{inactive.id}.svg", f"/qr/{demo_site.email.id}.svg", "/qr/987654.png",
                 "/qr/99999999999999999999.svg", "/qr/0.png"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == ("image/svg+xml" if path.endswith(".svg") else "image/png"), path


def test_a_matching_etag_costs_no_drawing_and_new_amounts_spend_the_render_budget(clean_db, settings_factory,
                                                                                   demo_site, monkeypatch):
    """The attack run: every new `?amount=` was a fresh 22 ms drawing, without limit."""
    from tracker import create_app
    from tracker.public import page
    from tracker.widget.cache import RenderCache

    monkeypatch.setattr(page, "_QR_DRAWN", RenderCache())  # nothing drawn yet in this process
    app = create_app(settings_factory(**{"widget.render_budget_per_minute": 5}))
    client = app.test_client()
    url = f"/qr/{demo_site.btc.id}.svg"
    etag = client.get(url).headers["ETag"]
    drawn = []
    monkeypatch.setattr(page, "qr_svg", lambda uri: drawn.append(uri) or "<svg/>")
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304 and drawn == []
    statuses = [client.get(f"{url}?amount=0.00{i + 1}").status_code for i in range(8)]
    assert statuses == [200] * 4 + [429] * 4  # the first drawing of the plain code spent one
    assert len(drawn) == 4
    assert client.get(url).status_code == 200  # already drawn: readers of the page are not refused
    app.extensions["tracker_engine"].dispose()



def test_a_presets_qr_link_opens_a_small_page_with_amount_address_and_a_way_back(client, demo_site):
    from public_helpers import page_text, parse_html

    page = parse_html(client.get("/support").data)
    (link,) = [a for a in page.find("a", class_="preset-qr") if "amount=0.00016667" in a.attrs["href"]]
    assert link.attrs["href"].startswith(f"/qr/{demo_site.btc.id}?")
    response = client.get(link.attrs["href"].replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "text/html"
    qr_page, text = parse_html(response.data), page_text(response.data)
    assert "Pay with Bitcoin" in text and "Amount: 0.00016667 BTC" in text
    assert demo_site.btc.target in text
    (image,) = qr_page.find("img", class_="qr")
    assert image.attrs["src"].startswith(f"/qr/{demo_site.btc.id}.svg?") and "amount=0.00016667" in image.attrs["src"]
    assert client.get(image.attrs["src"].replace("&amp;", "&")).mimetype == "image/svg+xml"
    assert qr_page.find("a", href="/support#ways-to-give")
    assert qr_page.find("a", class_="wallet-link")[0].attrs["href"].startswith("bitcoin:")
    assert b"<script" not in response.data
    assert client.get(f"/qr/{demo_site.btc.id}?amount=1e5").status_code == 400

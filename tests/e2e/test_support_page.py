"""The support page in headless Chromium: the copy button copies the exact address, QR codes load, no JS needed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.demo import load_demo
from tracker.models import PaymentMethod

pytestmark = pytest.mark.e2e


@pytest.fixture()
def addresses(session):
    """Demo data in the live server's database; the stored address methods by coin."""
    load_demo(session)
    session.commit()
    return {m.coin: m for m in session.scalars(select(PaymentMethod).where(PaymentMethod.kind == "address"))}


def watch_for_errors(page):
    """Collect console errors (CSP violations are reported there) and uncaught exceptions."""
    errors = []

    def on_console(message):
        # The browser asks for /favicon.ico on its own; the site has none, and that is not the page's doing.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_copy_button_puts_the_exact_address_on_the_clipboard(live_server, page, addresses, artifacts):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    errors = watch_for_errors(page)
    page.goto(live_server.url + "/support")
    for method in addresses.values():
        button = page.locator(f'button[data-copy-target="address-{method.id}"]')
        assert button.is_visible()
        button.click()
        page.wait_for_function("b => b.textContent === 'Copied'", arg=button.element_handle())
        assert page.evaluate("navigator.clipboard.readText()") == method.target
        image = page.locator(f'img[src^="/qr/{method.id}.svg"]')
        assert image.evaluate("img => img.complete && img.naturalWidth") > 0
    assert "$2,160 raised of $5,000" in page.locator(".progress-text").first.inner_text()
    page.screenshot(path=str(artifacts / "support-page.png"), full_page=True)
    assert errors == []


def test_one_click_selects_the_whole_address_exactly(live_server, page, addresses):
    page.goto(live_server.url + "/support")
    btc = addresses["BTC"]
    page.locator(f"#address-{btc.id}").click()
    # The groups are spaced by CSS margins, never by characters: the selection is the address.
    assert page.evaluate("String(window.getSelection())") == btc.target


def test_without_javascript_the_address_stays_readable_and_the_button_stays_hidden(live_server, browser, addresses):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/support")
        btc = addresses["BTC"]
        assert page.locator(f"#address-{btc.id}").is_visible()
        assert not page.locator(f'button[data-copy-target="address-{btc.id}"]').is_visible()
        assert page.locator("a.wallet-link").first.get_attribute("href").startswith(f"bitcoin:{btc.target}")
        assert page.locator(f'img[src^="/qr/{btc.id}.svg"]').evaluate("img => img.naturalWidth") > 0
    finally:
        context.close()

"""An admin signs in, adds a rate and a campaign, records a donation in euros and sees the widget move."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def widget_route_exists(app) -> bool:
    return any(rule.rule.startswith("/widget/<") and not rule.rule.endswith((".svg", ".png"))
               for rule in app.url_map.iter_rules())


def raised_on_widget_or_dashboard(page, base: str, slug: str, use_widget: bool) -> str:
    if use_widget:
        page.goto(f"{base}/widget/{slug}")
        # The widget may be cached for a minute (Cache-Control); a reload revalidates it.
        page.reload()
        return page.locator("body").inner_text()
    page.goto(f"{base}/admin/")
    return page.locator(f'[data-campaign="{slug}"] .raised').inner_text()


def seed_monthly_campaign(make_campaign, make_donation) -> None:
    """A monthly campaign with a donation on most days so far, so the dashboard chart has a shape."""
    campaign = make_campaign("servers", title="Server costs", target="800", period="monthly",
                             milestones=(("400", "Half the bill"),))
    now = datetime.now(timezone.utc)
    for day in range(1, now.day + 1):
        received = now.replace(day=day, hour=0, minute=30, second=0, microsecond=0)
        if day % 4 != 3 and received <= now:
            make_donation(campaign, str(5 + (day * 37) % 40), received_at=received)


def test_admin_records_a_foreign_donation_and_the_widget_moves(app, live_server, page, artifacts, make_user,
                                                               make_campaign, make_donation):
    make_user(email="admin@example.org", role="admin")
    seed_monthly_campaign(make_campaign, make_donation)
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)

    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/admin/login")
    page.fill("#email", "admin@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == f"{base}/admin/"

    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.goto(f"{base}/admin/rates")
    page.fill("#base", "EUR")
    page.fill("#rate", "1.10")
    page.fill("#quote", "USD")
    page.fill("#as_of", yesterday)
    page.fill("#source", "ECB reference rate")
    page.click("text=Save rate")
    assert "Rate saved" in page.locator(".flash").inner_text()

    page.goto(f"{base}/admin/campaigns/new")
    page.fill("#title", "Keep the newsroom open")
    page.fill("#slug", "newsroom")
    page.fill("#target", "5000")
    page.fill("#currency", "USD")
    page.select_option("#status", "active")
    page.fill("#milestones-0-amount", "2500")
    page.fill("#milestones-0-label", "Halfway")
    page.screenshot(path=str(artifacts / "admin-campaign-form.png"), full_page=True)
    page.click("text=Create campaign")
    assert page.url == f"{base}/admin/campaigns/newsroom"
    assert page.locator("iframe.widget-preview").count() == (1 if widget_route_exists(app) else 0)
    assert page.locator(".copy[data-copy=embed-iframe]").is_visible()

    use_widget = widget_route_exists(app)
    before = raised_on_widget_or_dashboard(page, base, "newsroom", use_widget)
    assert "$110" not in before

    page.goto(f"{base}/admin/donations/new")
    page.select_option("#campaign", label="Keep the newsroom open (USD)")
    page.fill("#amount", "100")
    page.fill("#currency", "EUR")
    page.fill("#donor_name", "Ada")
    page.click("button[type=submit].primary")
    # The conversion is shown before anything is saved.
    assert "$110.00" in page.locator("#conversion").inner_text()
    assert "ECB reference rate" in page.locator("#conversion").inner_text()
    page.click("text=Confirm and save")
    assert "Donation recorded" in page.locator(".flash").inner_text()

    after = raised_on_widget_or_dashboard(page, base, "newsroom", use_widget)
    assert "$110" in after

    page.goto(f"{base}/admin/")
    assert "$110" in page.locator('[data-campaign="newsroom"] .raised').inner_text()
    assert page.locator('[data-campaign="newsroom"] svg rect.positive').count() >= 1
    dashboard = artifacts / "admin-dashboard.png"
    page.screenshot(path=str(dashboard), full_page=True)
    if os.environ.get("TRACKER_UPDATE_SCREENSHOTS") or not (SCREENSHOTS / "admin-dashboard.png").exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dashboard, SCREENSHOTS / "admin-dashboard.png")
    assert problems == []

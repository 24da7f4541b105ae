"""The dashboard as an admin sees it: the chart's axes and text, gifts counted apart from adjustments."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from tracker.models import utcnow


def texts(html: str, css_class: str) -> list[str]:
    return [unescape(t) for t in re.findall(rf'<text class="{css_class}"[^>]*>([^<]*)</text>', html)]


def test_the_chart_shows_amounts_on_its_axis_and_dates_under_the_bars(admin, make_campaign, make_donation):
    campaign = make_campaign("demo", title="Server fund", period="monthly")
    make_donation(campaign, "120", received_at=utcnow().replace(hour=0, minute=30))
    html = admin.get("/admin/").data.decode()
    assert texts(html, "tick") == ["$0", "$50", "$100", "$150"]
    days = texts(html, "day")
    assert days and days[-1] == f"{utcnow():%b} {utcnow().day}"
    chart_id = f"chart-{campaign.id}"
    assert f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc"' in html
    (desc,) = re.findall(rf'<desc id="{chart_id}-desc">([^<]*)</desc>', html)
    assert "Best day: " in desc and "with $120." in desc and "Total: $120." in desc
    german = admin.get("/admin/?locale=de").data.decode()
    assert texts(german, "tick")[-1] == "150\u00a0$" and "Bester Tag" in german


def test_adjustments_are_no_gift_no_supporter_and_no_best_day(admin, make_campaign, make_donation):
    campaign = make_campaign("demo", title="Server fund", period="monthly")
    today = utcnow().replace(hour=0, minute=10)
    make_donation(campaign, "20", received_at=today, donor_name="Ada")
    make_donation(campaign, "5", received_at=today + timedelta(minutes=1))
    make_donation(campaign, "900", received_at=today + timedelta(minutes=2), source="adjustment", reason="bank")
    html = admin.get("/admin/").data.decode()
    assert "2 supporters this period" in html
    chart = html.split("Latest donations")[0]
    assert "best day $25" in chart and "with $25." in chart and "$900" not in chart.split("chart-table")[0]
    # Kept apart in the chart's table, where an admin can see them.
    assert "Adjustments (not gifts)" in chart and '<td class="num">$900.00</td>' in chart


def test_latest_donations_are_in_the_order_of_their_received_column(admin, make_campaign, make_donation):
    campaign = make_campaign("demo", period="monthly")
    now = utcnow().replace(microsecond=0)
    # Recorded in another order than received: a late bank import, a back-dated entry.
    for minutes in (30, 5, 90, 1, 60):
        make_donation(campaign, "1", received_at=now - timedelta(minutes=minutes))
    html = admin.get("/admin/").data.decode().split("Latest donations")[1]
    shown = re.findall(r'<a href="/admin/donations/\d+">(\d{4}-\d\d-\d\d \d\d:\d\d)</a>', html)
    assert len(shown) == 5 and shown == sorted(shown, reverse=True)

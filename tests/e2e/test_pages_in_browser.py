"""Every public and admin page in Chromium: phone width, iframe sizes, and axe-core's accessibility rules."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from admin_pages import OWNER, admin_paths, load_site
from browser import LiveServer
from factories import PASSWORD

from tracker.models import utcnow
from tracker.widget.options import ARTICLE_LINE_HEIGHT, VARIANT_SIZES, VARIANTS

pytestmark = pytest.mark.e2e

#: axe-core from npm, installed by .ci/run into this folder (TRACKER_AXE overrides it).
AXE_FOLDER = Path(os.environ.get("TRACKER_AXE") or Path.home() / ".cache" / "tracker-ci" / "axe")
AXE_SCRIPT = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
PHONE = 390
#: The longest title the campaign form accepts (200 characters), in words that wrap as real ones do.
LONG_TITLE = ("Unterstützen Sie unabhängigen Lokaljournalismus für die ganze Region und ihre Dörfer, "
              "damit Recherchen über Gemeinderat, Schulen, Verkehr und Umwelt weiterhin frei lesbar bleiben "
              "können")[:200]


@pytest.fixture()
def site(csrf_app: Any, app_session: Any) -> Iterator[tuple[LiveServer, dict[str, Any]]]:
    """The demo site with an owner, served with CSRF on (as in production)."""
    values = load_site(app_session)
    with LiveServer(csrf_app) as server:
        yield server, values


def signed_in_context(browser: Any, base: str, width: int, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    page.goto(f"{base}/admin/login")
    page.fill("#email", OWNER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert page.url == f"{base}/admin/", page.url
    return context, page


def public_paths(slug: str) -> list[str]:
    return ["/support", f"/c/{slug}", "/support?locale=de", f"/c/{slug}?locale=de", "/no-such-page", "/qr/1",
            *(f"/widget/{slug}?variant={variant}" for variant in VARIANTS)]


#: The first elements that reach past the viewport's right edge, to say what to fix.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => !e.parentElement.closest('table, pre'))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                        + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_every_admin_page_fits_a_phone(browser, site, csrf_app):
    server, values = site
    context, page = signed_in_context(browser, server.url, PHONE)
    too_wide = {}
    checked = 0
    for path in admin_paths(csrf_app, values):
        response = page.goto(server.url + path)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE:
            too_wide[path] = (width, page.evaluate(WIDEST))
        checked += 1
    context.close()
    assert checked > 15
    assert not too_wide, f"pages wider than {PHONE} px: {too_wide}"


@pytest.mark.parametrize("locale", ["en", "de"])
def test_every_widget_variant_fits_its_documented_iframe_with_the_longest_title(browser, live_server, make_campaign,
                                                                                make_donation, locale):
    campaign = make_campaign("long", title=LONG_TITLE, target="5000", period="monthly",
                             milestones=(("1000", "A first thousand for the servers"),
                                         ("2500", "Halfway: hosting and tools are paid")),
                             ends_at=utcnow() + timedelta(days=20), display={"show_donors": True,
                                                                             "show_days_left": True})
    make_donation(campaign, "2160")
    problems = []
    # Each variant, and each with the article line ("Readers of this article gave …") below the bar.
    cases = [(variant, extra) for variant in VARIANTS for extra in ("", "&ref=a-long-article-slug&show=article")]
    for variant, extra in cases:
        width, height = VARIANT_SIZES[variant]
        height += ARTICLE_LINE_HEIGHT if extra else 0
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{live_server.url}/widget/long?variant={variant}&locale={locale}{extra}")
        size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        if size[0] > width or size[1] > height:
            problems.append(f"{variant}{extra}: content is {size[0]}×{size[1]} in a {width}×{height} iframe")
        button = page.locator(".btn")
        if button.count():
            box = button.bounding_box()
            if box["y"] + box["height"] > height:
                problems.append(f"{variant}{extra}: the button ends at {box['y'] + box['height']:.0f} px of {height}")
        context.close()
    assert not problems, problems


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in json.loads(result)]


def test_axe_finds_nothing_on_any_public_or_admin_page(browser, site, csrf_app):
    if not AXE_SCRIPT.exists():
        if os.environ.get("TRACKER_AXE"):
            pytest.fail(f"TRACKER_AXE is set but {AXE_SCRIPT} is missing")
        pytest.skip(f"axe-core is not installed at {AXE_FOLDER} (.ci/run installs it): accessibility check skipped")
    server, values = site
    # The pages' CSP forbids injected scripts; the check is ours, not the page's.
    context, page = signed_in_context(browser, server.url, 1280, bypass_csp=True)
    found = {}
    checked = 0
    paths = [*admin_paths(csrf_app, values), *public_paths(values["slug"])]
    for path in paths:
        response = page.goto(server.url + path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status != 200 and path != "/no-such-page":
            continue
        violations = axe_violations(page)
        if violations:
            found[path] = violations
        checked += 1
    context.close()
    assert checked > 20
    assert not found, json.dumps(found, indent=1)

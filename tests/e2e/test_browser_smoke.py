"""The support page renders in a real browser."""

import pytest

pytestmark = pytest.mark.e2e


def test_support_page_in_chromium(live_server, page, artifacts):
    page.goto(live_server.url + "/support")
    assert page.locator("h1").inner_text().startswith("Support")
    page.screenshot(path=str(artifacts / "support-smoke.png"))

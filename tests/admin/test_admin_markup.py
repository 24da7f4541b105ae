"""Markup every back-office page shares: unique ids, named controls."""

from __future__ import annotations

import re
from collections import Counter

from admin_pages import admin_paths, load_site, sign_in

ID = re.compile(r'\sid="([^"]+)"')


def test_no_admin_page_repeats_an_id(csrf_app, app_session):
    values = load_site(app_session)
    client = csrf_app.test_client()
    sign_in(client)
    checked, problems = 0, []
    for path in admin_paths(csrf_app, values):
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        repeated = {name: n for name, n in Counter(ID.findall(response.get_data(as_text=True))).items() if n > 1}
        if repeated:
            problems.append(f"{path} repeats ids: {repeated}")
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked > 15

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


def test_stored_values_read_as_a_person_would_write_them():
    from tracker.audit import readable_name, readable_value

    record = {"currency": "USD"}
    assert readable_value("active", True) == "yes" and readable_value("is_public", False) == "no"
    assert readable_value("ends_at", None) == "—"
    assert readable_value("target_minor", 500000, record) == "$5,000.00"
    assert readable_value("milestones", [[250000, "Halfway"]], record) == "$2,500.00 “Halfway”"
    assert readable_value("updated_at", "2026-12-02T15:46:12.123456+00:00") == "2026-12-02 15:46:12 UTC"
    assert readable_value("display", {"accent": "#1f6feb", "show_days_left": True}) == (
        "accent: #1f6feb, show days left: yes")
    assert readable_name("target_minor") == "target" and readable_name("show_days_left") == "show days left"


def test_the_audit_log_and_campaign_page_show_no_developer_values(admin, make_campaign):
    make_campaign("demo", display={"accent": "#1f6feb", "show_days_left": True})
    admin.post("/admin/campaigns/demo/status", data={"status": "archived"})
    for path in ("/admin/audit", "/admin/campaigns/demo"):
        text = admin.get(path).get_data(as_text=True)
        for raw in (">True<", ">False<", ">None<", "show_days_left", "[[", "_minor"):
            assert raw not in text, (path, raw)
        assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", text), path
    assert "show days left: yes" in admin.get("/admin/campaigns/demo").get_data(as_text=True)

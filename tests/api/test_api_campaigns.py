"""The JSON API: exact money, CORS, locales, caching, and an OpenAPI document that matches the answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from factories import counting_statements

from tracker import create_app

NBSP = "\u00a0"


def floats_in(value: Any) -> list[Any]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.values() for f in floats_in(item)]
    if isinstance(value, list):
        return [f for item in value for f in floats_in(item)]
    return []


def test_campaign_document(client, demo):
    response = client.get("/api/v1/campaigns/demo?locale=en")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = json.loads(response.data, parse_float=lambda text: float(text))
    assert floats_in(data) == []
    assert data["slug"] == "demo" and data["currency"] == "USD"
    assert data["goal"] == {"amount": "5000.00", "minor": 500000, "currency": "USD"}
    assert data["raised"] == {"amount": "2160.00", "minor": 216000, "currency": "USD"}
    assert data["pending"]["minor"] == 0
    assert data["percent"] == "43.2" and data["donors"] == 40
    assert data["milestones"] == [{"amount": {"amount": "2500.00", "minor": 250000, "currency": "USD"},
                                   "label": "Halfway: hosting and tools are paid", "reached": False}]
    assert data["period"]["kind"] == "monthly" and data["period"]["days_left"] >= 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["period"]["start"])
    assert data["url"] == "http://127.0.0.1:5000/c/demo"
    assert data["formatted"]["valuetext"] == "$2,160 of $5,000, 43%"
    assert [t["label"] for t in data["formatted"]["ticks"]] == ["$0", "$2,500", "$5,000"]
    assert data["updated_at"].endswith("Z")


def test_formatted_strings_follow_the_requested_locale(client, demo):
    data = client.get("/api/v1/campaigns/demo", headers={"Accept-Language": "de"}).get_json()
    assert data["locale"] == "de"
    assert data["formatted"]["raised"] == f"2.160{NBSP}$"
    assert data["formatted"]["button"] == "Unterstützen Sie uns"
    assert data["raised"]["amount"] == "2160.00"  # machine values never change with the locale


def test_list_holds_active_campaigns_only(client, demo, make_campaign):
    make_campaign("draft-one", status="draft")
    make_campaign("second")
    data = client.get("/api/v1/campaigns").get_json()
    assert [c["slug"] for c in data["campaigns"]] == ["demo", "second"]


def test_errors_are_json_and_readable_cross_origin(client):
    response = client.get("/api/v1/campaigns/missing")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_no_cookies_on_the_api(client, demo):
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/demo", "/api/v1/openapi.json"):
        assert "Set-Cookie" not in client.get(path).headers


def test_list_etag_changes_with_a_new_campaign_and_304_costs_one_query(clean_db, settings_factory, demo,
                                                                       make_campaign):
    # Without the per-process memo (tests/widget/test_widget_memo.py covers it): the miss path.
    app = create_app(settings_factory(**{"widget.process_cache_seconds": 0}))
    client = app.test_client()
    etag = client.get("/api/v1/campaigns").headers["ETag"]
    with counting_statements(app.extensions["tracker_engine"]) as statements:
        assert client.get("/api/v1/campaigns", headers={"If-None-Match": etag}).status_code == 304
    assert len(statements) == 1
    make_campaign("another")
    assert client.get("/api/v1/campaigns", headers={"If-None-Match": etag}).status_code == 200
    app.extensions["tracker_engine"].dispose()


# ---------------------------------------------------------------------------------------------
# OpenAPI

@pytest.fixture()
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def check(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    """Problems of `value` against `schema`: missing required keys and wrong JSON types."""
    schema = resolve(spec, schema)
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    python = {"object": dict, "array": list, "string": str, "integer": int, "boolean": bool, "null": type(None)}
    problems = []
    if types and not any(isinstance(value, python[t]) and not (t == "integer" and isinstance(value, bool))
                         for t in types):
        return [f"{where}: {type(value).__name__} is not {types}"]
    if isinstance(value, dict):
        problems += [f"{where}.{key}: missing" for key in schema.get("required", []) if key not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problems += check(spec, sub, value[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problems += check(spec, schema["items"], item, f"{where}[{index}]")
    return problems


def test_openapi_describes_every_route_of_the_api_blueprint(app, spec):
    assert spec["openapi"].startswith("3.1")
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert routes == set(spec["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            assert {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}} <= set(spec["paths"][path])


def test_responses_match_the_schema(client, spec, demo):
    paths = spec["paths"]
    answers = {
        "/campaigns": client.get("/api/v1/campaigns"),
        "/campaigns/{slug}": client.get("/api/v1/campaigns/demo"),
    }
    for path, response in answers.items():
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert check(spec, schema, response.get_json()) == [], path
    missing = client.get("/api/v1/campaigns/missing")
    error_schema = paths["/campaigns/{slug}"]["get"]["responses"]["404"]["content"]["application/json"]["schema"]
    assert check(spec, error_schema, missing.get_json()) == []


def test_the_schema_checker_can_fail(spec):
    campaign = {"$ref": "#/components/schemas/Campaign"}
    assert check(spec, campaign, {"slug": "x"})  # missing keys are reported
    assert check(spec, {"$ref": "#/components/schemas/Money"},
                 {"amount": 1.5, "minor": 150, "currency": "USD"}) == ["$.amount: float is not ['string']"]

"""The OpenAPI 3.1 document of the JSON API (plain data, no Flask)."""

from __future__ import annotations

from typing import Any

_MONEY = {
    "type": "object",
    "description": "An exact amount: a decimal string in major units plus integer minor units. Never a float.",
    "required": ["amount", "minor", "currency"],
    "properties": {
        "amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["2160.00"]},
        "minor": {"type": "integer", "examples": [216000]},
        "currency": {"type": "string", "examples": ["USD"]},
    },
}

_TICK = {
    "type": "object",
    "required": ["position", "label", "kind", "title"],
    "properties": {
        "position": {"type": "string", "description": "Percent along the bar, 0 to 100, as a decimal string."},
        "label": {"type": "string"},
        "kind": {"type": "string", "enum": ["start", "milestone", "goal"]},
        "title": {"type": "string"},
    },
}

_FORMATTED = {
    "type": "object",
    "description": "Texts formatted and translated for the requested locale, ready to show.",
    "required": ["goal", "raised", "pending", "percent", "valuetext", "period", "days_left", "donors",
                 "meta", "cta", "button", "ticks"],
    "properties": {
        **{name: {"type": "string"} for name in (
            "goal", "raised", "pending", "percent", "period", "days_left", "donors", "meta", "cta", "button")},
        "valuetext": {"type": "string", "description": "For aria-valuetext: \"$2,160 of $5,000, 43%\"."},
        "ticks": {"type": "array", "items": {"$ref": "#/components/schemas/Tick"}},
    },
}

_CAMPAIGN = {
    "type": "object",
    "required": ["slug", "title", "description", "status", "currency", "goal", "raised", "pending", "percent", "donors",
                 "milestones", "period", "url", "locale", "formatted", "updated_at"],
    "properties": {
        "slug": {"type": "string"},
        "title": {"type": "string", "description": "In the answer's locale when the admin gave one, else the default."},
        "description": {"type": "string", "description": "As the title: the locale's text, else the default."},
        "status": {"type": "string", "enum": ["active", "archived"]},
        "currency": {"type": "string"},
        "goal": {"$ref": "#/components/schemas/Money"},
        "raised": {"$ref": "#/components/schemas/Money"},
        "pending": {"$ref": "#/components/schemas/Money"},
        "percent": {"type": "string", "description": "Percent of the goal, one decimal, rounded down; may pass 100.",
                    "examples": ["43.2"]},
        "donors": {"type": "integer", "description": "Confirmed donations in the current period."},
        "milestones": {"type": "array", "items": {
            "type": "object", "required": ["amount", "label", "reached"],
            "properties": {"amount": {"$ref": "#/components/schemas/Money"},
                           "label": {"type": "string", "description": "In the answer's locale, as the title."},
                           "reached": {"type": "boolean"}}}},
        "period": {
            "type": "object", "required": ["kind", "start", "end", "days_left"],
            "properties": {
                "kind": {"type": "string", "enum": ["once", "monthly", "quarterly", "yearly"]},
                "start": {"type": ["string", "null"], "format": "date-time"},
                "end": {"type": ["string", "null"], "format": "date-time"},
                "days_left": {"type": ["integer", "null"]},
            }},
        "url": {"type": "string", "format": "uri", "description": "The campaign's support page."},
        "locale": {"type": "string"},
        "formatted": {"$ref": "#/components/schemas/Formatted"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

_ERROR = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}, "field": {"type": "string"}},
}

_CACHE_HEADERS = {
    "ETag": {"description": "Strong entity tag; send it back in If-None-Match to get a 304.",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age and stale-while-revalidate from the widget settings.",
                      "schema": {"type": "string"}},
}

_LOCALE = {"name": "locale", "in": "query", "required": False, "schema": {"type": "string"},
           "description": "Locale of the formatted texts (else Accept-Language, else the site default)."}

_NOT_MODIFIED = {"description": "Not modified: the If-None-Match entity tag is current.", "headers": _CACHE_HEADERS}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "headers": _CACHE_HEADERS,
            "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


#: Answers every route may give besides its own: a malformed request, and a database away.
_COMMON_ERRORS = {
    "400": _error("The request cannot be read (a NUL character, a malformed value)"),
    "503": _error("The database is not answering; try again after Retry-After seconds"),
}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of /api/v1, with `server_url` as its server."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Reader-support tracker API", "version": "1.0.0",
                 "description": "Read-only campaign progress. Open to every origin (CORS); responses carry "
                                "strong ETags and Cache-Control."},
        "servers": [{"url": server_url + "/api/v1"}],
        "paths": {
            "/campaigns": {"get": {
                "operationId": "listCampaigns", "summary": "Every active campaign with its progress",
                "parameters": [_LOCALE],
                "responses": {
                    "200": _json_response("The campaigns", {
                        "type": "object", "required": ["campaigns"],
                        "properties": {"campaigns": {"type": "array",
                                                     "items": {"$ref": "#/components/schemas/Campaign"}}}}),
                    "304": _NOT_MODIFIED, **_COMMON_ERRORS,
                }}},
            "/campaigns/{slug}": {"get": {
                "operationId": "getCampaign", "summary": "One campaign with its progress",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                               _LOCALE],
                "responses": {
                    "200": _json_response("The campaign", {"$ref": "#/components/schemas/Campaign"}),
                    "304": _NOT_MODIFIED,
                    "404": _json_response("No public campaign has this slug", {"$ref": "#/components/schemas/Error"}),
                    **_COMMON_ERRORS,
                }}},
            "/campaigns/{slug}/articles": {"get": {
                "operationId": "getCampaignArticles",
                "summary": "Confirmed gifts and their total per article (ref) of one campaign, period by period",
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "ref", "in": "query", "required": False,
                                "description": "Only this article (a slug or an http(s) URL, at most 200 characters)",
                                "schema": {"type": "string", "maxLength": 200}}],
                "responses": {
                    "200": _json_response("Gifts per article", {
                        "type": "object", "required": ["campaign", "currency", "articles"],
                        "properties": {
                            "campaign": {"type": "string"}, "currency": {"type": "string"},
                            "articles": {"type": "array", "items": {
                                "type": "object", "required": ["ref", "gifts", "total", "periods"],
                                "properties": {
                                    "ref": {"type": "string"}, "gifts": {"type": "integer"},
                                    "total": {"type": "string", "description": "Exact decimal in the goal currency"},
                                    "periods": {"type": "array", "items": {
                                        "type": "object", "required": ["start", "gifts", "total"],
                                        "properties": {"start": {"type": "string", "format": "date-time"},
                                                       "gifts": {"type": "integer"},
                                                       "total": {"type": "string"}}}}}}}}}),
                    "304": _NOT_MODIFIED,
                    "404": _json_response("No public campaign has this slug", {"$ref": "#/components/schemas/Error"}),
                    **_COMMON_ERRORS,
                }}},
            "/openapi.json": {"get": {
                "operationId": "getOpenApi", "summary": "This document",
                "responses": {"200": _json_response("OpenAPI 3.1 document", {"type": "object"}),
                              "304": _NOT_MODIFIED, "400": _COMMON_ERRORS["400"]}}},
        },
        "components": {"schemas": {"Money": _MONEY, "Tick": _TICK, "Formatted": _FORMATTED,
                                   "Campaign": _CAMPAIGN, "Error": _ERROR}},
    }

"""Versioned JSON API: campaigns with their progress, open to every origin, described by OpenAPI."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from flask.wrappers import Response
from flask_babel import get_translations

from ..campaigns.operations import get_campaign, list_campaigns
from ..campaigns.progress import campaign_progress
from ..chains.receiving import clean_ref
from ..donations.by_article import by_article
from ..models import Campaign, utcnow
from ..web import db
from ..web.caching import Rendered, cached_response, runtime, serve_memoised
from ..web.extensions import select_locale
from ..web.urls import campaign_url, public_base_url
from ..widget.cache import answer_key
from ..widget.model import build_widget, widget_document
from ..widget.options import widget_options
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Repeat requests within `widget.process_cache_seconds` are answered before any view runs.
bp.before_request(serve_memoised)


@bp.after_request
def allow_any_origin(response: Response) -> Response:
    """Every API answer, errors included, is readable from any site's scripts (nothing here is private)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


def _json(data: Any) -> Rendered:
    return Rendered(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), "application/json")


def _document(campaign: Campaign, locale: str) -> dict[str, Any]:
    session = db()
    progress = campaign_progress(session, campaign, locale=locale)
    options = widget_options({}, campaign.display, locale)
    model = build_widget(campaign, progress, options, get_translations(), campaign_url(campaign.slug))
    return widget_document(model, campaign, progress)


@bp.get("/campaigns")
def campaigns() -> Response:
    """Every active campaign with its progress."""
    locale = select_locale()
    versions = runtime().versions.active(utcnow())

    def render() -> Rendered:
        found = list_campaigns(db(), statuses=("active",))
        return _json({"campaigns": [_document(campaign, locale) for campaign in found]})

    return cached_response(answer_key("api-list", versions=versions, extra=[locale]), render)


@bp.get("/campaigns/<slug>")
def campaign(slug: str) -> Response:
    """One public campaign with its progress."""
    locale = select_locale()
    version = runtime().versions.one(slug, utcnow())
    return cached_response(answer_key("api-one", versions=[version], extra=[locale]),
                           lambda: _json(_document(get_campaign(db(), slug, public=True), locale)))


@bp.get("/campaigns/<slug>/articles")
def campaign_articles(slug: str) -> Response:
    """One public campaign's confirmed gifts and total per article (`?ref=` for one article), period by period."""
    ref = clean_ref(request.args.get("ref"))
    version = runtime().versions.one(slug, utcnow())

    def render() -> Rendered:
        found = get_campaign(db(), slug, public=True)
        rows = by_article(db(), found, ref=ref)
        return _json({"campaign": found.slug, "currency": found.currency, "articles": [{
            "ref": row.ref, "gifts": row.gifts, "total": format(row.total.to_decimal(), "f"),
            "periods": [{"start": period.start.isoformat(), "gifts": period.gifts,
                         "total": format(period.total.to_decimal(), "f")} for period in row.periods],
        } for row in rows]})

    return cached_response(answer_key("api-articles", versions=[version], extra=[ref or ""]), render,
                           varies_by_language=False)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    base = public_base_url()
    return cached_response(answer_key("openapi", extra=[base]), lambda: _json(openapi_document(base)),
                           varies_by_language=False)

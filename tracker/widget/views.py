"""Embeddable progress widgets: iframe page, SVG/PNG images, embed script, oEmbed, demo article."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from flask import Blueprint, abort, jsonify, render_template, request
from flask.wrappers import Response
from flask_babel import get_translations
from markupsafe import Markup

from ..campaigns.operations import SLUG, get_campaign
from ..campaigns.progress import campaign_progress
from ..chains.receiving import clean_ref
from ..donations.by_article import by_article
from ..models import utcnow
from ..money import Money, format_money
from ..resources import STATIC
from ..web import db, settings
from ..web.caching import Rendered, cached_response, csp_hash, locale_from_query, runtime, serve_memoised
from ..web.embeds import iframe_code
from ..web.extensions import limiter, select_locale
from ..web.urls import campaign_url
from .cache import answer_key
from .drawing import page_style, render_png, render_svg, svg_style
from .model import WidgetModel, build_widget
from .options import VARIANT_SIZES, WidgetOptions, widget_options
from .versions import CampaignVersion

bp = Blueprint("widget", __name__)
# Repeat requests within `widget.process_cache_seconds` are answered before any view runs.
bp.before_request(serve_memoised)

#: Blueprints whose answers are public, cached and requested on every page view of embedding sites.
EMBED_BLUEPRINTS = frozenset({"widget", "api"})


@limiter.request_filter
def embeds_are_not_rate_limited() -> bool:
    """Widget and API reads are exempt from rate limits."""
    # They are requested once per page view of other sites, often from behind one shared
    # address (a newsroom, a school, a carrier NAT), and a 304 costs one indexed query; a
    # per-address limit would blank the widget for whole audiences and protect nothing.
    # Checking limits also cost more than the widget itself (see docs/performance.md).
    return request.blueprint in EMBED_BLUEPRINTS

EMBED_SCRIPT = STATIC / "embed.js"


def _model(slug: str, options: WidgetOptions, ref: str | None = None, show_article: bool = False) -> WidgetModel:
    session = db()
    campaign = get_campaign(session, slug, public=True)
    progress = campaign_progress(session, campaign, locale=options.locale)
    # "Support us" carries the article along, so its readers get the article's own address.
    support = campaign_url(slug) + (f"?ref={quote(ref, safe='')}" if ref else "")
    model = build_widget(campaign, progress, options, get_translations(), support)
    if show_article and ref:
        # "Readers of this article gave $120": the confirmed gifts attributed to `ref`.
        rows = by_article(session, campaign, ref=ref)
        total = rows[0].total if rows else Money.zero(campaign.currency)
        model = replace(model, article_text=get_translations().gettext("Readers of this article gave %(amount)s")
                        % {"amount": format_money(total, options.locale)})
    return model


def _article_options() -> tuple[str | None, bool]:
    """`?ref=` (validated) and whether `?show=article` asks for what its readers gave."""
    ref = clean_ref(request.args.get("ref"))
    return ref, ref is not None and request.args.get("show") == "article"


def _version_and_options(slug: str, output: str = "html") -> tuple[CampaignVersion, WidgetOptions]:
    version = runtime().versions.one(slug, utcnow())
    # select_locale is what Flask-Babel's get_locale consults, without building a babel Locale.
    return version, widget_options(request.args, version.display, select_locale()).for_output(output)


@bp.get("/widget/<slug>")
def widget_page(slug: str) -> Response:
    """The widget as a self-contained HTML page for an <iframe>, frameable by any site."""
    version, options = _version_and_options(slug)
    ref, show_article = _article_options()
    css = page_style(options.theme, options.accent)
    csp = (f"default-src 'none'; style-src {csp_hash(css)}; base-uri 'none'; form-action 'none'; "
           f"frame-ancestors {settings().widget.frame_ancestors}")

    def render() -> Rendered:
        # Markup: the stylesheet is generated from validated colours only, never from typed text,
        # and must reach the page byte for byte or its CSP hash would not match.
        html = render_template("widget/widget.html", m=_model(slug, options, ref, show_article), css=Markup(css))
        return Rendered(html.encode(), "text/html; charset=utf-8")

    return cached_response(answer_key("html", versions=[version], options=options,
                                      extra=[ref or "", show_article]), render,
                           headers={"Content-Security-Policy": csp})


@bp.get("/widget/<slug>.svg")
def widget_svg(slug: str) -> Response:
    """The bar as an SVG image for READMEs, forums and feeds."""
    version, options = _version_and_options(slug, "svg")
    csp = (f"default-src 'none'; style-src {csp_hash(svg_style(options.theme, options.accent))}; "
           "frame-ancestors 'none'")

    ref, show_article = _article_options()

    def render() -> Rendered:
        return Rendered(render_svg(_model(slug, options, ref, show_article)).encode(), "image/svg+xml; charset=utf-8")

    return cached_response(answer_key("svg", versions=[version], options=options,
                                      extra=[ref or "", show_article] if show_article else ()), render,
                           headers={"Content-Security-Policy": csp, "Access-Control-Allow-Origin": "*"})


@bp.get("/widget/<slug>.png")
def widget_png(slug: str) -> Response:
    """The bar as a PNG image for e-mail newsletters, where SVG is blocked."""
    version, options = _version_and_options(slug, "png")

    ref, show_article = _article_options()

    def render() -> Rendered:
        return Rendered(render_png(_model(slug, options, ref, show_article)), "image/png")

    return cached_response(answer_key("png", versions=[version], options=options,
                                      extra=[ref or "", show_article] if show_article else ()), render,
                           headers={"Access-Control-Allow-Origin": "*"})


@bp.get("/embed.js")
def embed_script() -> Response:
    """The dependency-free embed script (Shadow DOM widget fed by the JSON API)."""
    body, digest = _embed_script(EMBED_SCRIPT.stat().st_mtime_ns)
    return cached_response(answer_key("embed.js", extra=[digest]),
                           lambda: Rendered(body, "text/javascript; charset=utf-8"),
                           headers={"Access-Control-Allow-Origin": "*"}, varies_by_language=False)


@lru_cache(maxsize=1)
def _embed_script(_mtime_ns: int) -> tuple[bytes, str]:
    # Keyed by the file's modification time, so an edited script is served at once (once the
    # process's memo of the answer, if any, has expired: a second by default).
    body = EMBED_SCRIPT.read_bytes()
    return body, hashlib.sha256(body).hexdigest()


@bp.get("/oembed")
def oembed() -> Any:
    """oEmbed (rich type) for this site's campaign and widget URLs."""
    if request.args.get("format", "json") != "json":
        abort(501, "only format=json is offered")
    slug, variant = _embedded_campaign(request.args.get("url", ""))
    if slug is None:
        abort(404, "not a campaign URL of this site")
    version, options = _version_and_options(slug)
    options = widget_options({"variant": variant}, version.display, options.locale)
    width, height = VARIANT_SIZES[options.variant]
    width = _bounded(request.args.get("maxwidth"), width)
    height = _bounded(request.args.get("maxheight"), height)
    site = settings().site
    # The title in `?locale=`'s language, else the default one: an oEmbed consumer is a server
    # whose Accept-Language says nothing of its readers (and the answer is kept per URL).
    locale = options.locale if locale_from_query() else site.default_locale

    def render() -> Rendered:
        campaign = get_campaign(db(), slug, public=True)
        title = campaign.text("title", locale)
        html = iframe_code(slug, options.variant, title=title, width=width, height=height)
        document = {"version": "1.0", "type": "rich", "provider_name": site.name, "provider_url": site.url,
                    "title": title, "html": html.strip(), "width": width, "height": height,
                    "cache_age": settings().widget.max_age}
        return Rendered(jsonify(document).get_data(), "application/json")

    return cached_response(answer_key("oembed", versions=[version], extra=[options.variant, width, height, locale]),
                           render, headers={"Access-Control-Allow-Origin": "*"}, varies_by_language=False)


def _embedded_campaign(url: str) -> tuple[str | None, str]:
    """(slug, variant) when `url` is `<site.url>/c/<slug>` or `<site.url>/widget/<slug>`, else (None, "")."""
    base = urlsplit(settings().site.url.rstrip("/"))
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None, ""
    path = parts.path
    if not path.startswith(base.path + "/"):
        return None, ""
    segments = path[len(base.path) + 1:].rstrip("/").split("/")
    if len(segments) != 2 or segments[0] not in ("c", "widget") or not SLUG.fullmatch(segments[1]):
        return None, ""
    return segments[1], dict(parse_qsl(parts.query)).get("variant", "")


def _bounded(text: str | None, default: int) -> int:
    return min(default, int(text)) if text and text.isdigit() and int(text) > 0 else default


@bp.get("/demo/article")
def demo_article() -> str:
    """A sample article with the widget beside it and the call to action under it."""
    campaign = get_campaign(db(), request.args.get("campaign", "demo"), public=True)
    return render_template("widget/demo_article.html", campaign=campaign,
                           title=campaign.text("title", select_locale()))


@bp.get("/demo/article.css")
def demo_article_css() -> Response:
    """The demo article's stylesheet (the page's CSP allows only same-origin styles)."""
    return Response(render_template("widget/demo_article.css"), content_type="text/css; charset=utf-8")

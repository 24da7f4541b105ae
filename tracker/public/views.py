"""Reader-facing pages: the support page, campaign pages and QR images of payment addresses.

Nothing here touches the session or a CSRF token, so public responses never set a cookie
and can be cached by anyone in between.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..campaigns.operations import get_campaign, list_campaigns
from ..chains.receiving import clean_ref
from ..errors import InvalidQuery
from ..models import MAX_ROW_ID
from ..web import db, settings
from ..web.caching import spend_render_budget
from ..web.extensions import select_locale
from ..web.query import page_cursors
from ..web.urls import campaign_url, oembed_discovery_url
from .page import qr_etag, qr_is_drawn, qr_payment_uri, qr_request, render_qr, support_page

bp = Blueprint("public", __name__)

#: Seconds a browser or cache may keep a QR image; the page links each address's QR by a
#: version of its content, so a changed address is fetched afresh at once.
QR_MAX_AGE = 3600


@bp.get("/")
def index() -> Response:
    """The site's front page is the support page."""
    return redirect(url_for("public.support"))


@bp.get("/support")
def support() -> str:
    """Active campaigns with their progress, the ways to give, amount presets and the donor wall."""
    older, newer = page_cursors()
    session = db()
    ref = clean_ref(request.args.get("ref"))
    site, locale = settings().site, select_locale()
    view = support_page(session, list_campaigns(session, statuses=("active",)),
                        presets=site.amount_presets, older_than=older, newer_than=newer,
                        ref=ref, gap_limit=settings().chains.gap_limit, payee=site.name, locale=locale)
    session.commit()  # an article's fresh address, when one was derived
    return render_template("public/support.html", view=view,
                           support_text=(site.support_texts.get(locale) or "").strip() or site.support_text)


@bp.get("/c/<slug>")
def campaign(slug: str) -> str:
    """One campaign (active or archived) with the same parts as the support page."""
    older, newer = page_cursors()
    session = db()
    found = get_campaign(session, slug, public=True)
    view = support_page(session, [found], presets=settings().site.amount_presets, older_than=older, newer_than=newer,
                        ref=clean_ref(request.args.get("ref")), gap_limit=settings().chains.gap_limit,
                        payee=settings().site.name, locale=select_locale())
    session.commit()  # an article's fresh address, when one was derived
    return render_template("public/campaign.html", view=view, campaign=found, texts=view.cards[0],
                           canonical_url=campaign_url(found.slug),
                           oembed_url=oembed_discovery_url(found.slug))


@bp.get("/qr/<int:method_id>")
def qr_page(method_id: int) -> str:
    """A small page for one QR code: the amount, the code, the address, a wallet link and a way back."""
    # The preset's "QR code" link used to open the bare SVG: no amount, no address, no way back.
    derived = _derived_id(request.args.get("d"))
    amount = request.args.get("amount")
    shown = qr_request(db(), method_id, amount, derived, payee=settings().site.name)
    image = url_for("public.qr_svg", method_id=method_id, d=derived, amount=amount, v=request.args.get("v"))
    return render_template("public/qr.html", qr=shown, image_url=image)


@bp.get("/qr/<int:method_id>.svg")
def qr_svg(method_id: int) -> Response:
    """The QR code of a stored address's payment URI (with `?amount=` in the coin's units), as SVG."""
    return _qr_response(method_id, "svg")


@bp.get("/qr/<int:method_id>.png")
def qr_png(method_id: int) -> Response:
    """The same QR code as a PNG, for places that cannot show SVG."""
    return _qr_response(method_id, "png")


def _derived_id(text: str | None) -> int | None:
    """`?d=`: the id of an address derived from an extended key (a number, or nothing)."""
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ROW_ID:
        raise InvalidQuery("d is the number of a derived address")
    return int(text)


def _qr_response(method_id: int, fmt: str) -> Response:
    """A cacheable QR image; a matching If-None-Match costs one primary-key lookup and no drawing."""
    uri = qr_payment_uri(db(), method_id, request.args.get("amount"), _derived_id(request.args.get("d")),
                         payee=settings().site.name)
    etag = qr_etag(uri, fmt)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        if not qr_is_drawn(uri, fmt):
            spend_render_budget()  # each new ?amount= is a new drawing
        image = render_qr(uri, fmt)
        response = Response(image.body, mimetype=image.mimetype)
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = QR_MAX_AGE
    return response

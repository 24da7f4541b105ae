"""Embeddable progress widgets: iframe page, SVG/PNG images, embed script."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widget", __name__)

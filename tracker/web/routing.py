"""URL converters: `<int:…>` names a row, so an id no row can have is a 404 from the router."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from ..models import MAX_ROW_ID


class RowIdConverter(IntegerConverter):
    """`<int:…>` in this app's URLs names a row: a number past MAX_ROW_ID is a 404 from the router."""

    # Handed to the database, /admin/donations/99999999999999999999 was an OverflowError on
    # SQLite (a 500), not "no such donation".

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def register_converters(app: Flask) -> None:
    """Before any rule is added: converters are looked up when a rule joins the map."""
    app.url_map.converters["int"] = RowIdConverter

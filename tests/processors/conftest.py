"""Fixtures of the processors' tests: an app with every connection configured, and a local Greenfield API."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from processor_helpers import Greenfield, processor_overrides
from sqlalchemy import Engine

from tracker import create_app


@pytest.fixture()
def greenfield() -> Iterator[Greenfield]:
    server = Greenfield()
    yield server
    server.close()


@pytest.fixture()
def hooks_app(clean_db: Engine, settings_factory: Callable[..., Any], greenfield: Greenfield) -> Iterator[Any]:
    app = create_app(settings_factory(**processor_overrides(greenfield.url)))
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.extensions["tracker_engine"].dispose()


@pytest.fixture()
def hooks(hooks_app: Any) -> Any:
    return hooks_app.test_client()

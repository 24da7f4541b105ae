"""Domain errors: raised by domain modules, mapped to HTTP statuses in one place (web/errors.py).

Every refusal meant for a person is a DomainError, money's included, so the web layer and
the CLI each handle one hierarchy.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `message` is written for the person who made it."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The form field the problem belongs to, when there is one.
        self.field = field


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class InvalidQuery(DomainError):
    """A query parameter a page cannot use (`?page=x`, `?amount=abc`): a 400 with the reason."""

    status = 400

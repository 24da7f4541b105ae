"""Domain errors: raised by domain modules, mapped to HTTP statuses by the web layer."""

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

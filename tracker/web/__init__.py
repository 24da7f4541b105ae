"""Request plumbing the blueprints share: the request's session and settings, extensions, errors.

Nothing here imports a blueprint: `tracker.create_app` registers them, so the import graph
runs one way, from the views down to this package and the domain.
"""

from .context import WRITE_METHODS, db, request_actor, settings

__all__ = ["WRITE_METHODS", "db", "request_actor", "settings"]

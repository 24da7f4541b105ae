"""Account roles: a tuple with no imports, so the command line can offer them without loading the models."""

from __future__ import annotations

#: Roles from most to least trusted: each may do everything the roles after it may.
ROLES = ("owner", "admin", "viewer")

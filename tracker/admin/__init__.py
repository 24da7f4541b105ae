"""The back office: sign-in, campaigns, donations, payment methods, rates, users, audit."""

from . import (  # noqa: F401 - importing registers each area's routes on the blueprint
    account_views,
    audit_views,
    campaign_views,
    dashboard_views,
    donation_views,
    import_views,
    payment_views,
    rate_views,
    user_views,
)
from .access import enforce_declared_roles
from .blueprint import bp
from .display import minor_money

bp.before_request(enforce_declared_roles)
bp.add_app_template_filter(minor_money, "minor_money")

__all__ = ["bp"]

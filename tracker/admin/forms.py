"""The audit log's filter form."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    SelectField,
    StringField,
)
from wtforms.validators import Optional

from ..audit import AuditFilter
from ..web.forms import day_start, plausible_year


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    entity = SelectField("Entity", default="")
    action = StringField("Action (e.g. payment_method)")
    actor = StringField("User")
    date_from = DateField("From", validators=[Optional(), plausible_year])
    date_to = DateField("to (inclusive)", validators=[Optional(), plausible_year])

    def to_filter(self) -> AuditFilter:
        return AuditFilter(entity=self.entity.data or None, action=(self.action.data or "").strip() or None,
                           actor=(self.actor.data or "").strip() or None, since=day_start(self.date_from.data),
                           until=day_start(self.date_to.data, days=1))


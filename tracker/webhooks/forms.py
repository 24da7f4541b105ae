"""The form that registers an outgoing webhook endpoint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import WEBHOOK_EVENTS
from ..web.forms import options


class EndpointForm(FlaskForm):
    url = StringField("URL", validators=[DataRequired("enter the URL"), Length(max=2000)])
    description = StringField("Description", validators=[Length(max=200)])
    events = SelectMultipleField("Events", choices=options(WEBHOOK_EVENTS),
                                 default=list(WEBHOOK_EVENTS), widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())

"""The payment-method form, with its re-authentication step, and the show/hide and reorder buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length

from ..coins import COINS
from ..web.forms import options
from .operations import PaymentMethodInput

NETWORKS = sorted({network for coin in COINS.values() for network in coin.networks})


class PaymentMethodForm(FlaskForm):
    kind = SelectField("Kind", choices=options(
        [("address", "Coin address"), ("xpub", "Extended public key (a fresh address per article)"),
         ("link", "Link"), ("email", "Contact e-mail")]))
    coin = StringField("Coin (BTC, BCH, ETH…) or channel name", validators=[Length(max=16)])
    network = SelectField("Network", choices=options(NETWORKS), default="mainnet")
    target = StringField("Address, extended public key, https:// link or e-mail",
                         validators=[DataRequired("enter the address"), Length(max=300)])
    label = StringField("Label", validators=[Length(max=200)])
    active = BooleanField("Shown to readers", default=True)
    #: The re-authentication step, shown whenever readers would see the change.
    password = PasswordField("Your password")
    code = StringField("Current two-factor code")
    confirmed = HiddenField()

    def to_input(self) -> PaymentMethodInput:
        return PaymentMethodInput(kind=self.kind.data, coin=self.coin.data or "", target=self.target.data or "",
                                  label=self.label.data or "", network=self.network.data,
                                  active=self.active.data)


class ReauthenticationForm(FlaskForm):
    """The password (and two-factor code) that confirm a change readers would see."""

    password = PasswordField("Your password")
    code = StringField("Current two-factor code")


class MoveForm(ReauthenticationForm):
    direction = SelectField(choices=options([("-1", "up"), ("1", "down")]))


"""Forms for signing in, two-factor codes, passwords and accounts."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from ..models import ROLES
from ..web.forms import options
from .operations import MIN_PASSWORD


class LoginForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("enter your e-mail address"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("enter your password")])
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField("Code from your authenticator app", validators=[DataRequired("enter the 6-digit code")])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("enter your current password")])
    new_password = PasswordField("New password", validators=[
        DataRequired("choose a new password"),
        Length(min=MIN_PASSWORD, message=f"use at least {MIN_PASSWORD} characters")])
    new_password_again = PasswordField("New password again", validators=[
        EqualTo("new_password", message="the two new passwords differ")])


class TotpEnableForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("enter your password")])
    code = StringField("Code shown by the app", validators=[DataRequired("enter the 6-digit code")])


class TotpDisableForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired("enter your password")])
    code = StringField("Current code", validators=[DataRequired("enter the 6-digit code")])


class UserCreateForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("enter an e-mail address"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("choose a password")])
    role = SelectField("Role", choices=options(ROLES), default="admin")


class UserUpdateForm(FlaskForm):
    role = SelectField("Role", choices=options(ROLES))
    active = SelectField("Account", choices=options([("1", "active"), ("0", "deactivated")]))

